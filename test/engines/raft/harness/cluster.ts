import { index, NO_NODE, type NodeId, nodeId, type ReadId, readId, term } from '../../../../src/core/ids.js'
import { seededRng } from '../../../../src/core/rng.js'
import type {
  MemberChange,
  Membership,
  ProposeResult,
  ReadState,
  Snapshot,
  Status,
} from '../../../../src/engines/engine.js'
import type { RaftMessage } from '../../../../src/engines/raft/messages.js'
import { DEFAULT_RAFT_OPTIONS, type RaftOptions } from '../../../../src/engines/raft/options.js'
import type { RaftEngine } from '../../../../src/engines/raft/raft.js'
import type { RaftInspection } from '../../../../src/engines/raft/start.js'
import type { SimDisk } from './disk.js'
import { type HostContext, SimHost } from './host.js'
import { SafetyChecker } from './invariants.js'
import { SimNetwork } from './network.js'
import { encodeCommand, encodeValues } from './state-machine.js'
import { describeMessage, Trace } from './trace.js'

export interface ClusterOptions {
  /** Nodes 1..nodes are created. */
  readonly nodes: number
  /** Seeds every node's rng: node `id` gets seededRng(seed * 1000 + id). Default 0. */
  readonly seed?: number
  /**
   * Ids among 1..nodes that start as learners. With learners, every node starts from one shared
   * initial snapshot at index 1, term 1, whose membership lists the voters and the learners (the
   * way a cluster restored from a backup starts), so no election or config change is needed.
   * Without learners, the nodes bootstrap with RaftStart.bootstrap = [1..nodes].
   */
  readonly learners?: readonly number[]
  /** Overrides of DEFAULT_RAFT_OPTIONS for every node. */
  readonly raft?: Partial<Omit<RaftOptions, 'rng'>>
  /** Check the safety invariants after every step (default true). Host duties are always checked. */
  readonly checkInvariants?: boolean
  /** How many trace lines to keep (default 1000). */
  readonly traceLines?: number
}

/**
 * Cluster drives RaftEngines deterministically in memory: it plays every host's part (persist to
 * a simulated disk, send into an in-flight queue, apply to a test state machine, advance), lets
 * the test choose which message is delivered, dropped or duplicated and when time passes, and
 * checks the safety invariants after every step. Scenario tests read like stories:
 * `c.elect(1); c.propose(1, 'x'); c.isolate(1); c.tickUntilLeader()`.
 *
 * Every public action is one step: it runs, then every Ready it caused is handled and checked.
 */
export class Cluster {
  private readonly hosts = new Map<NodeId, SimHost>()
  /** sortedIds: the keys of `hosts`, ascending (kept, since schedules ask for them every step). */
  private sortedIds: NodeId[] = []
  private readonly net = new SimNetwork()
  private readonly log: Trace
  private readonly checker: SafetyChecker
  private readonly hostContext: HostContext
  private readonly raftOptions: Omit<RaftOptions, 'rng'>
  private readonly seed: number
  private stepNo = 0
  private readonly deliveredByType = new Map<string, number>()

  private constructor(o: ClusterOptions) {
    this.seed = o.seed ?? 0
    this.raftOptions = { ...DEFAULT_RAFT_OPTIONS, ...o.raft }
    this.log = new Trace(o.traceLines ?? 1000)
    this.checker = new SafetyChecker(this.log, o.checkInvariants ?? true, (id) => this.host(id).disk)
    this.hostContext = {
      checker: this.checker,
      net: this.net,
      trace: (line) => this.trace(line),
      leaderDisk: (id, t) => this.leaderDisk(id, t),
    }
  }

