import type { NodeId } from '../../../../src/core/ids.js'
import { type Rng, seededRng } from '../../../../src/core/rng.js'
import type { MemberChange } from '../../../../src/engines/engine.js'
import type { RaftOptions } from '../../../../src/engines/raft/options.js'
import { Cluster, membersOf } from './cluster.js'

/**
 * A random schedule (the VOPR's approach, TigerBeetle): a seeded Rng picks every step of a run —
 * ticks on some nodes, delivery of any in-flight message (so reordering), drops, duplicates,
 * partitions, crashes and restarts from disk, proposals, read barriers, compactions (hence
 * InstallSnapshot), leadership transfers and, in some schedules, membership changes. The
 * Cluster checks the safety invariants after every step. Then the liveness phase heals
 * everything and requires a leader, a fresh commit and convergence within bounded ticks.
 */

export interface ScheduleConfig {
  readonly seed: number
  readonly nodes: number
  /** How many chaotic steps; default STEPS_MIN..STEPS_MAX, chosen by the seed. */
  readonly steps?: number
  /** Exercise membership changes; default: chosen by the seed (about one schedule in three). */
  readonly membership?: boolean
  /** Ticks the liveness phase may take to elect a leader and converge. */
  readonly livenessTicksMax?: number
  /** Overrides of the options the seed picks (e.g. testingBugs, to prove the checks catch them). */
  readonly raft?: Partial<Omit<RaftOptions, 'rng'>>
}

export interface ScheduleStats {
  steps: number
  delivered: number
  dropped: number
  duplicated: number
  crashes: number
  partitions: number
  proposalsAccepted: number
  reads: number
  compactions: number
  /** MsgSnap messages delivered (InstallSnapshot). */
  snapshotsSent: number
  transfers: number
  configChanges: number
  livenessTicks: number
  committed: number
}

/** A ScheduleFailure carries the seed and the cluster's trace tail in its message. */
export class ScheduleFailure extends Error {
  override readonly name = 'ScheduleFailure'
}

const ADDED_NODES_MAX = 2
const STEPS_MIN = 200
const STEPS_MAX = 800

interface Run {
  readonly c: Cluster
  readonly rng: Rng
  readonly seed: number
  readonly membership: boolean
  readonly stats: ScheduleStats
  readonly removed: Set<NodeId>
  /** Nodes 1..baseNodes were created with the cluster; later ids were added. */
  readonly baseNodes: number
  /** The swarm factor of each action in ACTIONS. */
  readonly mix: readonly number[]
  nextValue: number
  nextNewId: number
}

/** scheduleRaftOptions picks a configuration for the schedule from its rng. */
function scheduleRaftOptions(rng: Rng, membership: boolean): Partial<Omit<RaftOptions, 'rng'>> {
  const electionTicks = rng.pick([5, 10])
  let preVote = rng.chance(0.7)
  const checkQuorum = rng.chance(0.7)
  // A removed node that never hears of its removal keeps campaigning; without pre-vote or
  // check-quorum it disrupts the cluster forever (dissertation §4.2.3), so liveness would fail.
  if (membership && !checkQuorum) preVote = true
  return {
    electionTicks,
    heartbeatTicks: rng.pick([1, 1, 2]),
    preVote,
    checkQuorum,
    inflightMsgsMax: rng.pick([1, 2, 256]),
    msgBytesMax: rng.pick([1, 1, 16, 1024 * 1024]),
    committedBytesMax: rng.pick([1, 8 * 1024 * 1024]),
  }
}

