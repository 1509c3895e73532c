import { assert } from '../../core/assert.js'
import { type Index, NO_NODE, type NodeId, type ReadId, type Term } from '../../core/ids.js'
import type { Rng } from '../../core/rng.js'
import { decodeMemberChange, encodeMemberChange } from '../codec.js'
import type {
  Engine,
  Entry,
  EntryType,
  HardState,
  MemberChange,
  Membership,
  ProposeResult,
  ReadState,
  Ready,
  Role,
  Snapshot,
  Status,
} from '../engine.js'
import { RaftLog } from './log.js'
import { applyMemberChange, isJoint, isVoter } from './membership.js'
import type {
  MsgApp,
  MsgAppResp,
  MsgHeartbeat,
  MsgHeartbeatResp,
  MsgReadIndexResp,
  MsgSnap,
  MsgVote,
  MsgVoteResp,
  RaftMessage,
} from './messages.js'
import { type RaftOptions, validateRaftOptions } from './options.js'
import type { Progress } from './progress.js'
import { ReadOnly } from './read-only.js'
import type { RaftInspection, RaftStart } from './start.js'
import { ProgressTracker } from './tracker.js'

const ZERO_TERM = 0 as Term
const ZERO_INDEX = 0 as Index
const EMPTY = new Uint8Array(0)
/** SNAPSHOT_RETRY_ROUNDS: election timeouts a leader waits for a snapshot's answer before retrying. */
const SNAPSHOT_RETRY_ROUNDS = 2

/**
 * RaftEngine is Raft (Ongaro & Ousterhout 2014; Ongaro's dissertation 2014) as a pure state
 * machine behind the engine contract, in the shape of etcd's raft package: pre-vote (§9.6),
 * check-quorum (§6.2), pipelined replication with flow control, ReadIndex and lease reads (§6.4),
 * snapshots (§5), joint-consensus membership changes (§4.3) with learners, and leadership
 * transfer (§3.10). See DESIGN.md in this folder for the state diagram and the trace legend.
 */
export class RaftEngine implements Engine<RaftMessage> {
  readonly id: NodeId
  private readonly opts: RaftOptions
  private readonly rng: Rng

  // Durable state (HardState) — Invariant: never handed to peers before the host persisted it.
  private term: Term = ZERO_TERM
  private vote: NodeId = NO_NODE
  private readonly log: RaftLog

  // Volatile state.
  private role: Role = 'follower'
  private lead: NodeId = NO_NODE
  private readonly tracker: ProgressTracker
  /** Ticks since the last election timeout reset (followers, candidates) or check-quorum (leader). */
  private electionElapsed = 0
  private heartbeatElapsed = 0
  private randomizedElectionTicks = 0
  /** startupQuiet: in lease mode, refuse votes for one election timeout after a restart. */
  private startupQuiet: boolean
  private leadTransferee: NodeId = NO_NODE
  /** pendingConfIndex: a leader proposes no config change until it has applied this index. */
  private pendingConfIndex: Index = ZERO_INDEX
  private uncommittedBytes = 0
  /** leaderTicks counts a leader's ticks; lease times are measured in it. */
  private leaderTicks = 0
  private readOnly = new ReadOnly()
  /** Reads that arrived before the leader committed an entry of its term (§6.4 step 1). */
  private readsBeforeCommit: { id: ReadId; from: NodeId }[] = []
  /** Reads this follower forwarded to the leader and is waiting for. */
  private forwardedReads = new Set<ReadId>()

  // Output gathered for the next Ready.
  private msgs: RaftMessage[] = []
  private readStates: ReadState[] = []
  private readsDropped: ReadId[] = []
  private persistedHardState: HardState
  private reportedRole: Role = 'follower'
  private reportedLead: NodeId = NO_NODE
  private outstanding: Ready<RaftMessage> | undefined

