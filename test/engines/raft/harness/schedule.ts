import type { NodeId } from '../../../../src/core/ids.js'
import { type Rng, seededRng } from '../../../../src/core/rng.js'
import type { RaftOptions } from '../../../../src/engines/raft/options.js'
import { chaosStep, type Run, type ScheduleStats, swarmMix } from './chaos.js'
import { Cluster, describeMembership, membersOf } from './cluster.js'
import { InvariantViolation } from './invariants.js'

export type { ScheduleStats }

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
  /** Lease reads with lockstep clocks; default: chosen by the seed (one schedule in five). */
  readonly lease?: boolean
  /** Ticks the liveness phase may take to elect a leader and converge. */
  readonly livenessTicksMax?: number
  /** How many trace lines a failure shows (default 40); they are kept in memory as they happen. */
  readonly traceLines?: number
  /** onCluster sees the cluster as soon as it exists (for debugging tools: inspect it after a failure). */
  readonly onCluster?: (c: Cluster) => void
  /** Overrides of the options the seed picks (e.g. testingBugs, to prove the checks catch them). */
  readonly raft?: Partial<Omit<RaftOptions, 'rng'>>
}

/** LivenessViolation: after healing, the cluster did not elect, commit or converge in time. */
export class LivenessViolation extends Error {
  override readonly name = 'LivenessViolation'
}

/** A ScheduleFailure carries the seed and the cluster's trace tail in its message. */
export class ScheduleFailure extends Error {
  override readonly name = 'ScheduleFailure'
}

const STEPS_MIN = 500
const STABILIZE_ROUNDS_MAX = 100_000
const STEPS_MAX = 2500

/**
 * scheduleRaftOptions picks a configuration for the schedule from its rng. Lease reads are sound
 * only while clocks run at the same rate (RaftOptions.readMode), so lease schedules tick every
 * node together (`lockstep`): they test the lease as specified, not clock drift.
 */
function scheduleRaftOptions(
  rng: Rng,
  membership: boolean,
  lease: boolean,
): Partial<Omit<RaftOptions, 'rng'>> {
  const electionTicks = rng.pick([5, 10])
  const checkQuorum = lease || rng.chance(0.7)
  // A removed node that never hears of its removal keeps campaigning; with neither pre-vote nor
  // check-quorum it disrupts the members for ever (dissertation §4.2.3), so liveness would fail.
  const preVote = rng.chance(0.7) || (membership && !checkQuorum)
  return {
    electionTicks,
    heartbeatTicks: rng.pick([1, 1, 2]),
    preVote,
    checkQuorum,
    readMode: lease ? 'lease' : 'safe',
    leaseDriftTicks: rng.pick([0, 1, 2]),
    inflightMsgsMax: rng.pick([1, 2, 256]),
    inflightBytesMax: rng.pick([0, 0, 16]),
    msgBytesMax: rng.pick([1, 1, 16, 1024 * 1024]),
    uncommittedBytesMax: rng.chance(0.2) ? 64 : 64 * 1024 * 1024,
    committedBytesMax: rng.pick([1, 8 * 1024 * 1024]),
  }
}

/** runSchedule runs one schedule; it throws ScheduleFailure (with the seed) on any violation. */
export function runSchedule(cfg: ScheduleConfig): ScheduleStats {
  const rng = seededRng(cfg.seed)
  const membership = cfg.membership ?? rng.chance(1 / 3)
  const lease = cfg.lease ?? rng.chance(0.2)
  // Some larger clusters start with a learner (from the shared initial snapshot).
  const learners = cfg.nodes >= 4 && rng.chance(0.2) ? [cfg.nodes] : []
  const raft = { ...scheduleRaftOptions(rng, membership, lease), ...cfg.raft }
  const steps = cfg.steps ?? rng.int(STEPS_MIN, STEPS_MAX)
  const traceLines = cfg.traceLines ?? 40
  const c = Cluster.create({
    nodes: cfg.nodes,
    seed: cfg.seed,
    raft,
    learners,
    traceLines: Math.max(1000, traceLines),
  })
  cfg.onCluster?.(c)
  const run: Run = {
    c,
    rng,
    seed: cfg.seed,
    membership,
    lockstep: raft.readMode === 'lease',
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
    electionTicks: raft.electionTicks ?? 10,
    nextValue: 0,
    nextNewId: cfg.nodes + 1,
  }
  const phase = { name: 'chaos', step: 0 }
  try {
    c.trace(
      `schedule seed=${cfg.seed} nodes=${cfg.nodes} steps=${steps} membership=${membership} learners=${learners} raft=${JSON.stringify(raft)}`,
    )
    for (; phase.step < steps; phase.step++) chaosStep(run)
    phase.name = 'liveness'
    liveness(run, cfg.livenessTicksMax ?? 400)
  } catch (e) {
    // A violation's message says everything; anything else (an engine assertion) needs its stack.
    const expected = e instanceof InvariantViolation || e instanceof LivenessViolation
    const msg =
      e instanceof Error ? (expected ? `${e.name}: ${e.message}` : (e.stack ?? e.message)) : String(e)
    const tail = msg.includes('--- trace') && traceLines <= 40 ? '' : `\n${c.traceTail(traceLines)}`
    throw new ScheduleFailure(
      `schedule seed=${cfg.seed} (${cfg.nodes} nodes) failed in the ${phase.name} phase at step ${phase.step}:\n${msg}${tail}`,
      { cause: e },
    )
  }
  run.stats.committed = c.committedValues().length
  run.stats.snapshotsSent = c.deliveredCounts().MsgSnap ?? 0
  return run.stats
}

// ---- the liveness phase -----------------------------------------------------------------------

/**
 * liveness heals the network and restarts every node from its disk, then requires, within
 * `ticksMax` ticks: a stable leader, a fresh proposal committed, and every live member's state
 * machine holding the same values. Removed nodes keep running (they may still be needed: a member
 * that has not applied its newest configuration may need their votes).
 */
function liveness(r: Run, ticksMax: number): void {
  const { c } = r
  c.heal()
  c.trace('--- liveness phase ---')
  for (const id of c.ids) c.restart(id)
  const value = `final${r.seed}`
  let proposedIn = -1
  let leftIn = -1
  for (let t = 0; ; t++) {
    // Catching up a long log one entry per round trip (msgBytesMax=1) takes many rounds.
    c.stabilize(STABILIZE_ROUNDS_MAX)
    const l = c.stableLeader()
    if (l !== undefined) {
      const { term, membership } = c.status(l)
      if (!c.applied(l).includes(value) && proposedIn !== term && c.propose(l, value).ok) proposedIn = term
      // A joint configuration entered with 'joint-explicit' waits for the application to leave it.
      if (membership.votersOutgoing.length > 0 && leftIn !== term) {
        c.changeMembers(l, { changes: [] })
        leftIn = term
      }
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
          return `n${id} ${s.role} t${s.term} leader=${s.leader} commit=${s.commit} applied=${s.applied} last=${s.lastIndex} ${describeMembership(s.membership)}`
        })
        .join('\n')
      throw new LivenessViolation(
        `Liveness violated: after healing and ${ticksMax} ticks there is ${l === undefined ? 'no stable leader' : `leader n${l} but no convergence`}\n${state}`,
      )
    }
    c.tick()
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
