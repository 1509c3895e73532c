import { type Index, NO_NODE, type NodeId, type ReadId, type Term } from '../../../../src/core/ids.js'
import type { Entry, ReadState, Snapshot, Status } from '../../../../src/engines/engine.js'
import type { RaftMessage } from '../../../../src/engines/raft/messages.js'
import type { RaftInspection } from '../../../../src/engines/raft/start.js'
import type { SimDisk } from './disk.js'
import { commandValue, decodeValues } from './state-machine.js'
import type { Trace } from './trace.js'

/** InvariantViolation is thrown when a safety property or a host duty is broken. */
export class InvariantViolation extends Error {
  override readonly name = 'InvariantViolation'
}

/** fingerprint identifies an entry's content (type and data) cheaply and exactly. */
export function fingerprint(e: Entry): string {
  const d = e.data
  let s = e.type === 'config' ? 'c' : 'n'
  if (d.length <= 256) return s + String.fromCharCode(...d)
  // Long entries: length plus a 53-bit FNV-style hash (a collision could only hide a bug).
  let h1 = 0x811c9dc5
  let h2 = 0x01000193
  for (let i = 0; i < d.length; i++) {
    h1 = Math.imul(h1 ^ (d[i] as number), 0x01000193)
    h2 = Math.imul(h2 ^ (d[i] as number), 0x5bd1e995)
  }
  s += `#${d.length}:${(h1 >>> 0).toString(36)}:${(h2 >>> 0).toString(36)}`
  return s
}

/** A LogPoint is what every log that holds entry (index, term) must agree on. */
interface LogPoint {
  readonly fp: string
  readonly prevTerm: number
  readonly node: NodeId
}

/** A CommittedEntry is the entry that every state machine applies at its index. */
interface CommittedEntry {
  readonly term: Term
  readonly fp: string
  readonly value: string | undefined
  readonly node: NodeId
  /**
   * boundTerm is the observing node's term when the commit was first seen: the term in which
   * the entry was committed is at most this, so every leader of a term >= boundTerm holds it.
   */
  readonly boundTerm: Term
}

interface Floors {
  term: number
  commit: number
}

/**
 * SafetyChecker watches everything the Cluster's hosts see and throws InvariantViolation on the
 * first broken property. It stands outside the engines: it learns only from Readys, status(),
 * inspect() and the simulated disks. Every check names its source.
 */
export class SafetyChecker {
  private readonly leaderOfTerm = new Map<number, NodeId>()
  private readonly points = new Map<number, Map<number, LogPoint>>()
  private readonly committed: (CommittedEntry | undefined)[] = []
  private readonly floors = new Map<NodeId, Floors>()
  private readonly leading = new Map<NodeId, Term>()
  private readonly readFloors = new Map<NodeId, Map<ReadId, Index>>()
  private maxCommitSeen = 0
  private maxCommittedIndex = 0
  /** baseIndex: entries up to here are in the snapshot every node started from (none if 0). */
  baseIndex = 0

  constructor(
    private readonly trace: Trace,
    readonly enabled: boolean,
    private readonly diskOf: (id: NodeId) => SimDisk,
  ) {}

  /** fail throws InvariantViolation naming the invariant, with the end of the trace. */
  fail(invariant: string, detail: string): never {
    throw new InvariantViolation(`${invariant} violated: ${detail}\n${this.trace.tail(40)}`)
  }

  /** failFn is `fail` bound, for the disks. */
  readonly failFn: (invariant: string, detail: string) => never = (i, d) => this.fail(i, d)

  get maxCommit(): number {
    return this.maxCommitSeen
  }

  noteCommit(commit: number): void {
    if (commit > this.maxCommitSeen) this.maxCommitSeen = commit
  }