  constructor(opts: RaftOptions, start: RaftStart) {
    validateRaftOptions(opts)
    this.opts = opts
    this.rng = opts.rng
    this.id = start.id
    this.tracker = new ProgressTracker(opts.inflightMsgsMax, opts.inflightBytesMax)
    this.persistedHardState = start.hardState ?? { term: ZERO_TERM, vote: NO_NODE, commit: ZERO_INDEX }
    if (start.bootstrap) {
      assert(!start.hardState && !start.snapshot && !start.entries?.length, 'raft: bootstrap needs an empty disk')
      this.log = new RaftLog(undefined, [], ZERO_INDEX, ZERO_INDEX)
      this.log.append(bootstrapEntries(start.bootstrap))
      this.log.commitTo(this.log.lastIndex())
      this.term = 1 as Term
    } else {
      const hs = this.persistedHardState
      const snapIndex = start.snapshot?.meta.index ?? ZERO_INDEX
      this.log = new RaftLog(start.snapshot, start.entries ?? [], hs.commit, start.applied ?? snapIndex)
      this.term = hs.term
      this.vote = hs.vote
      if (start.snapshot) this.tracker.setMembership(start.snapshot.meta.membership, this.log.lastIndex())
      // Config entries the host's state machine already reflects are in force now.
      for (let i = snapIndex + 1; i <= this.log.applied; i++) this.maybeApplyConfig(this.log.entry(i as Index))
    }
    this.startupQuiet = opts.readMode === 'lease'
    this.becomeFollower(this.term, NO_NODE)
  }

  // ---------------------------------------------------------------------------------------------
  // Role transitions

  /** reset starts a new term (or a new role in the same term): timers, votes and leader state. */
  private reset(term: Term): void {
    if (this.term !== term) {
      this.term = term
      this.vote = NO_NODE
    }
    this.lead = NO_NODE
    this.electionElapsed = 0
    this.heartbeatElapsed = 0
    this.randomizedElectionTicks = this.rng.int(this.opts.electionTicks, 2 * this.opts.electionTicks - 1)
    this.leadTransferee = NO_NODE
    this.tracker.resetVotes()
    this.pendingConfIndex = ZERO_INDEX
    this.uncommittedBytes = 0
    this.dropPendingReads()
  }

  private dropPendingReads(): void {
    for (const r of this.readOnly.takeAll()) if (r.from === this.id) this.readsDropped.push(r.id)
    for (const r of this.readsBeforeCommit) if (r.from === this.id) this.readsDropped.push(r.id)
    this.readsBeforeCommit = []
    for (const id of this.forwardedReads) this.readsDropped.push(id)
    this.forwardedReads.clear()
    this.readOnly = new ReadOnly()
  }

  private becomeFollower(term: Term, lead: NodeId): void {
    this.reset(term)
    this.role = 'follower'
    this.lead = lead
  }

  private becomePreCandidate(): void {
    assert(this.role !== 'leader', 'raft: leader cannot become pre-candidate')
    // Pre-vote changes neither term nor vote: a node that cannot win disturbs nobody (§9.6).
    this.role = 'pre-candidate'
    this.lead = NO_NODE
    this.tracker.resetVotes()
    this.dropPendingReads()
  }

  private becomeCandidate(): void {
    assert(this.role !== 'leader', 'raft: leader cannot become candidate')
    this.reset((this.term + 1) as Term)
    this.vote = this.id
    this.role = 'candidate'
  }

  private becomeLeader(): void {
    assert(this.role === 'candidate', 'raft: only a candidate becomes leader')
    this.reset(this.term)
    this.role = 'leader'
    this.lead = this.id
    this.leaderTicks = 0
    this.tracker.resetProgress(this.log.lastIndex())
    const self = this.tracker.progress.get(this.id)
    assert(self, 'raft: leader must be a member')
    self.match = this.log.stable
    self.becomeReplicate()
    // Entries from earlier terms may hold a config change not yet applied; wait for them.
    this.pendingConfIndex = this.log.lastIndex()
    // A no-op of our own term commits everything before it (§5.4.2) and unblocks reads (§6.4).
    this.appendEntries([{ type: 'normal', data: EMPTY }])
    this.bcastAppend()
  }

  private promotable(): boolean {
    return this.tracker.isVoter(this.id)
  }

  // ---------------------------------------------------------------------------------------------
  // Time

  tick(): void {
    if (this.role === 'leader') this.tickHeartbeat()
    else this.tickElection()
  }

  private tickElection(): void {
    this.electionElapsed++
    if (this.electionElapsed >= this.opts.electionTicks) this.startupQuiet = false
    if (this.promotable() && this.electionElapsed >= this.randomizedElectionTicks) {
      this.electionElapsed = 0
      this.hup(false)
    }
  }