/** runSchedule runs one schedule; it throws ScheduleFailure (with the seed) on any violation. */
export function runSchedule(cfg: ScheduleConfig): ScheduleStats {
  const rng = seededRng(cfg.seed)
  const membership = cfg.membership ?? rng.chance(1 / 3)
  const raft = { ...scheduleRaftOptions(rng, membership), ...cfg.raft }
  const steps = cfg.steps ?? rng.int(STEPS_MIN, STEPS_MAX)
  const c = Cluster.create({ nodes: cfg.nodes, seed: cfg.seed, raft })
  const run: Run = {
    c,
    rng,
    seed: cfg.seed,
    membership,
    stats: {
      steps,
      delivered: 0,
      dropped: 0,
      duplicated: 0,
      crashes: 0,
      partitions: 0,
      proposalsAccepted: 0,
      reads: 0,
      compactions: 0,
      snapshotsSent: 0,
      transfers: 0,
      configChanges: 0,
      livenessTicks: 0,
      committed: 0,
    },
    removed: new Set(),
    baseNodes: cfg.nodes,
    mix: swarmMix(rng),
    nextValue: 0,
    nextNewId: cfg.nodes + 1,
  }
  const phase = { name: 'chaos', step: 0 }
  try {
    c.trace(
      `schedule seed=${cfg.seed} nodes=${cfg.nodes} steps=${steps} membership=${membership} raft=${JSON.stringify(raft)}`,
    )
    for (; phase.step < steps; phase.step++) chaosStep(run)
    phase.name = 'liveness'
    liveness(run, cfg.livenessTicksMax ?? 400)
  } catch (e) {
    const msg = e instanceof Error ? (e.stack ?? e.message) : String(e)
    const tail = msg.includes('--- trace') ? '' : `\n${c.traceTail(40)}`
    throw new ScheduleFailure(
      `schedule seed=${cfg.seed} (${cfg.nodes} nodes) failed in the ${phase.name} phase at step ${phase.step}:\n${msg}${tail}`,
      { cause: e },
    )
  }
  run.stats.committed = c.committedValues().length
  run.stats.snapshotsSent = c.deliveredCounts().MsgSnap ?? 0
  return run.stats
}

// ---- the chaotic phase ------------------------------------------------------------------------

type Step = (r: Run) => void

interface Action {
  readonly run: Step
  /** weight is the action's base weight now (0: not possible now). */
  readonly weight: (r: Run, inFlight: number) => number
  /** swarm: the schedule scales this weight by a random factor, possibly 0 (swarm testing). */
  readonly swarm: boolean
}

const ACTIONS: readonly Action[] = [
  { run: deliverOne, weight: (_, n) => (n > 0 ? 30 + Math.min(60, n) : 0), swarm: false },
  { run: deliverAll, weight: (_, n) => (n > 0 ? 3 : 0), swarm: true },
  { run: dropOne, weight: (_, n) => (n > 0 ? 4 : 0), swarm: true },
  { run: duplicateOne, weight: (_, n) => (n > 0 ? 2 : 0), swarm: true },
  { run: tickOne, weight: () => 14, swarm: true },
  { run: tickAll, weight: () => 8, swarm: false },
  { run: propose, weight: () => 12, swarm: true },
  { run: read, weight: () => 4, swarm: true },
  { run: partition, weight: () => 1.5, swarm: true },
  { run: isolate, weight: () => 1, swarm: true },
  { run: heal, weight: () => 2.5, swarm: false },
  { run: crash, weight: (r) => (r.c.liveIds().length > 1 ? 1.5 : 0), swarm: true },
  { run: restart, weight: (r) => 2 + 2 * (r.c.ids.length - r.c.liveIds().length), swarm: false },
  { run: compact, weight: () => 3, swarm: true },
  { run: transfer, weight: () => 0.7, swarm: true },
  { run: campaign, weight: () => 0.7, swarm: true },
  { run: changeMembers, weight: (r) => (r.membership ? 2.5 : 0), swarm: false },
]

const SWARM_FACTORS = [0, 0.25, 1, 1, 2, 4]

/**
 * swarmMix gives each action a random factor for the whole schedule: "swarm testing" (Groce et
 * al., ISSTA 2012) — some schedules crash a lot and never drop, others only reorder — finds
 * more bugs than one fixed mix, because some bugs need an action to be frequent and others
 * need another to be absent.
 */
function swarmMix(rng: Rng): number[] {
  return ACTIONS.map((a) => (a.swarm ? rng.pick(SWARM_FACTORS) : 1))
}