  /**
   * onPersist checks the entries a node just wrote, from `from` to its last index, against every
   * other log. Each node's log is its disk (after each Ready the engine's log is what the disk
   * holds, checked in onObserve), so checking each write checks every entry any node holds.
   */
  onPersist(id: NodeId, disk: SimDisk, from: Index | undefined): void {
    if (!this.enabled || from === undefined) return
    const last = disk.lastIndex()
    let prevTerm = disk.termAt(Math.max(from, disk.firstIndex()) - 1)
    for (let i = Math.max(from, disk.firstIndex()); i <= last; i++) {
      const e = disk.entryAt(i) as Entry
      this.checkPoint(id, e, prevTerm ?? -1)
      prevTerm = e.term
    }
  }

  // Reference: Raft §5.3 Log Matching — if two logs contain an entry with the same index and
  // term, the logs are identical in all entries up through that index. Checking (content,
  // previous term) for every (index, term) any log holds proves it by induction on the index.
  private checkPoint(id: NodeId, e: Entry, prevTerm: number): void {
    let byTerm = this.points.get(e.index)
    if (!byTerm) {
      byTerm = new Map()
      this.points.set(e.index, byTerm)
    }
    const fp = fingerprint(e)
    const p = byTerm.get(e.term)
    if (!p) {
      byTerm.set(e.term, { fp, prevTerm, node: id })
      return
    }
    if (p.fp !== fp) {
      this.fail(
        'Log Matching (Raft §5.3)',
        `n${id} and n${p.node} hold different entries at ${e.index}@${e.term}`,
      )
    }
    // -1: the previous entry is unknown (compacted away, with entries retained after it).
    if (p.prevTerm !== prevTerm && prevTerm !== -1 && p.prevTerm !== -1) {
      this.fail(
        'Log Matching (Raft §5.3)',
        `n${id} and n${p.node} agree on ${e.index}@${e.term} but not on the entry before it (terms ${prevTerm} vs ${p.prevTerm})`,
      )
    }
  }

  /**
   * onCommitted checks one entry of a node's Ready.committed before the host applies it.
   * `observerTerm` is the node's term in that Ready.
   */
  onCommitted(id: NodeId, e: Entry, observerTerm: Term, disk: SimDisk): void {
    const held = disk.entryAt(e.index)
    if (held !== e && (!held || held.term !== e.term || fingerprint(held) !== fingerprint(e))) {
      this.fail(
        'Ready contract (committed entries are durable)',
        `n${id} was handed ${e.index}@${e.term} to apply, but its disk holds ${held ? `${held.index}@${held.term}` : 'nothing'} there`,
      )
    }
    if (!this.enabled) return
    // Reference: Raft §5.4.3 State Machine Safety — if a server has applied a log entry at a
    // given index to its state machine, no other server will ever apply a different log entry
    // for the same index.
    const fp = held === e ? fingerprint(e) : fingerprint(held as Entry)
    const c = this.committed[e.index]
    if (c) {
      if (c.term !== e.term || c.fp !== fp) {
        this.fail(
          'State Machine Safety (Raft §5.4.3)',
          `n${id} applies ${e.index}@${e.term} but n${c.node} applied ${e.index}@${c.term} (${c.fp === fp ? 'same' : 'different'} content)`,
        )
      }
      return
    }
    if (e.index <= this.baseIndex) {
      this.fail(
        'State Machine Safety (Raft §5.4.3)',
        `n${id} applies ${e.index}, inside the initial snapshot`,
      )
    }
    this.committed[e.index] = { term: e.term, fp, value: commandValue(e), node: id, boundTerm: observerTerm }
    if (e.index > this.maxCommittedIndex) this.maxCommittedIndex = e.index
    for (const [leader, t] of this.leading) {
      if (t >= observerTerm) this.checkLeaderHolds(leader, t, e.index)
    }
  }