  private tickHeartbeat(): void {
    this.heartbeatElapsed++
    this.electionElapsed++
    this.leaderTicks++
    if (this.electionElapsed >= this.opts.electionTicks) {
      this.electionElapsed = 0
      if (this.opts.checkQuorum && !this.checkQuorumActive()) {
        this.becomeFollower(this.term, NO_NODE)
        return
      }
      // A transfer that has not finished within an election timeout is given up (§3.10).
      this.leadTransferee = NO_NODE
      this.retryLostSnapshots()
    }
    if (this.heartbeatElapsed >= this.opts.heartbeatTicks) {
      this.heartbeatElapsed = 0
      this.bcastHeartbeat()
    }
  }

  /** checkQuorumActive: did a quorum answer us since the last check? Resets the marks (§6.2). */
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
  // Elections

  /** campaign starts an election now (etcd's MsgHup), if this node may lead. */
  campaign(): void {
    this.hup(false)
  }

  private hup(transfer: boolean): void {
    if (this.role === 'leader' || !this.promotable() || this.hasUnappliedConfig()) return
    if (this.opts.preVote && !transfer) this.startCampaign('pre', false)
    else this.startCampaign('vote', transfer)
  }

  /** hasUnappliedConfig: a committed config entry is not applied yet, so our config may be stale. */
  private hasUnappliedConfig(): boolean {
    for (let i = this.log.applied + 1; i <= this.log.committed; i++) {
      if (this.log.entry(i as Index)?.type === 'config') return true
    }
    return false
  }

  private startCampaign(kind: 'pre' | 'vote', transfer: boolean): void {
    if (kind === 'pre') this.becomePreCandidate()
    else this.becomeCandidate()
    const voteTerm = (kind === 'pre' ? this.term + 1 : this.term) as Term
    this.tracker.recordVote(this.id, true)
    if (this.tracker.voteResult() === 'won') {
      // A single-voter group wins at once.
      if (kind === 'pre') this.startCampaign('vote', transfer)
      else this.becomeLeader()
      return
    }
    const m = this.tracker.membership
    const voters = new Set([...m.voters, ...m.votersOutgoing])
    for (const to of voters) {
      if (to === this.id) continue
      this.send({
        type: kind === 'pre' ? 'MsgPreVote' : 'MsgVote',
        from: this.id,
        to,
        term: voteTerm,
        lastIndex: this.log.lastIndex(),
        lastTerm: this.log.lastTerm(),
        transfer,
      })
    }
  }

  /** inLease: we heard from a live leader recently, so a vote now would depose it needlessly. */
  private inLease(): boolean {
    if (!this.opts.checkQuorum) return false
    if (this.startupQuiet) return true
    return this.lead !== NO_NODE && this.electionElapsed < this.opts.electionTicks
  }

  private handleVoteRequest(m: MsgVote): void {
    const pre = m.type === 'MsgPreVote'
    const canVote =
      this.vote === m.from || (this.vote === NO_NODE && this.lead === NO_NODE) || (pre && m.term > this.term)
    const respType = pre ? 'MsgPreVoteResp' : 'MsgVoteResp'
    if (canVote && this.log.isUpToDate(m.lastIndex, m.lastTerm)) {
      // Reference: Raft §5.2, §5.4.1 — one vote per term, only for a log at least as up to date.
      this.send({ type: respType, from: this.id, to: m.from, term: m.term, reject: false })
      if (!pre) {
        this.electionElapsed = 0
        this.vote = m.from
      }
    } else {
      this.send({ type: respType, from: this.id, to: m.from, term: this.term, reject: true })
    }
  }

