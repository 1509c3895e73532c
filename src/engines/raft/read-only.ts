import type { Index, NodeId, ReadId } from '../../core/ids.js'

/** A read barrier waiting for its heartbeat round to be acknowledged by a quorum. */
export interface PendingRead {
  readonly id: ReadId
  /** from: the node that asked (the leader itself, or a follower that forwarded it). */
  readonly from: NodeId
  /** index: the leader's commit index when the read arrived — the read point (§6.4 step 1). */
  readonly index: Index
  /** round: the first heartbeat round sent after the read arrived. */
  readonly round: number
}

/** PENDING_READS_MAX bounds the reads a leader queues; past it new reads are dropped (retry). */
export const PENDING_READS_MAX = 65_536
/** ROUNDS_REMEMBERED_MAX bounds the heartbeat rounds whose send time a leader remembers. */
const ROUNDS_REMEMBERED_MAX = 1024

/**
 * ReadOnly is a leader's ReadIndex machinery (dissertation §6.4), batched: every heartbeat round
 * is numbered, followers echo the number, and once a quorum has echoed round r the leader knows
 * it was still leader when round r was sent — so every read that arrived before round r was sent
 * can be served at the commit index it recorded. Many reads share one round.
 *
 * The same acknowledgements renew the leader lease: if a quorum acknowledged a round sent at
 * tick t, no other leader can be elected before t + electionTicks (followers refuse votes for
 * that long after hearing from us), less the assumed clock drift.
 */
export class ReadOnly {
  private pending: PendingRead[] = []
  /** The last round sent. */
  private round = 0
  private readonly roundSentTick = new Map<number, number>()
  private readonly acks = new Map<NodeId, number>()
  /** The highest round a quorum has acknowledged. */
  private quorumRound = 0
  /** leaseStartTick: when the newest quorum-acknowledged round was sent; -Infinity: no lease. */
  leaseStartTick = Number.NEGATIVE_INFINITY
  /** roundWanted: reads wait for the next round; the leader should send one soon. */
  roundWanted = false

  pendingCount(): number {
    return this.pending.length
  }

  /** addRead queues a read for the next round; returns false if the queue is full. */
  addRead(id: ReadId, from: NodeId, index: Index): boolean {
    if (this.pending.length >= PENDING_READS_MAX) return false
    this.pending.push({ id, from, index, round: this.round + 1 })
    this.roundWanted = true
    return true
  }

  /** startRound numbers a new heartbeat round sent at `tick`. */
  startRound(tick: number): number {
    this.round++
    this.roundSentTick.set(this.round, tick)
    if (this.roundSentTick.size > ROUNDS_REMEMBERED_MAX) {
      this.roundSentTick.delete(this.round - ROUNDS_REMEMBERED_MAX)
    }
    this.roundWanted = false
    return this.round
  }

  currentRound(): number {
    return this.round
  }

  /** recordAck notes that `from` echoed round `round`. */
  recordAck(from: NodeId, round: number): void {
    if (round > this.round) return // not a round we sent: ignore
    if (round > (this.acks.get(from) ?? 0)) this.acks.set(from, round)
  }

  ackedRound(from: NodeId): number {
    return this.acks.get(from) ?? 0
  }

  /**
   * advanceQuorumRound moves the quorum-acknowledged round to `round` and returns the reads that
   * may now be served, oldest first.
   */
  advanceQuorumRound(round: number): PendingRead[] {
    if (round <= this.quorumRound) return []
    this.quorumRound = round
    const sent = this.roundSentTick.get(round)
    if (sent !== undefined && sent > this.leaseStartTick) this.leaseStartTick = sent
    for (const r of [...this.roundSentTick.keys()]) if (r < round) this.roundSentTick.delete(r)
    let k = 0
    while (k < this.pending.length && (this.pending[k] as PendingRead).round <= round) k++
    return this.pending.splice(0, k)
  }

  /** invalidateLease ends the lease, e.g. when handing leadership over. */
  invalidateLease(): void {
    this.leaseStartTick = Number.NEGATIVE_INFINITY
  }

  /** takeAll empties the queue (leadership lost) and returns what was waiting. */
  takeAll(): PendingRead[] {
    const out = this.pending
    this.pending = []
    return out
  }
}