  // Reference: Raft §5.4 Leader Completeness — if a log entry is committed in a given term, it is
  // present in the logs of the leaders of all higher terms (the committing leader holds it too).
  private checkLeaderHolds(leader: NodeId, leaderTerm: Term, i: number): void {
    const c = this.committed[i]
    if (!c || c.boundTerm > leaderTerm) return
    const disk = this.diskOf(leader)
    if (i <= disk.snapIndex) return
    const t = disk.termAt(i)
    if (t !== c.term) {
      this.fail(
        'Leader Completeness (Raft §5.4)',
        `n${leader}, leader of term ${leaderTerm}, lacks committed entry ${i}@${c.term} (committed by term ${c.boundTerm} at the latest; it holds ${t === undefined ? 'nothing' : `term ${t}`})`,
      )
    }
  }

  /**
   * onSnapshot checks a snapshot that a node installs or takes: it covers committed entries only
   * and its data is the state every other state machine had at that index.
   */
  onSnapshot(id: NodeId, s: Snapshot, how: string): void {
    if (!this.enabled) return
    const i = s.meta.index
    if (i <= this.baseIndex) return
    const c = this.committed[i]
    if (!c || c.term !== s.meta.term) {
      this.fail(
        'State Machine Safety (Raft §5.4.3, snapshots)',
        `n${id} ${how} snapshot ${i}@${s.meta.term}, but the committed entry there is ${c ? `${i}@${c.term}` : 'unknown'}`,
      )
    }
    const expected: string[] = []
    for (let j = this.baseIndex + 1; j <= i; j++) {
      const cj = this.committed[j]
      if (!cj) this.fail('Harness', `snapshot ${i} covers index ${j}, which no node was seen to apply`)
      if (cj.value !== undefined) expected.push(cj.value)
    }
    const got = decodeValues(s.data)
    if (got.length !== expected.length || got.some((v, k) => v !== expected[k])) {
      this.fail(
        'State Machine Safety (Raft §5.4.3, snapshots)',
        `n${id} ${how} snapshot ${i}@${s.meta.term} whose state differs from the committed entries: ${JSON.stringify(got).slice(0, 200)} vs ${JSON.stringify(expected).slice(0, 200)}`,
      )
    }
  }

  /**
   * onSend checks a message as its sender's host sends it (after persisting the Ready it came in).
   * `leaderLog(id)` is the disk of node `id` if it leads the message's term now.
   */
  onSend(disk: SimDisk, m: RaftMessage, leaderLog: (id: NodeId) => SimDisk | undefined): void {
    if (!this.enabled) return
    switch (m.type) {
      case 'MsgApp':
      case 'MsgHeartbeat':
      case 'MsgSnap':
      case 'MsgTimeoutNow':
      case 'MsgReadIndexResp': {
        // Reference: Raft §5.2 Election Safety, seen on the wire — only the leader of a term
        // speaks as leader in it.
        const other = this.leaderOfTerm.get(m.term)
        if (other === undefined) this.leaderOfTerm.set(m.term, m.from)
        else if (other !== m.from) {
          this.fail(
            'Election Safety (Raft §5.2)',
            `n${m.from} sends ${m.type} as leader of term ${m.term}, led by n${other}`,
          )
        }
        break
      }
      case 'MsgVoteResp': {
        // Reference: Raft Figure 2 — a vote is on stable storage before it is granted.
        const hs = disk.hardState
        if (!m.reject && (hs?.term !== m.term || hs.vote !== m.to)) {
          this.fail(
            'Election Safety (Raft Figure 2: persist the vote before granting it)',
            `n${m.from} grants its vote in term ${m.term} to n${m.to}, but its disk holds term ${hs?.term} vote ${hs?.vote}`,
          )
        }
        break
      }
      case 'MsgAppResp':
        if (!m.reject) this.checkAck(disk, m, leaderLog(m.to))
        break
      default:
        break
    }
  }