function chaosStep(r: Run): void {
  const inFlight = r.c.pendingCount
  const weights = ACTIONS.map((a, k) => a.weight(r, inFlight) * (r.mix[k] as number))
  let total = 0
  for (const w of weights) total += w
  let x = r.rng.float() * total
  for (let k = 0; k < ACTIONS.length; k++) {
    const w = weights[k] as number
    x -= w
    if (x < 0 && w > 0) {
      ;(ACTIONS[k] as Action).run(r)
      return
    }
  }
  tickAll(r)
}

function randomLive(r: Run): NodeId | undefined {
  const live = r.c.liveIds()
  return live.length > 0 ? r.rng.pick(live) : undefined
}

function deliverOne(r: Run): void {
  const i = r.rng.int(0, r.c.pendingCount - 1)
  if (r.c.deliverAt(i)) r.stats.delivered++
}

function deliverAll(r: Run): void {
  r.stats.delivered += r.c.deliver()
}

function dropOne(r: Run): void {
  r.c.dropAt(r.rng.int(0, r.c.pendingCount - 1))
  r.stats.dropped++
}

function duplicateOne(r: Run): void {
  if (r.c.duplicateAt(r.rng.int(0, r.c.pendingCount - 1))) r.stats.duplicated++
}

function tickOne(r: Run): void {
  const id = randomLive(r)
  if (id !== undefined) r.c.tick(id, r.rng.int(1, 3))
}

function tickAll(r: Run): void {
  r.c.tick()
}

function propose(r: Run): void {
  const l = r.c.leader()
  const id = l !== undefined && r.rng.chance(0.7) ? l : randomLive(r)
  if (id === undefined) return
  const res = r.c.propose(id, `v${r.seed}.${r.nextValue++}`)
  if (res.ok) r.stats.proposalsAccepted++
}

function read(r: Run): void {
  const id = randomLive(r)
  if (id === undefined) return
  r.c.read(id)
  r.stats.reads++
}

function partition(r: Run): void {
  const ids = r.rng.shuffle(r.c.ids)
  if (ids.length < 2) return
  const k = r.rng.int(1, ids.length - 1)
  const groups = [ids.slice(0, k), ids.slice(k)]
  // Sometimes a three-way split, when there are enough nodes.
  const second = groups[1] as NodeId[]
  if (second.length >= 2 && r.rng.chance(0.25)) {
    const j = r.rng.int(1, second.length - 1)
    groups.splice(1, 1, second.slice(0, j), second.slice(j))
  }
  r.c.partition(...groups)
  r.stats.partitions++
}

function isolate(r: Run): void {
  const id = r.rng.pick(r.c.ids)
  r.c.isolate(id)
  r.stats.partitions++
}

function heal(r: Run): void {
  r.c.heal()
}

function crash(r: Run): void {
  const id = randomLive(r)
  if (id === undefined) return
  r.c.crash(id)
  r.stats.crashes++
}

function restart(r: Run): void {
  const down = r.c.ids.filter((id) => !r.c.isLive(id))
  if (down.length > 0) r.c.restart(r.rng.pick(down))
}

function compact(r: Run): void {
  // Mostly the leader: its compaction is what forces InstallSnapshot on a lagging follower.
  const l = r.c.leader()
  const id = l !== undefined && r.rng.chance(0.6) ? l : randomLive(r)
  if (id === undefined) return
  r.c.compact(id, r.rng.int(0, 3))
  r.stats.compactions++
}

function transfer(r: Run): void {
  const l = r.c.leader()
  if (l === undefined) return
  const others = r.c.status(l).membership.voters.filter((v) => v !== l)
  if (others.length === 0) return
  r.c.transferLeadership(l, r.rng.pick(others))
  r.stats.transfers++
}

function campaign(r: Run): void {
  const id = randomLive(r)
  if (id !== undefined) r.c.campaign(id)
}

/**
 * changeMembers proposes one change on the leader: add a brand-new node as a learner, promote a
 * learner, or remove a voter (never below two voters). Refused proposals are ignored.
 */
