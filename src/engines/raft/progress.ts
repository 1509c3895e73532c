import { assert } from '../../core/assert.js'
import type { Index } from '../../core/ids.js'
import { Inflights } from './inflights.js'

/**
 * Progress is the leader's view of one follower (etcd's tracker.Progress).
 *
 *   probe      — we do not know where the follower's log matches ours: send one MsgApp per
 *                heartbeat interval and back off on rejection until it matches;
 *   replicate  — it matches up to `match`: stream entries optimistically, `next` runs ahead of
 *                `match` by up to the in-flight limits (pipelining);
 *   snapshot   — the entries it needs are compacted away: a snapshot is on its way, send nothing
 *                else until it is acknowledged or given up on.
 *
 * Invariant: match < next.
 */
export type ProgressState = 'probe' | 'replicate' | 'snapshot'

export class Progress {
  match = 0 as Index
  next: Index
  state: ProgressState = 'probe'
  /** probeSent: in probe state, a MsgApp is out; wait for its answer or the next heartbeat. */
  probeSent = false
  /** pendingSnapshot: the index of the snapshot being sent, in snapshot state. */
  pendingSnapshot = 0 as Index
  /** snapshotTicks counts ticks in snapshot state, to give up on a lost snapshot. */
  snapshotTicks = 0
  /** recentActive: we heard from the follower since the last check-quorum round. */
  recentActive = false
  readonly inflights: Inflights

  constructor(
    next: Index,
    public isLearner: boolean,
    inflightMsgsMax: number,
    inflightBytesMax: number,
  ) {
    this.next = next
    this.inflights = new Inflights(inflightMsgsMax, inflightBytesMax)
  }

  private resetState(state: ProgressState): void {
    this.state = state
    this.probeSent = false
    this.pendingSnapshot = 0 as Index
    this.snapshotTicks = 0
    this.inflights.reset()
  }

  becomeProbe(): void {
    // Leaving snapshot state, the follower has at least the snapshot (or we gave up on it).
    const from =
      this.state === 'snapshot' ? Math.max(this.match + 1, this.pendingSnapshot + 1) : this.match + 1
    this.resetState('probe')
    this.next = from as Index
  }

  becomeReplicate(): void {
    this.resetState('replicate')
    this.next = (this.match + 1) as Index
  }

  becomeSnapshot(snapshotIndex: Index): void {
    this.resetState('snapshot')
    this.pendingSnapshot = snapshotIndex
  }

  /** maybeUpdate records an acknowledgement up to n; says whether match moved. */
  maybeUpdate(n: Index): boolean {
    let updated = false
    if (this.match < n) {
      this.match = n
      updated = true
      this.probeSent = false
    }
    if (this.next < n + 1) this.next = (n + 1) as Index
    return updated
  }

  /** sentEntries notes a MsgApp that carried entries up to lastIndex (optimistic in replicate). */
  sentEntries(lastIndex: Index, entryCount: number, bytes: number): void {
    switch (this.state) {
      case 'replicate':
        if (entryCount > 0) {
          this.next = (lastIndex + 1) as Index
          this.inflights.add(lastIndex, bytes)
        }
        break
      case 'probe':
        this.probeSent = true
        break
      case 'snapshot':
        assert(false, 'progress: sending entries in snapshot state')
    }
  }

  /**
   * maybeDecrTo handles a rejection of a MsgApp at `rejected`, with the follower's hint: returns
   * false if the rejection is stale (an answer to an older message).
   */
  maybeDecrTo(rejected: Index, matchHint: Index): boolean {
    if (this.state === 'replicate') {
      // In replicate state every append after `match` is in flight; only one at match+1.. can
      // be rejected freshly, and that means the follower lost entries: probe from match.
      if (rejected <= this.match) return false
      this.next = (this.match + 1) as Index
      return true
    }
    // In probe state, only a rejection of next-1 is current.
    if (this.next - 1 !== rejected) return false
    this.next = Math.max(Math.min(rejected, matchHint + 1), this.match + 1) as Index
    this.probeSent = false
    return true
  }

  /** isPaused: no MsgApp may be sent now (flow control). */
  isPaused(): boolean {
    switch (this.state) {
      case 'probe':
        return this.probeSent
      case 'replicate':
        return this.inflights.full()
      case 'snapshot':
        return true
    }
  }
}