  // Reference: Raft §5.3 — AppendEntries succeeds only if the follower's log then matches the
  // leader's through the last new entry; the leader counts the acknowledgement toward commit.
  private checkAck(
    disk: SimDisk,
    m: RaftMessage & { type: 'MsgAppResp' },
    leader: SimDisk | undefined,
  ): void {
    const i = m.index
    if (i > disk.lastIndex()) {
      this.fail(
        'Replication (Raft §5.3)',
        `n${m.from} acknowledges index ${i} to n${m.to}, past its own last entry ${disk.lastIndex()}`,
      )
    }
    if (!leader || i <= disk.snapIndex || i <= leader.snapIndex) return
    const ours = disk.termAt(i)
    const theirs = leader.termAt(i)
    if (theirs === undefined || (ours !== undefined && ours !== theirs)) {
      this.fail(
        'Replication (Raft §5.3)',
        `n${m.from} acknowledges ${i}@${ours} to n${m.to}, leader of term ${m.term}, whose log holds ${theirs === undefined ? `nothing there (last ${leader.lastIndex()})` : `${i}@${theirs}`}`,
      )
    }
  }

  /** onHardState checks a HardState against the one on disk, before the disk takes it. */
  onHardState(
    id: NodeId,
    old: { term: number; vote: NodeId } | undefined,
    next: { term: number; vote: NodeId },
  ): void {
    if (!this.enabled || !old) return
    if (next.term < old.term) {
      this.fail(
        'Monotonicity (Raft §5.1: terms only increase)',
        `n${id} persists term ${next.term} after ${old.term}`,
      )
    }
    // Reference: Raft §5.2 — each server votes for at most one candidate in a given term, and
    // persists its vote before answering (Figure 2, "Persistent state").
    if (next.term === old.term && old.vote !== NO_NODE && next.vote !== old.vote) {
      this.fail(
        'Election Safety (Raft §5.2: one vote per term)',
        `n${id} changes its vote in term ${old.term} from ${old.vote} to ${next.vote}`,
      )
    }
  }

  /**
   * onObserve checks a node's state after every Ready was handled. `insp` is undefined when the
   * node produced no Ready and its status did not change (cheap path).
   */
  onObserve(id: NodeId, st: Status, insp: RaftInspection | undefined, disk: SimDisk, smApplied: Index): void {
    if (st.applied !== smApplied) {
      this.fail(
        'Host duty 3 (apply)',
        `n${id}: engine says applied=${st.applied}, the state machine has ${smApplied}`,
      )
    }
    this.noteCommit(st.commit)
    if (!this.enabled) return
    // Reference: Raft §5.2 Election Safety — at most one leader can be elected in a given term.
    if (st.role === 'leader') {
      const other = this.leaderOfTerm.get(st.term)
      if (other === undefined) this.leaderOfTerm.set(st.term, id)
      else if (other !== id)
        this.fail('Election Safety (Raft §5.2)', `n${id} and n${other} both lead term ${st.term}`)
    }
    this.checkMonotonic(id, st, insp)
    if (insp) this.checkDurable(id, st, insp, disk)
    this.trackLeader(id, st, disk)
  }

  // Reference: Raft Figure 2 — currentTerm and commitIndex only grow (commit is in HardState,
  // so also across restarts); lastApplied <= commitIndex; the stable log is a prefix of the log.
  private checkMonotonic(id: NodeId, st: Status, insp: RaftInspection | undefined): void {
    const f = this.floors.get(id)
    if (f) {
      if (st.term < f.term) this.fail('Monotonicity (term)', `n${id} term went from ${f.term} to ${st.term}`)
      if (st.commit < f.commit)
        this.fail('Monotonicity (commit)', `n${id} commit went from ${f.commit} to ${st.commit}`)
      f.term = st.term
      f.commit = st.commit
    } else {
      this.floors.set(id, { term: st.term, commit: st.commit })
    }
    if (st.applied > st.commit)
      this.fail('Monotonicity (applied <= commit)', `n${id} applied ${st.applied} > commit ${st.commit}`)
    if (st.commit > st.lastIndex)
      this.fail(
        'Monotonicity (commit <= lastIndex)',
        `n${id} commit ${st.commit} > lastIndex ${st.lastIndex}`,
      )
    if (insp && insp.stableIndex > insp.lastIndex) {
      this.fail(
        'Monotonicity (stableIndex <= lastIndex)',
        `n${id} stableIndex ${insp.stableIndex} > lastIndex ${insp.lastIndex}`,
      )
    }
  }