function changeMembers(r: Run): void {
  const { c, rng } = r
  const l = c.leader()
  if (l === undefined) return
  const m = c.status(l).membership
  if (m.votersOutgoing.length > 0) return
  const members = membersOf(m)
  const options: (() => MemberChange)[] = []
  // A node that was started but whose addition was lost (refused, or lost with its leader): again.
  const joiners = c.liveIds().filter((id) => id > r.baseNodes && !members.includes(id) && !r.removed.has(id))
  if (joiners.length > 0) options.push(() => ({ changes: [{ op: 'addLearner', node: rng.pick(joiners) }] }))
  if (r.nextNewId - 1 - r.baseNodes < ADDED_NODES_MAX) {
    options.push(() => {
      const id = r.nextNewId++
      c.addNode(id)
      return { changes: [{ op: 'addLearner', node: id as NodeId }] }
    })
  }
  if (m.learners.length > 0)
    options.push(() => ({ changes: [{ op: 'addVoter', node: rng.pick(m.learners) }] }))
  if (m.voters.length > 2) {
    options.push(() => {
      const v = rng.pick(m.voters)
      return { changes: [{ op: 'remove', node: v }] }
    })
  }
  if (options.length === 0) return
  const change = rng.pick(options)()
  const withTransition: MemberChange = rng.chance(0.3) ? { ...change, transition: 'joint' } : change
  const res = c.changeMembers(l, withTransition)
  if (res.ok) {
    r.stats.configChanges++
    for (const ch of change.changes) if (ch.op === 'remove') r.removed.add(ch.node)
  }
}

// ---- the liveness phase -----------------------------------------------------------------------

/**
 * liveness heals the network and restarts every node from its disk, then requires, within
 * `ticksMax` ticks: a stable leader, a fresh proposal committed, and every live member's state
 * machine holding the same values. A node that applied its own removal shuts down (as etcd's
 * server does), so it is not restarted nor waited for.
 */
function liveness(r: Run, ticksMax: number): void {
  const { c } = r
  c.heal()
  c.trace('--- liveness phase ---')
  const decommissioned = new Set<NodeId>()
  for (const id of c.ids) c.restart(id)
  const value = `final${r.seed}`
  let proposedIn = -1
  for (let t = 0; ; t++) {
    c.stabilize()
    decommission(r, decommissioned)
    const l = c.stableLeader()
    if (l !== undefined) {
      const term = c.status(l).term
      if (!c.applied(l).includes(value) && proposedIn !== term && c.propose(l, value).ok) proposedIn = term
      if (c.applied(l).includes(value) && converged(c, l)) {
        r.stats.livenessTicks = t
        return
      }
    }
    if (t >= ticksMax) {
      const state = c
        .liveIds()
        .map((id) => {
          const s = c.status(id)
          return `n${id} ${s.role} t${s.term} leader=${s.leader} commit=${s.commit} applied=${s.applied} last=${s.lastIndex} voters=${s.membership.voters.join(',')} learners=${s.membership.learners.join(',')}`
        })
        .join('\n')
      throw new Error(
        `Liveness violated: after healing and ${ticksMax} ticks there is ${l === undefined ? 'no stable leader' : `leader n${l} but no convergence`}\n${state}`,
      )
    }
    c.tick()
  }
}

function decommission(r: Run, done: Set<NodeId>): void {
  const { c } = r
  const l = c.stableLeader()
  const leaderMembers = l === undefined ? undefined : membersOf(c.status(l).membership)
  for (const id of c.liveIds()) {
    const own = c.status(id).membership
    const removedSelf = own.voters.length > 0 && !membersOf(own).includes(id)
    const removedByLeader = r.removed.has(id) && leaderMembers !== undefined && !leaderMembers.includes(id)
    if (removedSelf || removedByLeader) {
      c.crash(id)
      done.add(id)
    }
  }
}

/** converged: every live member the leader knows holds exactly the leader's applied values. */
function converged(c: Cluster, l: NodeId): boolean {
  const want = c.applied(l)
  const canonical = c.committedValues()
  if (!sameValues(want, canonical)) return false
  for (const id of membersOf(c.status(l).membership)) {
    if (!c.isLive(id)) continue
    if (!sameValues(c.applied(id), want)) return false
  }
  return true
}

function sameValues(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((v, k) => v === b[k])
}
