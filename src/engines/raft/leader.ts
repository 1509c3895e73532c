import { assert } from '../../core/assert.js'
import { type Index, NO_NODE, type NodeId, type ReadId, type Term } from '../../core/ids.js'
import { encodeMemberChange } from '../codec.js'
import type { Entry, EntryType, MemberChange, Membership, ProposeResult } from '../engine.js'
import type { RaftLog } from './log.js'
import { applyMemberChange, isJoint, isVoter } from './membership.js'
import type { MsgAppResp, MsgHeartbeatResp, RaftMessage } from './messages.js'
import type { RaftOptions } from './options.js'
import type { Progress } from './progress.js'
import { ReadOnly } from './read-only.js'
import type { ProgressTracker } from './tracker.js'

const EMPTY = new Uint8Array(0)
/** SNAPSHOT_RETRY_ROUNDS: election timeouts a leader waits for a snapshot's answer before retrying. */
const SNAPSHOT_RETRY_ROUNDS = 2

/** LeaderContext is what a Leader borrows from its engine for the length of its term. */
export interface LeaderContext {
  readonly id: NodeId
  readonly term: Term
  readonly opts: RaftOptions
  readonly log: RaftLog
  readonly tracker: ProgressTracker
  send(m: RaftMessage): void
  /** readReady grants a local read barrier at `index`. */
  readReady(id: ReadId, index: Index): void
  /** readDropped reports a local read barrier that cannot be granted. */
  readDropped(id: ReadId): void
}

/**
 * Leader is the state and behaviour a node has only while it leads one term: the progress of
 * every follower, replication with flow control (§5.3), the commit rule (§5.4.2), read barriers
 * (§6.4), check-quorum (§6.2), leadership transfer (§3.10) and the proposal of configuration
 * changes (§4). It is created by becoming leader and thrown away on stepping down, so no
 * leader-only state can leak into a later term.
 */
export class Leader {
  private readonly id: NodeId
  private readonly term: Term
  private readonly opts: RaftOptions
  private readonly log: RaftLog
  private readonly tracker: ProgressTracker
  private readonly readOnly = new ReadOnly()
  /** Reads that arrived before an entry of this term committed (§6.4 step 1). */
  private readsBeforeCommit: { id: ReadId; from: NodeId }[] = []
  /** ticks counts this leader's ticks; lease times are measured in it. */
  private ticks = 0
  private heartbeatElapsed = 0
  private checkQuorumElapsed = 0
  private uncommittedBytes = 0
  /** pendingConfIndex: no config change is proposed until this index is applied. */
  private pendingConfIndex: Index
  /** leadTransferee: the node we are handing leadership to, or NO_NODE. */
  leadTransferee: NodeId = NO_NODE
  /**
   * leaseRevoked: we sent a MsgTimeoutNow this term. However the transfer ends, that message may
   * arrive late and start an election that breaks leases, so no lease read is served again.
   */
  private leaseRevoked = false
  /** removed: the applied configuration has no place for us as a voter; we are handing over. */
  private removed = false

  constructor(private readonly ctx: LeaderContext) {
    this.id = ctx.id
    this.term = ctx.term
    this.opts = ctx.opts
    this.log = ctx.log
    this.tracker = ctx.tracker
    this.tracker.resetProgress(this.log.lastIndex())
    const self = this.tracker.progress.get(this.id)
    assert(self, 'raft: a leader must be a member')
    self.match = this.log.stable
    self.becomeReplicate()
    // Entries of earlier terms may hold a config change not yet applied: wait for them.
    this.pendingConfIndex = this.log.lastIndex()
    // A no-op of our own term commits everything before it (§5.4.2) and unblocks reads (§6.4).
    this.appendEntries([{ type: 'normal', data: EMPTY }])
    this.bcastAppend()
  }

  // ---------------------------------------------------------------------------------------------
  // Time