  static create(o: ClusterOptions): Cluster {
    if (!Number.isSafeInteger(o.nodes) || o.nodes < 1)
      throw new RangeError(`Cluster: nodes must be >= 1, got ${o.nodes}`)
    const c = new Cluster(o)
    const all = Array.from({ length: o.nodes }, (_, k) => nodeId(k + 1))
    const learners = (o.learners ?? []).map(nodeId)
    for (const l of learners) {
      if (l > o.nodes) throw new RangeError(`Cluster: learner ${l} is not one of 1..${o.nodes}`)
    }
    const voters = all.filter((id) => !learners.includes(id))
    c.trace(
      `create ${o.nodes} nodes seed=${c.seed} voters=${voters.join(',')} learners=${learners.join(',')}`,
    )
    if (learners.length === 0) {
      for (const id of all) c.startHost(c.newHost(id, voters))
    } else {
      c.checker.baseIndex = 1
      const membership: Membership = {
        voters,
        votersOutgoing: [],
        learners,
        learnersNext: [],
        autoLeave: false,
      }
      const snapshot: Snapshot = {
        meta: { index: index(1), term: term(1), membership },
        data: encodeValues([]),
      }
      for (const id of all) {
        const h = c.newHost(id, undefined)
        h.disk.write({ snapshot, entries: [], hardState: { term: term(1), vote: NO_NODE, commit: index(1) } })
        c.startHost(h)
      }
    }
    return c
  }

  // ---- nodes --------------------------------------------------------------------------------

  /** ids lists every node ever created (including added ones and crashed ones), ascending. */
  get ids(): NodeId[] {
    return this.sortedIds.slice()
  }

  /** liveIds lists the nodes that are running, ascending. */
  liveIds(): NodeId[] {
    const out: NodeId[] = []
    for (const id of this.sortedIds) if ((this.hosts.get(id) as SimHost).engine) out.push(id)
    return out
  }

  isLive(id: number): boolean {
    return this.hosts.get(id as NodeId)?.engine !== undefined
  }

  /** engine returns the live engine of a node; throws if it is crashed. */
  engine(id: number): RaftEngine {
    const e = this.host(id).engine
    if (!e) throw new Error(`n${id} is crashed`)
    return e
  }

  status(id: number): Status {
    return this.engine(id).status()
  }

  inspect(id: number): RaftInspection {
    return this.engine(id).inspect()
  }

  /** disk exposes a node's simulated disk (read it, do not write it). */
  disk(id: number): SimDisk {
    return this.host(id).disk
  }

  /** applied lists the values a node's state machine has applied, in order. */
  applied(id: number): string[] {
    const h = this.host(id)
    if (!h.engine) throw new Error(`n${id} is crashed`)
    return h.sm.list()
  }

  /** committedValues is the one sequence every state machine is a prefix of (as seen so far). */
  committedValues(): string[] {
    return this.checker.committedValues()
  }

  /** leader is the live node with role leader and the highest term, if any. */
  leader(): NodeId | undefined {
    let best: Status | undefined
    for (const h of this.hosts.values()) {
      const st = h.engine?.status()
      if (st?.role === 'leader' && (!best || st.term > best.term)) best = st
    }
    return best?.id
  }

  // ---- time and messages --------------------------------------------------------------------

  /** tick advances `n` ticks on one node, some nodes or every live node, handling Readys. */
  tick(id?: number | readonly number[], n = 1): void {
    const targets = id === undefined ? this.liveIds() : (Array.isArray(id) ? id : [id]).map((x) => nodeId(x))
    for (let r = 0; r < n; r++) {
      this.step(`tick ${targets.join(',')}`)
      for (const t of targets) {
        const h = this.host(t)
        if (!h.engine) continue
        h.engine.tick()
        h.drain()
      }
    }
  }

  /** process handles every live node's pending Ready without delivering any message. */
  process(): void {
    for (const h of this.hosts.values()) h.drain()
  }

  /** pending is a copy of the in-flight queue, oldest first. */
  pending(): RaftMessage[] {
    return this.net.pending()
  }

  /**
   * deliver delivers the in-flight messages (those matching `filter`, or all) that are queued now,
   * oldest first, handling the receiver's Ready after each; messages they cause stay queued. A
   * message across a partition or to a crashed or unknown node is dropped. Returns how many were
   * delivered.
   */
  deliver(filter?: (m: RaftMessage) => boolean): number {
    let n = 0
    for (const m of this.net.take(filter)) if (this.deliverMessage(m)) n++
    return n
  }

