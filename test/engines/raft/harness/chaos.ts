import type { NodeId } from '../../../../src/core/ids.js'
import type { Rng } from '../../../../src/core/rng.js'
import type { MemberChange, Membership } from '../../../../src/engines/engine.js'
import { type Cluster, membersOf } from './cluster.js'

/**
 * The chaotic phase of a random schedule (schedule.ts): each step picks one action — deliver,
 * drop or duplicate any in-flight message, tick, propose, read, partition, crash, restart,
 * compact, transfer leadership, campaign, change membership — with weights the schedule's swarm
 * mix scales.
 */

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

/** Run is one schedule's state, shared by its actions. */
export interface Run {
  readonly c: Cluster
  readonly rng: Rng
  readonly seed: number
  readonly membership: boolean
  /** lockstep: only whole-cluster ticks, so every clock runs at the same rate (lease reads). */
  readonly lockstep: boolean
  readonly stats: ScheduleStats
  readonly removed: Set<NodeId>
  /** Nodes 1..baseNodes were created with the cluster; later ids were added. */
  readonly baseNodes: number
  /** The swarm factor of each action in ACTIONS. */
  readonly mix: readonly number[]
  readonly electionTicks: number
  nextValue: number
  nextNewId: number
}

const ADDED_NODES_MAX = 2

// ---- the chaotic phase ------------------------------------------------------------------------

type Step = (r: Run) => void

/** Now is what the action weights depend on, computed once per step. */
interface Now {
  readonly inFlight: number
  readonly live: number
  readonly down: number
}

interface Action {
  readonly run: Step
  /** weight is the action's base weight now (0: not possible now). */
  readonly weight: (r: Run, now: Now) => number
  /** swarm: the schedule scales this weight by a random factor, possibly 0 (swarm testing). */
  readonly swarm: boolean
}

const ACTIONS: readonly Action[] = [
  {
    run: deliverOne,
    weight: (_, now) => (now.inFlight > 0 ? 30 + Math.min(60, now.inFlight) : 0),
    swarm: false,
  },
  { run: deliverAll, weight: (_, now) => (now.inFlight > 0 ? 3 : 0), swarm: true },
  { run: dropOne, weight: (_, now) => (now.inFlight > 0 ? 4 : 0), swarm: true },
  { run: duplicateOne, weight: (_, now) => (now.inFlight > 0 ? 2 : 0), swarm: true },
  { run: tickOne, weight: (r) => (r.lockstep ? 0 : 14), swarm: true },
  { run: tickAll, weight: () => 8, swarm: false },
  { run: propose, weight: () => 12, swarm: true },
  { run: read, weight: () => 4, swarm: true },
  { run: partition, weight: () => 1, swarm: true },
  { run: isolate, weight: () => 0.7, swarm: true },
  { run: heal, weight: () => 2.5, swarm: false },
  { run: crash, weight: (_, now) => (now.live > 1 ? 0.8 : 0), swarm: true },
  { run: crashLeader, weight: () => 0.5, swarm: true },
  { run: isolateLeader, weight: () => 0.5, swarm: true },
  { run: timeoutOne, weight: (r) => (r.lockstep ? 0 : 1), swarm: true },
  { run: restart, weight: (_, now) => 2 + 2 * now.down, swarm: false },
  { run: compact, weight: () => 6, swarm: true },
  { run: transfer, weight: () => 0.7, swarm: true },
  // A forced campaign (etcd's MsgHup) breaks the campaigner's own lease promise, as a clock that
  // jumps ahead would; lease schedules leave it out, as they leave out unequal ticking.
  { run: campaign, weight: (r) => (r.lockstep ? 0 : 0.7), swarm: true },
  { run: changeMembers, weight: (r) => (r.membership ? 2.5 : 0), swarm: false },
]

const SWARM_FACTORS = [0, 0.25, 1, 1, 2, 4]

/**
 * swarmMix gives each action a random factor for the whole schedule: "swarm testing" (Groce et
 * al., ISSTA 2012) — some schedules crash a lot and never drop, others only reorder — finds
 * more bugs than one fixed mix, because some bugs need an action to be frequent and others
 * need another to be absent.
 */
export function swarmMix(rng: Rng): number[] {
  return ACTIONS.map((a) => (a.swarm ? rng.pick(SWARM_FACTORS) : 1))
}

export function chaosStep(r: Run): void {
  const live = r.c.liveIds().length
  const now: Now = { inFlight: r.c.pendingCount, live, down: r.c.ids.length - live }
  const weights = ACTIONS.map((a, k) => a.weight(r, now) * (r.mix[k] as number))
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

/** crashLeader crashes the leader: the fault that leaves partly replicated entries behind. */
function crashLeader(r: Run): void {
  const l = r.c.leader()
  if (l === undefined) return
  r.c.crash(l)
  r.stats.crashes++
}

function isolateLeader(r: Run): void {
  const l = r.c.leader()
  if (l === undefined) return
  r.c.isolate(l)
  r.stats.partitions++
}

/** timeoutOne ticks one node through a whole election timeout, so it campaigns on its own. */
function timeoutOne(r: Run): void {
  const id = randomLive(r)
  if (id !== undefined) r.c.tick(id, 2 * r.electionTicks)
}

function restart(r: Run): void {
  const down = r.c.ids.filter((id) => !r.c.isLive(id))
  if (down.length > 0) r.c.restart(r.rng.pick(down))
}

function compact(r: Run): void {
  // Mostly the leader: its compaction is what forces InstallSnapshot on a lagging follower.
  const l = r.c.leader()
  const id = l !== undefined && r.rng.chance(0.8) ? l : randomLive(r)
  if (id === undefined) return
  r.c.compact(id, r.rng.pick([0, 0, 1, 3]))
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
 * changeMembers proposes a change on the leader: add a brand-new node as a learner, promote a
 * learner, demote or remove a voter (never below two voters), now and then two at once (which
 * takes a joint configuration), or leave a joint configuration. Refused proposals are ignored.
 */
function changeMembers(r: Run): void {
  const { c, rng } = r
  const l = c.leader()
  if (l === undefined) return
  const m = c.status(l).membership
  if (m.votersOutgoing.length > 0) {
    c.changeMembers(l, { changes: [] })
    return
  }
  const options = memberChangeOptions(r, m)
  if (options.length === 0) return
  const changes = [...rng.pick(options)().changes]
  if (options.length > 1 && rng.chance(0.15)) {
    const second = rng.pick(options)().changes[0]
    if (second && !changes.some((x) => x.node === second.node)) changes.push(second)
  }
  const transition = rng.pick([undefined, undefined, 'joint', 'joint-explicit'] as const)
  const res = c.changeMembers(l, transition ? { changes, transition } : { changes })
  if (res.ok) {
    r.stats.configChanges++
    for (const ch of changes) if (ch.op === 'remove') r.removed.add(ch.node)
  }
}

function memberChangeOptions(r: Run, m: Membership): (() => MemberChange)[] {
  const { c, rng } = r
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
  if (m.learners.length > 0) {
    options.push(() => ({ changes: [{ op: 'addVoter', node: rng.pick(m.learners) }] }))
  }
  if (m.voters.length > 2) {
    options.push(() => ({ changes: [{ op: 'remove', node: rng.pick(m.voters) }] }))
    options.push(() => ({ changes: [{ op: 'addLearner', node: rng.pick(m.voters) }] }))
  }
  return options
}