  // Reference: Raft Figure 2 "Persistent state … updated on stable storage before responding to
  // RPCs": once the host handled every Ready, what the engine acts on is what the disk holds.
  private checkDurable(id: NodeId, st: Status, insp: RaftInspection, disk: SimDisk): void {
    const hs = disk.hardState
    const term = hs?.term ?? 0
    const vote = hs?.vote ?? NO_NODE
    if (term !== st.term || vote !== insp.vote) {
      this.fail(
        'Durability (HardState)',
        `n${id} runs with term ${st.term} vote ${insp.vote}, its disk holds term ${term} vote ${vote}`,
      )
    }
    const last = disk.lastIndex()
    if (insp.lastIndex !== last || disk.termAt(last) !== this.lastTermOf(insp)) {
      this.fail(
        'Durability (log)',
        `n${id} engine log ends at ${insp.lastIndex}@${this.lastTermOf(insp)}, its disk at ${last}@${disk.termAt(last)}`,
      )
    }
  }

  private lastTermOf(insp: RaftInspection): Term {
    const e = insp.entries[insp.entries.length - 1]
    return e ? e.term : insp.compactedTerm
  }

  private trackLeader(id: NodeId, st: Status, disk: SimDisk): void {
    if (st.role !== 'leader') {
      this.leading.delete(id)
      return
    }
    if (this.leading.get(id) === st.term) return
    this.leading.set(id, st.term)
    for (let i = disk.snapIndex + 1; i <= this.maxCommittedIndex; i++) this.checkLeaderHolds(id, st.term, i)
  }

  onCrash(id: NodeId): void {
    this.leading.delete(id)
  }

  // Reference: Raft dissertation §6.4 (ReadIndex) — a linearizable read must observe every write
  // committed before it started: the read index is at least the commit index any node knew of
  // when the barrier was requested, and it is itself committed.
  onReadRequested(id: NodeId, rid: ReadId): void {
    let m = this.readFloors.get(id)
    if (!m) {
      m = new Map()
      this.readFloors.set(id, m)
    }
    m.set(rid, this.maxCommitSeen as Index)
  }

  onReadGranted(id: NodeId, rs: ReadState): void {
    const floor = this.readFloors.get(id)?.get(rs.id)
    if (floor === undefined)
      this.fail('Ready contract (reads)', `n${id} granted read ${rs.id}, which it was never asked for`)
    if (!this.enabled) return
    if (rs.index < floor) {
      this.fail(
        'Linearizable reads (dissertation §6.4)',
        `n${id} granted read ${rs.id} at index ${rs.index}, but index ${floor} was committed before the read began`,
      )
    }
    if (rs.index > this.maxCommitSeen) {
      this.fail(
        'Linearizable reads (dissertation §6.4)',
        `n${id} granted read ${rs.id} at ${rs.index}, past any commit (${this.maxCommitSeen})`,
      )
    }
  }

  /** checkAllLogs re-verifies a node's whole durable log (the full sweep of checkInvariants). */
  checkAllLogs(id: NodeId, disk: SimDisk): void {
    this.onPersist(id, disk, disk.firstIndex())
  }

  /** checkLeaderNow re-verifies Leader Completeness for a node leading in `t`. */
  checkLeaderNow(id: NodeId, t: Term, disk: SimDisk): void {
    if (!this.enabled) return
    for (let i = disk.snapIndex + 1; i <= this.maxCommittedIndex; i++) this.checkLeaderHolds(id, t, i)
  }

  /** committedValues is the canonical applied sequence: the values of every committed command. */
  committedValues(): string[] {
    const out: string[] = []
    for (let j = this.baseIndex + 1; j <= this.maxCommittedIndex; j++) {
      const v = this.committed[j]?.value
      if (v !== undefined) out.push(v)
    }
    return out
  }
}