  /** pendingCount is the number of messages in flight. */
  get pendingCount(): number {
    return this.net.size
  }

  /** peek returns the i-th in-flight message without removing it. */
  peek(i: number): RaftMessage | undefined {
    return this.net.at(i)
  }

  /** deliverAt delivers the i-th in-flight message (any order: reordering). */
  deliverAt(i: number): boolean {
    return this.deliverMessage(this.net.removeAt(i))
  }

  /** duplicateAt delivers a copy of the i-th in-flight message and leaves it queued. */
  duplicateAt(i: number): boolean {
    const m = this.net.at(i)
    if (!m) throw new RangeError(`no in-flight message #${i}`)
    this.trace(() => `duplicate ${describeMessage(m)}`)
    return this.deliverMessage(m)
  }

  /** drop removes in-flight messages (matching, or all) without delivering them. */
  drop(filter?: (m: RaftMessage) => boolean): number {
    const dropped = this.net.take(filter)
    if (dropped.length > 0) this.trace(`drop ${dropped.length} message(s)`)
    return dropped.length
  }

  dropAt(i: number): RaftMessage {
    const m = this.net.removeAt(i)
    this.trace(() => `drop ${describeMessage(m)}`)
    return m
  }

  /** stabilize delivers and processes until no message is in flight and no Ready is pending. */
  stabilize(maxRounds = 1000): void {
    for (let round = 0; round < maxRounds; round++) {
      this.process()
      if (this.net.size === 0) return
      this.deliver()
    }
    this.process()
    if (this.net.size > 0) {
      throw new Error(
        `stabilize: not quiescent after ${maxRounds} rounds (${this.net.size} in flight)\n${this.log.tail(40)}`,
      )
    }
  }

  // ---- connectivity and faults --------------------------------------------------------------

  connected(a: number, b: number): boolean {
    return this.net.connected(a as NodeId, b as NodeId)
  }

  isolate(id: number): void {
    this.step(`isolate ${id}`)
    this.net.isolate(nodeId(id))
  }

  /** partition splits the nodes into groups that cannot talk; unnamed nodes form one more group. */
  partition(...groups: readonly (readonly number[])[]): void {
    this.step(`partition ${groups.map((g) => `[${g.join(',')}]`).join(' ')}`)
    this.net.partition(groups.map((g) => g.map((x) => nodeId(x))))
  }

  heal(): void {
    this.step('heal')
    this.net.heal()
  }

  /** crash loses the engine, its memory and the state machine; messages in flight to it are lost. */
  crash(id: number): void {
    const h = this.host(id)
    if (!h.engine) throw new Error(`crash: n${id} is already crashed`)
    this.step(`crash ${id}`)
    h.crash()
    this.net.take((m) => m.to === h.id)
  }

  /** restart rebuilds a node from its disk (crashing it first if it is running). */
  restart(id: number): void {
    const h = this.host(id)
    if (h.engine) this.crash(id)
    this.step(`restart ${id}`)
    h.incarnation++
    this.startHost(h)
  }

  /** addNode starts a brand-new node with an empty disk that joins the existing cluster. */
  addNode(id: number): void {
    const nid = nodeId(id)
    if (this.hosts.has(nid)) throw new Error(`addNode: n${id} exists`)
    this.step(`add node ${id}`)
    this.startHost(this.newHost(nid, undefined))
  }

  // ---- client requests ----------------------------------------------------------------------

  /** propose proposes one command, the UTF-8 of `value`, on node `id`. */
  propose(id: number, value: string): ProposeResult {
    this.step(`propose n${id} ${JSON.stringify(value)}`)
    const h = this.liveHost(id)
    const r = this.engine(id).propose([encodeCommand(value)])
    this.trace(() => `  -> ${r.ok ? `ok ${r.firstIndex}@${r.term}` : `refused ${r.error.code}`}`)
    h.drain()
    return r
  }

  campaign(id: number): void {
    this.step(`campaign ${id}`)
    const h = this.liveHost(id)
    this.engine(id).campaign()
    h.drain()
  }