  /** tick advances the leader's timers; returns 'step-down' if check-quorum failed (§6.2). */
  tick(): 'step-down' | undefined {
    this.ticks++
    this.heartbeatElapsed++
    this.checkQuorumElapsed++
    if (this.checkQuorumElapsed >= this.opts.electionTicks) {
      this.checkQuorumElapsed = 0
      if (this.opts.checkQuorum && !this.checkQuorumActive()) return 'step-down'
      // A transfer that has not finished within an election timeout is given up (§3.10).
      this.leadTransferee = NO_NODE
      this.retryLostSnapshots()
      if (this.removed && this.handOver() === 'step-down') return 'step-down'
    }
    if (this.heartbeatElapsed >= this.opts.heartbeatTicks) {
      this.heartbeatElapsed = 0
      this.bcastHeartbeat()
    }
    return undefined
  }

  /** checkQuorumActive: did a quorum answer us since the last check? Resets the marks. */
  private checkQuorumActive(): boolean {
    const active = this.tracker.quorumActive(this.id)
    for (const [id, pr] of this.tracker.progress) pr.recentActive = id === this.id
    return active
  }

  private retryLostSnapshots(): void {
    for (const pr of this.tracker.progress.values()) {
      if (pr.state === 'snapshot' && ++pr.snapshotTicks >= SNAPSHOT_RETRY_ROUNDS) pr.becomeProbe()
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Messages

  /** step handles a follower's message; returns 'step-down' when a removed leader has handed over. */
  step(m: RaftMessage): 'step-down' | undefined {
    switch (m.type) {
      case 'MsgAppResp':
        return this.handleAppendResponse(m)
      case 'MsgHeartbeatResp':
        this.handleHeartbeatResponse(m)
        break
      case 'MsgReadIndex':
        if (this.tracker.progress.has(m.from)) this.read(m.readId, m.from)
        break
      default:
        // Votes are handled by the engine; other leaders' messages cannot exist in our term.
        break
    }
    return undefined
  }

  // ---------------------------------------------------------------------------------------------
  // Replication (§5.3)

  private appendEntries(ents: readonly { type: EntryType; data: Uint8Array }[]): Index {
    const first = (this.log.lastIndex() + 1) as Index
    const entries: Entry[] = ents.map((e, k) => ({
      term: this.term,
      index: (first + k) as Index,
      type: e.type,
      data: e.data,
    }))
    this.log.append(entries)
    for (const e of entries) this.uncommittedBytes += e.data.length
    return first
  }

  /** bcastAppend sends every follower what it lacks, filling each pipeline up to its limits. */
  bcastAppend(): void {
    for (const id of this.tracker.progress.keys()) {
      if (id !== this.id) this.sendAppend(id)
    }
  }

  /**
   * sendAppend sends `to` what it lacks, as many MsgApps as flow control allows; with
   * sendIfEmpty it sends one even when there is nothing new, to carry the commit index.
   */
  private sendAppend(to: NodeId, sendIfEmpty = true): void {
    if (!this.maybeSendAppend(to, sendIfEmpty)) return
    while (this.maybeSendAppend(to, false)) {
      // Pipelining: keep sending while the follower is in replicate state and has room.
    }
  }

  private maybeSendAppend(to: NodeId, sendIfEmpty: boolean): boolean {
    const pr = this.tracker.progress.get(to)
    if (!pr || pr.isPaused()) return false
    const prevIndex = (pr.next - 1) as Index
    const prevTerm = this.log.term(prevIndex)
    if (prevTerm === undefined) {
      this.sendSnapshot(to, pr)
      return false
    }
    const last = this.log.lastIndex()
    const entries = pr.next <= last ? this.log.slice(pr.next, (last + 1) as Index, this.opts.msgBytesMax) : []
    if (entries.length === 0 && !sendIfEmpty) return false
    const lastSent = entries.length > 0 ? (entries[entries.length - 1] as Entry).index : prevIndex
    let bytes = 0
    for (const e of entries) bytes += e.data.length
    pr.sentEntries(lastSent, entries.length, bytes)
    const commit = this.log.committed
    this.ctx.send({
      type: 'MsgApp',
      from: this.id,
      to,
      term: this.term,
      prevIndex,
      prevTerm,
      entries,
      commit,
    })
    return true
  }

  private sendSnapshot(to: NodeId, pr: Progress): void {
    const snapshot = this.log.snapshot
    assert(snapshot, 'raft: entries were compacted without a snapshot')
    pr.becomeSnapshot(snapshot.meta.index)
    this.ctx.send({ type: 'MsgSnap', from: this.id, to, term: this.term, snapshot })
  }

  private handleAppendResponse(m: MsgAppResp): 'step-down' | undefined {
    const pr = this.tracker.progress.get(m.from)
    if (!pr) return
    pr.recentActive = true
    if (m.reject) {
      // Fast backtracking: skip every entry of the follower's conflicting term at once.
      const hint = m.hintTerm > 0 ? this.log.findConflictByTerm(m.hintIndex, m.hintTerm).index : m.hintIndex
      if (pr.maybeDecrTo(m.index, hint)) {
        if (pr.state === 'replicate') pr.becomeProbe()
        this.sendAppend(m.from)
      }
      return
    }
    const wasPaused = pr.isPaused()
    // A probe answered at exactly our match still proves where the logs agree.
    const probeConfirmed = pr.state === 'probe' && pr.match === m.index
    if (!pr.maybeUpdate(m.index) && !probeConfirmed) {
      if (wasPaused && !pr.isPaused()) this.sendAppend(m.from, false)
      return
    }
    switch (pr.state) {
      case 'probe':
        pr.becomeReplicate()
        break
      case 'snapshot':
        if (pr.match >= pr.pendingSnapshot) pr.becomeReplicate()
        break
      case 'replicate':
        pr.inflights.freeLE(m.index)
        break
    }
    // A follower that was paused missed the last commit broadcast: tell it even with no entries.
    if (this.maybeCommit()) this.bcastAppend()
    else this.sendAppend(m.from, wasPaused)
    if (m.from === this.leadTransferee && pr.match === this.log.lastIndex()) {
      this.sendTimeoutNow(m.from)
      if (this.removed) return 'step-down'
    }
    return undefined
  }

  /** persisted: our own entries are durable up to log.stable, so they count toward the quorum. */
  persisted(): void {
    const self = this.tracker.progress.get(this.id)
    if (self?.maybeUpdate(this.log.stable) && this.maybeCommit()) this.bcastAppend()
  }

  /**
   * maybeCommit advances the commit index to what a quorum has matched — but only to an entry of
   * our own term: counting replicas of an older term's entry is unsafe (Raft §5.4.2, Figure 8);
   * such entries commit indirectly with the first entry of the current term.
   */
  private maybeCommit(): boolean {
    const old = this.log.committed
    const candidate = this.tracker.committedIndex()
    if (candidate <= old) return false
    const ownTerm = this.log.term(candidate) === this.term
    if (!ownTerm && !this.opts.testingBugs?.commitPreviousTermByCount) return false
    this.log.commitTo(candidate)
    this.uncommittedBytes = Math.max(0, this.uncommittedBytes - this.log.bytesBetween(old, candidate))
    this.releaseReadsBeforeCommit()
    return true
  }

  private bcastHeartbeat(): void {
    const round = this.readOnly.startRound(this.ticks)
    this.readOnly.recordAck(this.id, round)
    for (const [id, pr] of this.tracker.progress) {
      if (id === this.id) continue
      const commit = Math.min(pr.match, this.log.committed) as Index
      this.ctx.send({ type: 'MsgHeartbeat', from: this.id, to: id, term: this.term, commit, readSeq: round })
    }
    // A single-voter group confirms its rounds by itself.
    this.releaseReads()
  }

  private handleHeartbeatResponse(m: MsgHeartbeatResp): void {
    const pr = this.tracker.progress.get(m.from)
    if (!pr) return
    pr.recentActive = true
    pr.probeSent = false
    // MsgApps may have been lost; free a slot so the pipeline cannot stay full forever.
    if (pr.state === 'replicate' && pr.inflights.full()) pr.inflights.freeFirst()
    if (pr.match < this.log.lastIndex()) this.sendAppend(m.from)
    if (pr.isLearner) return
    this.readOnly.recordAck(m.from, m.readSeq)
    this.releaseReads()
  }

  // ---------------------------------------------------------------------------------------------
  // Reads (dissertation §6.4)

  /** read handles a read barrier from us (from = our id) or forwarded by a follower. */
  read(id: ReadId, from: NodeId): void {
    if (this.opts.testingBugs?.readWithoutBarrier) {
      this.respondRead(id, from, this.log.committed)
      return
    }
    if (this.log.term(this.log.committed) !== this.term) {
      // Our commit index may lag the true one until an entry of our term commits (§6.4 step 1).
      this.readsBeforeCommit.push({ id, from })
      return
    }
    if (this.opts.readMode === 'lease' && this.leaseValid()) {
      this.respondRead(id, from, this.log.committed)
      return
    }
    if (!this.readOnly.addRead(id, from, this.log.committed) && from === this.id) this.ctx.readDropped(id)
  }

  private leaseValid(): boolean {
    const expiry = this.readOnly.leaseStartTick + this.opts.electionTicks - this.opts.leaseDriftTicks
    return !this.leaseRevoked && this.leadTransferee === NO_NODE && this.ticks < expiry
  }

  private releaseReadsBeforeCommit(): void {
    if (this.readsBeforeCommit.length === 0 || this.log.term(this.log.committed) !== this.term) return
    const waiting = this.readsBeforeCommit
    this.readsBeforeCommit = []
    for (const r of waiting) this.read(r.id, r.from)
  }

  /** releaseReads serves every read whose heartbeat round a quorum has acknowledged. */
  private releaseReads(): void {
    const round = this.tracker.ackedQuorum((id) => this.readOnly.ackedRound(id))
    if (!Number.isFinite(round)) return
    for (const r of this.readOnly.advanceQuorumRound(round)) this.respondRead(r.id, r.from, r.index)
  }

  private respondRead(id: ReadId, from: NodeId, index: Index): void {
    if (from === this.id) this.ctx.readReady(id, index)
    else
      this.ctx.send({ type: 'MsgReadIndexResp', from: this.id, to: from, term: this.term, readId: id, index })
  }

  /** wantsHeartbeat: reads are waiting for a round; the engine sends one before its next Ready. */
  wantsHeartbeat(): boolean {
    return this.readOnly.roundWanted
  }

  /** flushReads sends the heartbeat round that the reads queued since the last Ready share. */
  flushReads(): void {
    if (this.readOnly.roundWanted) this.bcastHeartbeat()
  }

  /** stepDown hands back the reads still waiting: local ones are reported dropped. */
  stepDown(): void {
    const waiting = [...this.readOnly.takeAll(), ...this.readsBeforeCommit]
    this.readsBeforeCommit = []
    for (const r of waiting) if (r.from === this.id) this.ctx.readDropped(r.id)
  }

  // ---------------------------------------------------------------------------------------------
  // Proposals and membership (§4)

  propose(cmds: readonly Uint8Array[]): ProposeResult {
    const refused = this.refuseProposal()
    if (refused) return refused
    let bytes = 0
    for (const c of cmds) bytes += c.length
    if (this.uncommittedBytes > 0 && this.uncommittedBytes + bytes > this.opts.uncommittedBytesMax) {
      return { ok: false, error: { code: 'too-many-uncommitted-bytes' } }
    }
    const firstIndex = this.appendEntries(cmds.map((data) => ({ type: 'normal' as const, data })))
    this.bcastAppend()
    return { ok: true, term: this.term, firstIndex }
  }

  private refuseProposal(): ProposeResult | undefined {
    if (this.leadTransferee === NO_NODE) return undefined
    return { ok: false, error: { code: 'transferring-leadership', leaderHint: this.leadTransferee } }
  }

  changeMembers(change: MemberChange): ProposeResult {
    const refused = this.refuseProposal()
    if (refused) return refused
    if (this.pendingConfIndex > this.log.applied)
      return { ok: false, error: { code: 'config-change-pending' } }
    const outcome = applyMemberChange(this.tracker.membership, change)
    if (!outcome.ok) return { ok: false, error: { code: 'invalid-config-change', reason: outcome.reason } }
    const firstIndex = this.appendEntries([{ type: 'config', data: encodeMemberChange(change) }])
    this.pendingConfIndex = firstIndex
    this.bcastAppend()
    return { ok: true, term: this.term, firstIndex }
  }

  /**
   * configChanged reacts to a newly applied configuration. A configuration without us means we
   * must stop leading (dissertation §4.2.2) — but not by simply stepping down: the remaining
   * voters may not have caught up, and one still in the joint configuration could then never win
   * against the longer logs of nodes that no longer campaign. So we hand over first.
   */
  configChanged(m: Membership): 'step-down' | undefined {
    if (!isVoter(m, this.id)) {
      this.removed = true
      return this.handOver()
    }
    if (this.leadTransferee !== NO_NODE && !isVoter(m, this.leadTransferee)) this.leadTransferee = NO_NODE
    // The quorum changed: entries may be committed now, and new members need entries.
    this.maybeCommit()
    this.bcastAppend()
    this.releaseReads()
    return undefined
  }

  /**
   * handOver, for a removed leader: if a voter has our whole log, tell it to campaign now and
   * step down; otherwise keep leading — refusing proposals, as in a transfer — until the most
   * caught-up voter has caught up (handleAppendResponse then hands over).
   */
  private handOver(): 'step-down' | undefined {
    let best: NodeId = NO_NODE
    let bestMatch = -1
    for (const [id, pr] of this.tracker.progress) {
      if (id !== this.id && !pr.isLearner && pr.match > bestMatch) {
        best = id
        bestMatch = pr.match
      }
    }
    if (best === NO_NODE) return 'step-down'
    if (bestMatch === this.log.lastIndex()) {
      this.sendTimeoutNow(best)
      return 'step-down'
    }
    this.leadTransferee = best
    this.checkQuorumElapsed = 0
    this.sendAppend(best)
    return undefined
  }

  /** maybeAutoLeave leaves an auto-leave joint configuration once it is applied. */
  maybeAutoLeave(): void {
    const m = this.tracker.membership
    if (!isJoint(m) || !m.autoLeave || this.log.applied < this.pendingConfIndex) return
    if (this.leadTransferee !== NO_NODE) return
    this.pendingConfIndex = this.appendEntries([
      { type: 'config', data: encodeMemberChange({ changes: [] }) },
    ])
    this.bcastAppend()
  }

  // ---------------------------------------------------------------------------------------------
  // Leadership transfer (§3.10)

  transferLeadership(to: NodeId): void {
    if (to === this.id || !this.tracker.isVoter(to) || this.leadTransferee === to) return
    const pr = this.tracker.progress.get(to)
    if (!pr) return
    this.leadTransferee = to
    // The transfer must finish within an election timeout or be abandoned.
    this.checkQuorumElapsed = 0
    if (pr.match === this.log.lastIndex()) this.sendTimeoutNow(to)
    else this.sendAppend(to)
  }

  private sendTimeoutNow(to: NodeId): void {
    // Whoever we hand over to may be elected before our lease runs out — even after we give up
    // on the transfer, if this message is delayed: give the lease up for the rest of the term.
    this.leaseRevoked = true
    this.ctx.send({ type: 'MsgTimeoutNow', from: this.id, to, term: this.term })
  }
}