  private handleVoteResponse(m: MsgVoteResp): void {
    const expected = this.role === 'pre-candidate' ? 'MsgPreVoteResp' : 'MsgVoteResp'
    if (m.type !== expected) return
    this.tracker.recordVote(m.from, !m.reject)
    switch (this.tracker.voteResult()) {
      case 'won':
        if (this.role === 'pre-candidate') this.startCampaign('vote', false)
        else this.becomeLeader()
        break
      case 'lost':
        this.becomeFollower(this.term, NO_NODE)
        break
      case 'pending':
        break
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Messages

  step(m: RaftMessage): void {
    if (m.to !== this.id || m.from === this.id || !wellFormed(m)) return
    if (m.term > this.term) {
      if (m.type === 'MsgVote' || m.type === 'MsgPreVote') {
        // A transfer's campaign may break the lease: the old leader asked for it (§3.10).
        if (!m.transfer && this.inLease()) return
      }
      if (m.type === 'MsgPreVote') {
        // Answer without changing term: a pre-vote is only a question.
      } else if (m.type === 'MsgPreVoteResp' && !m.reject) {
        // A granted pre-vote carries the term we would campaign in; it is not a newer term yet.
      } else {
        const leaderMsg = m.type === 'MsgApp' || m.type === 'MsgHeartbeat' || m.type === 'MsgSnap'
        this.becomeFollower(m.term, leaderMsg ? m.from : NO_NODE)
      }
    } else if (m.term < this.term) {
      this.stepStale(m)
      return
    }
    switch (m.type) {
      case 'MsgVote':
      case 'MsgPreVote':
        this.handleVoteRequest(m)
        return
      default:
        break
    }
    switch (this.role) {
      case 'leader':
        this.stepLeader(m)
        break
      case 'candidate':
      case 'pre-candidate':
        this.stepCandidate(m)
        break
      case 'follower':
        this.stepFollower(m)
        break
    }
  }

  /** stepStale answers a message from an older term, where an answer helps the sender. */
  private stepStale(m: RaftMessage): void {
    if ((this.opts.checkQuorum || this.opts.preVote) && (m.type === 'MsgApp' || m.type === 'MsgHeartbeat')) {
      // A deposed leader cut off by pre-vote would never hear our term otherwise: tell it.
      this.send({
        type: 'MsgAppResp',
        from: this.id,
        to: m.from,
        term: this.term,
        index: ZERO_INDEX,
        reject: false,
        hintIndex: ZERO_INDEX,
        hintTerm: ZERO_TERM,
      })
    } else if (m.type === 'MsgPreVote') {
      this.send({ type: 'MsgPreVoteResp', from: this.id, to: m.from, term: this.term, reject: true })
    }
  }

  private stepLeader(m: RaftMessage): void {
    switch (m.type) {
      case 'MsgAppResp':
        this.handleAppendResponse(m)
        break
      case 'MsgHeartbeatResp':
        this.handleHeartbeatResponse(m)
        break
      case 'MsgReadIndex':
        if (this.tracker.progress.has(m.from)) this.leaderRead(m.readId, m.from)
        break
      default:
        break
    }
  }

  private stepCandidate(m: RaftMessage): void {
    switch (m.type) {
      case 'MsgApp':
      case 'MsgHeartbeat':
      case 'MsgSnap':
        // Someone won this term (§5.2): follow it.
        this.becomeFollower(m.term, m.from)
        this.stepFollower(m)
        break
      case 'MsgVoteResp':
      case 'MsgPreVoteResp':
        this.handleVoteResponse(m)
        break
      default:
        break
    }
  }

  private stepFollower(m: RaftMessage): void {
    switch (m.type) {
      case 'MsgApp':
        this.heardFromLeader(m.from)
        this.handleAppendEntries(m)
        break
      case 'MsgHeartbeat':
        this.heardFromLeader(m.from)
        this.handleHeartbeat(m)
        break
      case 'MsgSnap':
        this.heardFromLeader(m.from)
        this.handleSnapshot(m)
        break
      case 'MsgTimeoutNow':
        // The leader hands over to us (§3.10): campaign at once, skipping pre-vote.
        this.hup(true)
        break
      case 'MsgReadIndexResp':
        this.handleReadIndexResponse(m)
        break
      default:
        break
    }
  }

  private heardFromLeader(from: NodeId): void {
    this.electionElapsed = 0
    this.lead = from
  }

  private send(m: RaftMessage): void {
    this.msgs.push(m)
  }

  // ---------------------------------------------------------------------------------------------
  // Replication: follower side (§5.3)

  private handleAppendEntries(m: MsgApp): void {
    const reply = (index: Index, reject: boolean, hintIndex = ZERO_INDEX, hintTerm = ZERO_TERM) =>
      this.send({ type: 'MsgAppResp', from: this.id, to: m.from, term: this.term, index, reject, hintIndex, hintTerm })
    if (m.prevIndex < this.log.committed) {
      reply(this.log.committed, false)
      return
    }
    const lastNew = this.log.maybeAppend(m.prevIndex, m.prevTerm, m.commit, m.entries)
    if (lastNew !== undefined) {
      reply(lastNew, false)
      return
    }
    const hint = this.log.findConflictByTerm(Math.min(m.prevIndex, this.log.lastIndex()) as Index, m.prevTerm)
    reply(m.prevIndex, true, hint.index, hint.term)
  }

  private handleHeartbeat(m: MsgHeartbeat): void {
    // The leader sends min(commit, our match), so our log holds every entry up to m.commit.
    this.log.commitTo(Math.min(m.commit, this.log.lastIndex()) as Index)
    this.send({ type: 'MsgHeartbeatResp', from: this.id, to: m.from, term: this.term, readSeq: m.readSeq })
  }

  private handleSnapshot(m: MsgSnap): void {
    const meta = m.snapshot.meta
    let index: Index
    if (meta.index <= this.log.committed) {
      index = this.log.committed
    } else if (this.log.matchTerm(meta.index, meta.term)) {
      // We hold the snapshot's last entry: everything up to it matches, nothing to install.
      this.log.commitTo(meta.index)
      index = this.log.lastIndex()
    } else {
      this.log.restore(m.snapshot)
      this.tracker.setMembership(meta.membership, this.log.lastIndex())
      index = this.log.lastIndex()
    }
    this.send({
      type: 'MsgAppResp',
      from: this.id,
      to: m.from,
      term: this.term,
      index,
      reject: false,
      hintIndex: ZERO_INDEX,
      hintTerm: ZERO_TERM,
    })
  }

  // ---------------------------------------------------------------------------------------------
  // Replication: leader side

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
  private bcastAppend(): void {
    for (const id of this.tracker.progress.keys()) {
      if (id === this.id) continue
      this.sendAppend(id)
    }
  }

  /** sendAppend sends `to` one MsgApp (even an empty one, to carry the commit index), then more while allowed. */
  private sendAppend(to: NodeId): void {
    if (!this.maybeSendAppend(to, true)) return
    while (this.maybeSendAppend(to, false)) {
      // Pipelining: keep sending while the follower is in replicate state and has room.
    }
  }

  private maybeSendAppend(to: NodeId, sendIfEmpty: boolean): boolean {
    const pr = this.tracker.progress.get(to)
    if (!pr || pr.isPaused()) return false
    const prevIndex = (pr.next - 1) as Index
    const prevTerm = this.log.term(prevIndex)
    if (prevTerm === undefined) return this.sendSnapshot(to, pr)
    const last = this.log.lastIndex()
    const entries = pr.next <= last ? this.log.slice(pr.next, (last + 1) as Index, this.opts.msgBytesMax) : []
    if (entries.length === 0 && !sendIfEmpty) return false
    const lastSent = entries.length > 0 ? (entries[entries.length - 1] as Entry).index : prevIndex
    let bytes = 0
    for (const e of entries) bytes += e.data.length
    pr.sentEntries(lastSent, entries.length, bytes)
    this.send({ type: 'MsgApp', from: this.id, to, term: this.term, prevIndex, prevTerm, entries, commit: this.log.committed })
    return true
  }

  private sendSnapshot(to: NodeId, pr: Progress): boolean {
    const snapshot = this.log.snapshot
    assert(snapshot, 'raft: entries were compacted without a snapshot')
    pr.becomeSnapshot(snapshot.meta.index)
    this.send({ type: 'MsgSnap', from: this.id, to, term: this.term, snapshot })
    return false
  }

  private handleAppendResponse(m: MsgAppResp): void {
    const pr = this.tracker.progress.get(m.from)
    if (!pr) return
    pr.recentActive = true
    if (m.reject) {
      // Fast backtracking (§5.3): skip every entry of the follower's conflicting term at once.
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
      if (wasPaused && !pr.isPaused()) this.sendAppend(m.from)
      return
    }
    switch (pr.state) {
      case 'probe':
        pr.becomeReplicate()
        break
      case 'snapshot':
        if (pr.match >= pr.pendingSnapshot) {
          pr.becomeProbe()
          pr.becomeReplicate()
        }
        break
      case 'replicate':
        pr.inflights.freeLE(m.index)
        break
    }
    if (this.maybeCommit()) this.bcastAppend()
    else this.sendAppend(m.from)
    if (m.from === this.leadTransferee && pr.match === this.log.lastIndex()) this.sendTimeoutNow(m.from)
  }

  /**
   * maybeCommit advances the commit index to what a quorum has matched — but only to an entry of
   * the leader's own term: counting replicas of an older term's entry is unsafe (Raft §5.4.2,
   * Figure 8); such entries commit indirectly with the first entry of the current term.
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

  private committedInTerm(): boolean {
    return this.log.term(this.log.committed) === this.term
  }

  private bcastHeartbeat(): void {
    const round = this.readOnly.startRound(this.leaderTicks)
    this.readOnly.recordAck(this.id, round)
    for (const [id, pr] of this.tracker.progress) {
      if (id === this.id) continue
      const commit = Math.min(pr.match, this.log.committed) as Index
      this.send({ type: 'MsgHeartbeat', from: this.id, to: id, term: this.term, commit, readSeq: round })
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

  readBarrier(id: ReadId): void {
    if (this.role === 'leader') {
      this.leaderRead(id, this.id)
    } else if (this.lead !== NO_NODE) {
      this.forwardedReads.add(id)
      this.send({ type: 'MsgReadIndex', from: this.id, to: this.lead, term: this.term, readId: id })
    } else {
      this.readsDropped.push(id)
    }
  }

  private leaderRead(id: ReadId, from: NodeId): void {
    if (this.opts.testingBugs?.readWithoutBarrier) {
      this.respondRead(id, from, this.log.committed)
      return
    }
    if (!this.committedInTerm()) {
      // Our commit index may lag the true one until an entry of our term commits (§6.4 step 1).
      this.readsBeforeCommit.push({ id, from })
      return
    }
    if (this.opts.readMode === 'lease' && this.leaseValid()) {
      this.respondRead(id, from, this.log.committed)
      return
    }
    if (!this.readOnly.addRead(id, from, this.log.committed)) {
      if (from === this.id) this.readsDropped.push(id)
    }
  }

  private leaseValid(): boolean {
    const expiry = this.readOnly.leaseStartTick + this.opts.electionTicks - this.opts.leaseDriftTicks
    return this.leadTransferee === NO_NODE && this.leaderTicks < expiry
  }

  private releaseReadsBeforeCommit(): void {
    if (this.readsBeforeCommit.length === 0 || !this.committedInTerm()) return
    const waiting = this.readsBeforeCommit
    this.readsBeforeCommit = []
    for (const r of waiting) this.leaderRead(r.id, r.from)
  }

  /** releaseReads serves every read whose heartbeat round a quorum has acknowledged. */
  private releaseReads(): void {
    const round = this.tracker.ackedQuorum((id) => this.readOnly.ackedRound(id))
    if (!Number.isFinite(round)) return
    for (const r of this.readOnly.advanceQuorumRound(round)) this.respondRead(r.id, r.from, r.index)
  }

  private respondRead(id: ReadId, from: NodeId, index: Index): void {
    if (from === this.id) this.readStates.push({ id, index })
    else this.send({ type: 'MsgReadIndexResp', from: this.id, to: from, term: this.term, readId: id, index })
  }

  private handleReadIndexResponse(m: MsgReadIndexResp): void {
    if (!this.forwardedReads.delete(m.readId)) return
    this.readStates.push({ id: m.readId, index: m.index })
  }

  // ---------------------------------------------------------------------------------------------
  // Proposals and membership

  propose(cmds: readonly Uint8Array[]): ProposeResult {
    assert(cmds.length > 0, 'raft: propose needs at least one command')
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
    if (this.role !== 'leader') return { ok: false, error: { code: 'not-leader', leaderHint: this.lead } }
    if (this.leadTransferee !== NO_NODE) {
      return { ok: false, error: { code: 'transferring-leadership', leaderHint: this.leadTransferee } }
    }
    return undefined
  }

  changeMembers(change: MemberChange): ProposeResult {
    const refused = this.refuseProposal()
    if (refused) return refused
    if (this.pendingConfIndex > this.log.applied) return { ok: false, error: { code: 'config-change-pending' } }
    const outcome = applyMemberChange(this.tracker.membership, change)
    if (!outcome.ok) return { ok: false, error: { code: 'invalid-config-change', reason: outcome.reason } }
    const firstIndex = this.appendEntries([{ type: 'config', data: encodeMemberChange(change) }])
    this.pendingConfIndex = firstIndex
    this.bcastAppend()
    return { ok: true, term: this.term, firstIndex }
  }

  private maybeApplyConfig(e: Entry | undefined): void {
    if (e?.type !== 'config') return
    const outcome = applyMemberChange(this.tracker.membership, decodeMemberChange(e.data))
    // An invalid change is refused identically on every replica, so it is simply skipped.
    if (outcome.ok) this.switchToConfig(outcome.membership)
  }

  private switchToConfig(m: Membership): void {
    this.tracker.setMembership(m, this.log.lastIndex())
    if (this.role !== 'leader') return
    if (!isVoter(m, this.id)) {
      this.stepDownRemovedLeader()
      return
    }
    if (this.leadTransferee !== NO_NODE && !isVoter(m, this.leadTransferee)) this.leadTransferee = NO_NODE
    // The quorum changed: entries may be committed now, and new members need entries.
    this.maybeCommit()
    this.bcastAppend()
    this.releaseReads()
  }

  /** maybeAutoLeave: a leader leaves an auto-leave joint configuration once it is applied. */
  private maybeAutoLeave(): void {
    const m = this.tracker.membership
    if (this.role !== 'leader' || !isJoint(m) || !m.autoLeave || this.log.applied < this.pendingConfIndex) return
    if (this.leadTransferee !== NO_NODE) return
    this.pendingConfIndex = this.appendEntries([{ type: 'config', data: encodeMemberChange({ changes: [] }) }])
    this.bcastAppend()
  }

  /**
   * stepDownRemovedLeader: the configuration without us is committed, so we stop leading
   * (dissertation §4.2.2), after asking the most caught-up remaining voter to take over at once.
   */
  private stepDownRemovedLeader(): void {
    let best: NodeId = NO_NODE
    let bestMatch = -1
    for (const [id, pr] of this.tracker.progress) {
      if (id !== this.id && !pr.isLearner && pr.match > bestMatch) {
        best = id
        bestMatch = pr.match
      }
    }
    if (best !== NO_NODE && bestMatch === this.log.lastIndex()) this.sendTimeoutNow(best)
    this.becomeFollower(this.term, NO_NODE)
  }

  // ---------------------------------------------------------------------------------------------
  // Leadership transfer (§3.10)

  transferLeadership(to: NodeId): void {
    if (this.role !== 'leader' || to === this.id || !this.tracker.isVoter(to)) return
    const pr = this.tracker.progress.get(to)
    if (!pr || this.leadTransferee === to) return
    this.leadTransferee = to
    // The transfer must finish within an election timeout or be abandoned.
    this.electionElapsed = 0
    if (pr.match === this.log.lastIndex()) this.sendTimeoutNow(to)
    else this.sendAppend(to)
  }

  private sendTimeoutNow(to: NodeId): void {
    // Whoever we hand over to may be elected before our lease runs out: give the lease up.
    this.readOnly.invalidateLease()
    this.send({ type: 'MsgTimeoutNow', from: this.id, to, term: this.term })
  }

  // ---------------------------------------------------------------------------------------------
  // Snapshots

  compact(snapshot: Snapshot, retainEntries = 0): void {
    assert(snapshot.meta.index <= this.log.applied, 'raft: compact beyond the applied index')
    assert(retainEntries >= 0, 'raft: retainEntries must be >= 0')
    const upTo = Math.max(0, snapshot.meta.index - retainEntries) as Index
    this.log.compact(snapshot, upTo)
  }

  // ---------------------------------------------------------------------------------------------
  // Ready / advance

  private hardState(): HardState {
    const vote = this.opts.testingBugs?.unpersistedVote ? this.persistedHardState.vote : this.vote
    return { term: this.term, vote, commit: this.log.committed }
  }

  private hardStateChanged(): boolean {
    const hs = this.hardState()
    const p = this.persistedHardState
    return hs.term !== p.term || hs.vote !== p.vote || hs.commit !== p.commit
  }

  private committedUpTo(): Index {
    return this.opts.testingBugs?.applyBeforeCommit ? this.log.lastIndex() : this.log.committed
  }

  hasReady(): boolean {
    if (this.outstanding) return false
    if (this.role === 'leader' && this.readOnly.roundWanted) return true
    return (
      this.msgs.length > 0 ||
      this.readStates.length > 0 ||
      this.readsDropped.length > 0 ||
      this.log.pendingSnapshot !== undefined ||
      this.log.stable < this.log.lastIndex() ||
      this.log.applying < this.committedUpTo() ||
      this.hardStateChanged() ||
      this.role !== this.reportedRole ||
      this.lead !== this.reportedLead
    )
  }

  ready(): Ready<RaftMessage> {
    assert(!this.outstanding, 'raft: ready() called again before advance()')
    // Reads that arrived since the last Ready share one heartbeat round (ReadIndex batching).
    if (this.role === 'leader' && this.readOnly.roundWanted) this.bcastHeartbeat()
    const committed = this.log.nextCommitted(this.opts.committedBytesMax, this.committedUpTo())
    const last = committed[committed.length - 1]
    if (last) this.log.acceptApplying(last.index)
    const rd: Ready<RaftMessage> = {
      persist: {
        hardState: this.hardStateChanged() ? this.hardState() : undefined,
        entries: this.log.unstableEntries(),
        snapshot: this.log.pendingSnapshot,
      },
      messages: this.msgs,
      committed,
      reads: this.readStates,
      readsDropped: this.readsDropped,
      status: this.status(),
    }
    this.msgs = []
    this.readStates = []
    this.readsDropped = []
    this.reportedRole = this.role
    this.reportedLead = this.lead
    this.outstanding = rd
    return rd
  }

  advance(rd: Ready<RaftMessage>): void {
    assert(rd === this.outstanding, 'raft: advance() must get the Ready that ready() returned')
    this.outstanding = undefined
    if (rd.persist.hardState) this.persistedHardState = rd.persist.hardState
    const snap = rd.persist.snapshot
    if (snap) {
      if (this.log.pendingSnapshot === snap) this.log.pendingSnapshot = undefined
      this.log.appliedTo(snap.meta.index)
    }
    const lastPersisted = rd.persist.entries[rd.persist.entries.length - 1]
    if (lastPersisted) {
      this.log.stableTo(lastPersisted.index, lastPersisted.term)
      if (this.role === 'leader') this.leaderPersisted()
    }
    for (const e of rd.committed) {
      this.log.appliedTo(e.index)
      this.maybeApplyConfig(e)
    }
    this.maybeAutoLeave()
  }

  /** leaderPersisted: the leader's own entries are durable, so they count toward the quorum. */
  private leaderPersisted(): void {
    const self = this.tracker.progress.get(this.id)
    if (self?.maybeUpdate(this.log.stable) && this.maybeCommit()) this.bcastAppend()
  }

  // ---------------------------------------------------------------------------------------------
  // Observation

  status(): Status {
    return {
      id: this.id,
      role: this.role,
      leader: this.lead,
      term: this.term,
      commit: this.log.committed,
      applied: this.log.applied,
      lastIndex: this.log.lastIndex(),
      membership: this.tracker.membership,
    }
  }

  inspect(): RaftInspection {
    const c = this.log.compacted()
    return {
      id: this.id,
      role: this.role,
      term: this.term,
      vote: this.vote,
      leader: this.lead,
      commit: this.log.committed,
      applied: this.log.applied,
      stableIndex: this.log.stable,
      compactedIndex: c.index,
      compactedTerm: c.term,
      lastIndex: this.log.lastIndex(),
      entries: this.log.all(),
      membership: this.tracker.membership,
      leadTransferee: this.leadTransferee,
    }
  }

  /** progressOf exposes the leader's view of a follower, for tests and status pages. */
  progressOf(id: NodeId): Readonly<Progress> | undefined {
    return this.role === 'leader' ? this.tracker.progress.get(id) : undefined
  }
}

/** bootstrapEntries: a new cluster's log starts with one config entry per initial voter, at term 1. */
export function bootstrapEntries(voters: readonly NodeId[]): Entry[] {
  assert(voters.length > 0, 'raft: bootstrap needs at least one voter')
  assert(new Set(voters).size === voters.length, 'raft: bootstrap voters must be distinct')
  return voters.map((node, k) => ({
    term: 1 as Term,
    index: (k + 1) as Index,
    type: 'config' as const,
    data: encodeMemberChange({ changes: [{ op: 'addVoter', node }] }),
  }))
}

/**
 * wellFormed rejects messages no correct peer sends (entries that do not follow prevIndex, or
 * whose terms go backwards or exceed the sender's), so a corrupted peer cannot trip an assertion.
 */
function wellFormed(m: RaftMessage): boolean {
  if (m.type !== 'MsgApp') return true
  let prevTerm = m.prevTerm
  for (let k = 0; k < m.entries.length; k++) {
    const e = m.entries[k] as Entry
    if (e.index !== m.prevIndex + 1 + k || e.term < prevTerm || e.term > m.term) return false
    prevTerm = e.term
  }
  return m.prevTerm <= m.term
}