  /** elect makes `id` campaign and stabilizes; it asserts that `id` became the leader. */
  elect(id: number): void {
    this.campaign(id)
    this.stabilize()
    const st = this.status(id)
    if (st.role !== 'leader') {
      throw new Error(
        `elect: n${id} is ${st.role} in term ${st.term} after campaigning\n${this.log.tail(40)}`,
      )
    }
  }

  /**
   * tickUntilLeader ticks every live node and stabilizes, repeatedly, until there is a leader that
   * is a voter of its configuration (either half of a joint one) and that every live member it can
   * reach follows in its term.
   */
  tickUntilLeader(maxTicks = 200): NodeId {
    for (let t = 0; ; t++) {
      this.stabilize()
      const l = this.stableLeader()
      if (l !== undefined) return l
      if (t >= maxTicks)
        throw new Error(`tickUntilLeader: no stable leader after ${maxTicks} ticks\n${this.log.tail(40)}`)
      this.tick()
    }
  }

  /** stableLeader is the leader that tickUntilLeader waits for, or undefined. */
  stableLeader(): NodeId | undefined {
    const l = this.leader()
    if (l === undefined) return undefined
    const st = this.status(l)
    if (!st.membership.voters.includes(l) && !st.membership.votersOutgoing.includes(l)) return undefined
    for (const id of membersOf(st.membership)) {
      if (!this.isLive(id) || !this.connected(l, id)) continue
      const s = this.status(id)
      if (s.leader !== l || s.term !== st.term) return undefined
    }
    return l
  }

  /** read asks node `id` for a read barrier with a fresh id; see reads(id) for the answer. */
  read(id: number): ReadId {
    const h = this.liveHost(id)
    const rid = readId(h.nextReadId++)
    this.step(`read n${id} #${rid}`)
    this.checker.onReadRequested(h.id, rid)
    this.engine(id).readBarrier(rid)
    h.drain()
    return rid
  }

  /** reads lists the ReadStates node `id` has received (across restarts). */
  reads(id: number): ReadState[] {
    return this.host(id).reads.slice()
  }

  readsDropped(id: number): ReadId[] {
    return this.host(id).readsDropped.slice()
  }

  changeMembers(id: number, c: MemberChange): ProposeResult {
    this.step(
      `change members n${id} ${c.changes.map((x) => `${x.op} ${x.node}`).join(', ') || 'leave joint'}`,
    )
    const h = this.liveHost(id)
    const r = this.engine(id).changeMembers(c)
    this.trace(() => `  -> ${r.ok ? `ok ${r.firstIndex}@${r.term}` : `refused ${r.error.code}`}`)
    h.drain()
    return r
  }

  transferLeadership(from: number, to: number): void {
    this.step(`transfer leadership n${from} -> n${to}`)
    const h = this.liveHost(from)
    this.engine(from).transferLeadership(nodeId(to))
    h.drain()
  }

  /**
   * compact snapshots node `id`'s state machine at its applied index (data: the applied values;
   * membership: its current configuration), stores it on its disk, then tells the engine, which
   * may drop entries up to index - retain. A no-op when nothing was applied since the last one.
   */
  compact(id: number, retain = 0): void {
    const h = this.liveHost(id)
    const eng = this.engine(id)
    const applied = h.sm.appliedIndex
    if (applied <= h.disk.snapIndex) return
    const t = h.disk.termAt(applied)
    if (t === undefined)
      this.checker.fail('Harness (compact)', `n${id} applied ${applied}, which its disk does not hold`)
    const snap: Snapshot = {
      meta: { index: applied, term: t, membership: eng.status().membership },
      data: h.sm.snapshotData(),
    }
    this.step(`compact n${id} at ${applied}@${t} retain=${retain}`)
    this.checker.onSnapshot(h.id, snap, 'takes')
    h.disk.compact(snap, retain)
    eng.compact(snap, retain)
    h.drain()
  }

  // ---- checking -----------------------------------------------------------------------------

