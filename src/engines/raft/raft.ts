import { assert } from '../../core/assert.js'
import { type Index, NO_NODE, type NodeId, type ReadId, type Term } from '../../core/ids.js'
import type { Rng } from '../../core/rng.js'
import { decodeMemberChange } from '../codec.js'
import type {
  Engine,
  Entry,
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
import { appendResponse, handleAppendEntries, handleSnapshot } from './follower.js'
import { Leader } from './leader.js'
import { RaftLog } from './log.js'
import { applyMemberChange } from './membership.js'
import {
  type MsgHeartbeat,
  type MsgReadIndexResp,
  type MsgSnap,
  type MsgVote,
  type MsgVoteResp,
  type RaftMessage,
  wellFormed,
} from './messages.js'
import { type RaftOptions, validateRaftOptions } from './options.js'
import type { Progress } from './progress.js'
import { bootstrapEntries, type RaftInspection, type RaftStart } from './start.js'
import { ProgressTracker } from './tracker.js'

const ZERO_TERM = 0 as Term
const ZERO_INDEX = 0 as Index

/**
 * RaftEngine is Raft (Ongaro & Ousterhout 2014; Ongaro's dissertation 2014) as a pure state
 * machine behind the engine contract, in the shape of etcd's raft package: pre-vote (§9.6),
 * check-quorum (§6.2), pipelined replication with flow control, ReadIndex and lease reads (§6.4),
 * snapshots (§5), joint-consensus membership changes (§4.3) with learners, and leadership
 * transfer (§3.10). This file holds what every role shares — terms, elections, the follower's
 * side of replication, Ready/advance; leader.ts holds what only a leader has.
 * See DESIGN.md in this folder for the state diagram.
 */
export class RaftEngine implements Engine<RaftMessage> {
  readonly id: NodeId
  private readonly opts: RaftOptions
  private readonly rng: Rng

  // Durable state (HardState). Invariant: a message never leaves before the state it depends on
  // is on disk — the host persists a Ready before sending its messages.
  private term: Term = ZERO_TERM
  private vote: NodeId = NO_NODE
  private readonly log: RaftLog

  // Volatile state.
  private role: Role = 'follower'
  private lead: NodeId = NO_NODE
  /** leader exists exactly while role === 'leader'. */
  private leader: Leader | undefined
  private readonly tracker: ProgressTracker
  /** Ticks since we last heard from a leader or granted a vote (followers and candidates). */
  private electionElapsed = 0
  private randomizedElectionTicks = 0
  /**
   * leaderContactElapsed: ticks since we last heard from a leader (or led). Unlike electionElapsed
   * it survives role changes, so that campaigning ourselves never makes us forget a live leader.
   */
  private leaderContactElapsed: number
  /** Reads this follower forwarded to the leader and is waiting for. */
  private readonly forwardedReads = new Set<ReadId>()

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
      assert(
        !start.hardState && !start.snapshot && !start.entries?.length,
        'raft: bootstrap needs an empty disk',
      )
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
      for (let i = snapIndex + 1; i <= this.log.applied; i++)
        this.maybeApplyConfig(this.log.entry(i as Index))
    }
    // After a restart we cannot know whom we heard from just before; in lease mode, assume a
    // leader, so that our vote cannot help depose one whose lease still runs.
    this.leaderContactElapsed = opts.readMode === 'lease' ? 0 : opts.electionTicks
    this.becomeFollower(this.term, NO_NODE)
  }

  // ---------------------------------------------------------------------------------------------
  // Role transitions

  /** reset starts a new term (or a new role in the same term): timers, votes, leader state. */
  private reset(term: Term): void {
    if (this.term !== term) {
      this.term = term
      this.vote = NO_NODE
    }
    this.lead = NO_NODE
    this.electionElapsed = 0
    this.randomizedElectionTicks = this.rng.int(this.opts.electionTicks, 2 * this.opts.electionTicks - 1)
    this.tracker.resetVotes()
    if (this.leader) {
      // A leader that steps down no longer relies on a lease, so it may vote at once.
      this.leader.stepDown()
      this.leader = undefined
      this.leaderContactElapsed = this.opts.electionTicks
    }
    this.dropForwardedReads()
  }

  private dropForwardedReads(): void {
    for (const id of this.forwardedReads) this.readsDropped.push(id)
    this.forwardedReads.clear()
  }

  private becomeFollower(term: Term, lead: NodeId): void {
    this.reset(term)
    this.role = 'follower'
    this.lead = lead
  }

  private becomePreCandidate(): void {
    assert(this.role !== 'leader', 'raft: a leader cannot become pre-candidate')
    // Pre-vote changes neither term nor vote: a node that cannot win disturbs nobody (§9.6).
    this.role = 'pre-candidate'
    this.lead = NO_NODE
    this.tracker.resetVotes()
    this.dropForwardedReads()
  }

  private becomeCandidate(): void {
    assert(this.role !== 'leader', 'raft: a leader cannot become candidate')
    this.reset((this.term + 1) as Term)
    this.vote = this.id
    this.role = 'candidate'
  }

  private becomeLeader(): void {
    assert(this.role === 'candidate', 'raft: only a candidate becomes leader')
    this.reset(this.term)
    this.role = 'leader'
    this.lead = this.id
    this.leader = new Leader({
      id: this.id,
      term: this.term,
      opts: this.opts,
      log: this.log,
      tracker: this.tracker,
      send: (m) => this.send(m),
      readReady: (id, index) => this.readStates.push({ id, index }),
      readDropped: (id) => this.readsDropped.push(id),
    })
  }

  private promotable(): boolean {
    return this.tracker.isVoter(this.id)
  }

  // ---------------------------------------------------------------------------------------------
  // Time

  tick(): void {
    if (this.leader) {
      if (this.leader.tick() === 'step-down') this.becomeFollower(this.term, NO_NODE)
      return
    }
    this.leaderContactElapsed++
    this.electionElapsed++
    if (this.promotable() && this.electionElapsed >= this.randomizedElectionTicks) {
      this.electionElapsed = 0
      this.hup(false)
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Elections

  /** campaign starts an election now (etcd's MsgHup), if this node may lead. */
  campaign(): void {
    this.hup(false)
  }

  private hup(transfer: boolean): void {
    // With a committed config entry not yet applied, our idea of the voters may be stale.
    const configPending = this.log.hasConfigEntry((this.log.applied + 1) as Index, this.log.committed)
    if (this.role === 'leader' || !this.promotable() || configPending) return
    // In lease mode we promised the leader not to vote for anyone — ourselves included — while
    // in its lease; only the leader itself may release us from that (transfer).
    if (this.opts.readMode === 'lease' && !transfer && this.inLease()) return
    if (this.opts.preVote && !transfer) this.startCampaign('pre', false)
    else this.startCampaign('vote', transfer)
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
    const type = kind === 'pre' ? 'MsgPreVote' : 'MsgVote'
    const [lastIndex, lastTerm] = [this.log.lastIndex(), this.log.lastTerm()]
    const m = this.tracker.membership
    for (const to of new Set([...m.voters, ...m.votersOutgoing])) {
      if (to !== this.id)
        this.send({ type, from: this.id, to, term: voteTerm, lastIndex, lastTerm, transfer })
    }
  }

  /**
   * inLease: we heard from a live leader within the minimum election timeout, so we disregard
   * vote requests (dissertation §4.2.3); this is also what a pre-vote asks (§9.6), and what lets
   * a leader trust its lease (§6.4.1).
   */
  private inLease(): boolean {
    return this.leader !== undefined || this.leaderContactElapsed < this.opts.electionTicks
  }

  /**
   * disregardsVote: in a live leader's lease we neither grant a vote nor adopt its term — for
   * pre-votes always (§9.6 asks exactly this), for votes with check-quorum (§4.2.3, as etcd),
   * which is what makes a leader we hear from one a quorum follows. Transfers are exempt (§3.10).
   */
  private disregardsVote(m: RaftMessage): boolean {
    if (m.type !== 'MsgVote' && m.type !== 'MsgPreVote') return false
    if (m.transfer || !this.inLease()) return false
    return m.type === 'MsgPreVote' || this.opts.checkQuorum
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
      if (this.disregardsVote(m)) {
        // Refusing a pre-vote out loud changes no term and lets the asker give up at once.
        if (m.type === 'MsgPreVote')
          this.send({ type: 'MsgPreVoteResp', from: this.id, to: m.from, term: this.term, reject: true })
        return
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
        if (this.leader?.step(m) === 'step-down') this.becomeFollower(this.term, NO_NODE)
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
    if (m.type === 'MsgApp' || m.type === 'MsgHeartbeat') {
      // Replies carry our term so a deposed leader steps down (§5.1). Since leaders and their
      // followers disregard our vote requests (inLease), this is also how a node whose term ran
      // ahead gets the group to an election it can take part in.
      this.send(appendResponse(m, this.term, ZERO_INDEX))
    } else if (m.type === 'MsgPreVote') {
      this.send({ type: 'MsgPreVoteResp', from: this.id, to: m.from, term: this.term, reject: true })
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
        this.send(handleAppendEntries(this.log, this.term, m))
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
    this.leaderContactElapsed = 0
    this.lead = from
  }

  private send(m: RaftMessage): void {
    this.msgs.push(m)
  }

  // ---------------------------------------------------------------------------------------------
  // Replication: follower side (§5.3)

  private handleHeartbeat(m: MsgHeartbeat): void {
    // The leader sends min(commit, our match), so our log holds every entry up to m.commit.
    this.log.commitTo(Math.min(m.commit, this.log.lastIndex()) as Index)
    this.send({ type: 'MsgHeartbeatResp', from: this.id, to: m.from, term: this.term, readSeq: m.readSeq })
  }

  private handleSnapshot(m: MsgSnap): void {
    const { resp, restored } = handleSnapshot(this.log, this.term, m)
    if (restored) this.tracker.setMembership(m.snapshot.meta.membership, this.log.lastIndex())
    this.send(resp)
  }

  // ---------------------------------------------------------------------------------------------
  // Reads (dissertation §6.4): the leader confirms them; a follower forwards them.

  readBarrier(id: ReadId): void {
    if (this.leader) {
      this.leader.read(id, this.id)
    } else if (this.lead !== NO_NODE) {
      this.forwardedReads.add(id)
      this.send({ type: 'MsgReadIndex', from: this.id, to: this.lead, term: this.term, readId: id })
    } else {
      this.readsDropped.push(id)
    }
  }

  private handleReadIndexResponse(m: MsgReadIndexResp): void {
    if (this.forwardedReads.delete(m.readId)) this.readStates.push({ id: m.readId, index: m.index })
  }

  // ---------------------------------------------------------------------------------------------
  // Proposals, membership, leadership transfer: only a leader acts; others refuse with a hint.

  propose(cmds: readonly Uint8Array[]): ProposeResult {
    assert(cmds.length > 0, 'raft: propose needs at least one command')
    return this.leader ? this.leader.propose(cmds) : this.notLeader()
  }

  changeMembers(change: MemberChange): ProposeResult {
    return this.leader ? this.leader.changeMembers(change) : this.notLeader()
  }

  private notLeader(): ProposeResult {
    return { ok: false, error: { code: 'not-leader', leaderHint: this.lead } }
  }

  transferLeadership(to: NodeId): void {
    this.leader?.transferLeadership(to)
  }

  private maybeApplyConfig(e: Entry | undefined): void {
    if (e?.type !== 'config') return
    const outcome = applyMemberChange(this.tracker.membership, decodeMemberChange(e.data))
    // An invalid change is refused identically on every replica, so it is simply skipped.
    if (outcome.ok) this.switchToConfig(outcome.membership)
  }

  private switchToConfig(m: Membership): void {
    this.tracker.setMembership(m, this.log.lastIndex())
    if (this.leader?.configChanged(m) === 'step-down') this.becomeFollower(this.term, NO_NODE)
  }

  // ---------------------------------------------------------------------------------------------
  // Snapshots

  compact(snapshot: Snapshot, retainEntries = 0): void {
    assert(snapshot.meta.index <= this.log.applied, 'raft: compact beyond the applied index')
    assert(Number.isSafeInteger(retainEntries) && retainEntries >= 0, 'raft: retainEntries must be >= 0')
    this.log.compact(snapshot, Math.max(0, snapshot.meta.index - retainEntries) as Index)
  }

  // ---------------------------------------------------------------------------------------------
  // Ready / advance

  private hardState(): HardState {
    // The planted bug forgets votes across a restart, so a node can vote twice in one term.
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
    return (
      this.msgs.length > 0 ||
      this.readStates.length > 0 ||
      this.readsDropped.length > 0 ||
      this.leader?.wantsHeartbeat() === true ||
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
    this.leader?.flushReads()
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
      this.leader?.persisted()
    }
    for (const e of rd.committed) {
      this.log.appliedTo(e.index)
      this.maybeApplyConfig(e)
    }
    this.leader?.maybeAutoLeave()
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
      ...this.status(),
      vote: this.vote,
      stableIndex: this.log.stable,
      compactedIndex: c.index,
      compactedTerm: c.term,
      entries: this.log.all(),
      leadTransferee: this.leader?.leadTransferee ?? NO_NODE,
    }
  }

  /** progressOf exposes the leader's view of a follower, for tests and status pages. */
  progressOf(id: NodeId): Readonly<Progress> | undefined {
    return this.leader ? this.tracker.progress.get(id) : undefined
  }
}