  /** trace returns the kept lines of the trace, oldest first. */
  trace(): string[]
  trace(line: string | (() => string)): void
  trace(line?: string | (() => string)): string[] | undefined {
    if (line === undefined) return this.log.lines()
    const s = this.stepNo
    this.log.add(typeof line === 'string' ? `${s}: ${line}` : () => `${s}: ${line()}`)
    return undefined
  }

  /** deliveredCounts says how many messages of each type were delivered so far (coverage). */
  deliveredCounts(): Record<string, number> {
    return Object.fromEntries(this.deliveredByType)
  }

  /** traceTail formats the last lines of the trace for an error message. */
  traceTail(lines = 40): string {
    return this.log.tail(lines)
  }

  /** checkInvariants runs the full sweep: every live node's state and whole log, now. */
  checkInvariants(): void {
    for (const h of this.hosts.values()) {
      if (!h.engine) continue
      const st = h.engine.status()
      this.checker.onObserve(h.id, st, h.engine.inspect(), h.disk, h.sm.appliedIndex)
      this.checker.checkAllLogs(h.id, h.disk)
      if (st.role === 'leader') this.checker.checkLeaderNow(h.id, st.term, h.disk)
    }
  }

  // ---- the host loop ------------------------------------------------------------------------

  private step(what: string): void {
    this.stepNo++
    this.trace(what)
  }

  private host(id: number): SimHost {
    const h = this.hosts.get(id as NodeId)
    if (!h) throw new Error(`no node n${id} (nodes: ${this.ids.join(',')})`)
    return h
  }

  private liveHost(id: number): SimHost {
    const h = this.host(id)
    if (!h.engine) throw new Error(`n${id} is crashed`)
    return h
  }

  private newHost(id: NodeId, bootstrap: readonly NodeId[] | undefined): SimHost {
    const h = new SimHost(id, bootstrap, this.hostContext)
    this.hosts.set(id, h)
    this.sortedIds = [...this.hosts.keys()].sort((a, b) => a - b)
    return h
  }

  /** startHost starts (or restarts) a node's engine from its disk, with its own rng. */
  private startHost(h: SimHost): void {
    const base = this.seed * 1000 + h.id
    const rng = seededRng(h.incarnation === 0 ? base : base + 1_000_000 * h.incarnation)
    h.start({ ...this.raftOptions, rng })
  }

  private deliverMessage(m: RaftMessage): boolean {
    if (!this.net.connected(m.from, m.to)) {
      this.trace(() => `lost (partition) ${describeMessage(m)}`)
      return false
    }
    const h = this.hosts.get(m.to)
    if (!h?.engine) {
      this.trace(() => `lost (${h ? 'crashed' : 'unknown'} receiver) ${describeMessage(m)}`)
      return false
    }
    this.stepNo++
    this.deliveredByType.set(m.type, (this.deliveredByType.get(m.type) ?? 0) + 1)
    this.trace(() => `deliver ${describeMessage(m)}`)
    h.engine.step(m)
    h.drain()
    return true
  }

  /** leaderDisk is the disk of node `id` if it is live and leads `term` now, else undefined. */
  private leaderDisk(id: NodeId, t: number): SimDisk | undefined {
    const h = this.hosts.get(id)
    const st = h?.engine?.status()
    return h && st?.role === 'leader' && st.term === t ? h.disk : undefined
  }
}

/** describeMembership renders a configuration in one short line. */
export function describeMembership(m: Membership): string {
  const part = (name: string, ids: readonly NodeId[]) => (ids.length > 0 ? ` ${name}=${ids.join(',')}` : '')
  return (
    `voters=${m.voters.join(',')}` +
    part('outgoing', m.votersOutgoing) +
    part('learners', m.learners) +
    part('learnersNext', m.learnersNext) +
    (m.autoLeave ? ' autoLeave' : '')
  )
}

/** membersOf lists every node a configuration names (voters, outgoing voters, learners). */
export function membersOf(m: Membership): NodeId[] {
  return [...new Set([...m.voters, ...m.votersOutgoing, ...m.learners, ...m.learnersNext])].sort(
    (a, b) => a - b,
  )
}
