import type { RaftMessage } from '../engines/raft/messages.js'
import { type HistoryOp, Workload } from './clients.js'
import { BASE_NETWORK, createSimCluster } from './cluster.js'
import { Nemesis } from './nemesis.js'
import { DEFAULT_SIM_OPTIONS, type SimOptions, validateSimOptions } from './options.js'
import type { SimNode } from './sim-node.js'

/**
 * runSimulation plays one run: `(engine, seed, options)` determines everything — the faults, the
 * timings, the clients' choices — so the same arguments always give the same trace hash and the
 * same history. The run has a chaos phase (nemesis on, clients busy), then a heal phase in which
 * clients keep going for a while and then stop, so the group can be required to converge.
 */

export interface SimStats {
  readonly opsOk: number
  readonly opsFail: number
  readonly opsUnknown: number
  /** leaderChanges: distinct terms in which some node was seen leading. */
  readonly leaderChanges: number
  readonly simulatedMs: number
  readonly events: number
  readonly faults: number
  readonly restarts: number
  readonly messagesSent: number
  readonly messagesDropped: number
}

export interface SimResult {
  readonly seed: number
  readonly options: SimOptions
  readonly history: { readonly model: 'kv'; readonly ops: readonly HistoryOp[] }
  readonly stats: SimStats
  readonly traceHash: string
  /** liveness: after healing, a leader, progress and identical replicas (VOPR's liveness mode). */
  readonly liveness: { readonly ok: boolean; readonly reason?: string }
  /** crash: an assertion failed during the run (the run stopped there). */
  readonly crash?: string
  /** safety: a property the SafetyMonitor saw broken (Election, State Machine Safety, Leader Completeness). */
  readonly safety?: string
  /** Notable events (faults, leader changes), with their virtual times. */
  readonly log: readonly string[]
}

export function runSimulation(seed: number, overrides: Partial<SimOptions> = {}): SimResult {
  const options: SimOptions = { ...DEFAULT_SIM_OPTIONS, ...overrides }
  validateSimOptions(options)
  const cluster = createSimCluster(seed, options)
  const { rng, queue, network, nodes, ids, monitor, leaderTerms, log, note } = cluster
  for (const n of nodes) n.start()

  const endMs = options.chaosMs + options.healMs
  const workload = new Workload(
    queue,
    rng.fork(),
    {
      nodeIds: ids,
      propose: (node, cmd, done) => nodes[node - 1]?.propose(cmd, done),
      read: (node, query, done) => nodes[node - 1]?.read(query, 'linearizable', done),
    },
    { ...options, stopAtMs: options.chaosMs + Math.floor(options.healMs / 2) },
  )
  workload.start()
  const nemesis = new Nemesis<RaftMessage>(
    {
      queue,
      rng: rng.fork(),
      network,
      nodes,
      baseNetwork: BASE_NETWORK,
      driftMax: options.driftMax,
      leader: () => nodes.find((n) => n.status()?.role === 'leader')?.id,
      log: note,
    },
    options.nemesis,
    options.faultGapMs,
  )
  nemesis.run(options.chaosMs)
  // An assertion anywhere (engine, host, simulator) ends the run: the code broke a rule it states.
  let crash: string | undefined
  try {
    queue.runUntil(endMs, options.eventsMax)
  } catch (err) {
    crash = err instanceof Error ? `${err.name}: ${err.message}` : String(err)
    note(`run stopped by ${crash}`)
  }
  const events = queue.stats.executed

  const ops = workload.history
  const count = (s: HistoryOp['status']) => ops.filter((o) => o.status === s).length
  return {
    seed,
    options,
    history: { model: 'kv', ops },
    stats: {
      opsOk: count('ok'),
      opsFail: count('fail'),
      opsUnknown: count('unknown'),
      leaderChanges: leaderTerms.size,
      simulatedMs: queue.now(),
      events,
      faults: nemesis.faultsInjected,
      restarts: nodes.reduce((sum, n) => sum + n.restarts, 0),
      messagesSent: network.stats.sent,
      messagesDropped: network.stats.dropped,
    },
    traceHash: queue.traceHash(),
    liveness: crash
      ? { ok: false, reason: 'the run stopped on an assertion' }
      : judgeLiveness(nodes, ops, options, events),
    crash,
    safety: monitor.violation,
    log,
  }
}

/**
 * judgeLiveness: once healed, the group must elect a leader, finish operations, and end with
 * every replica holding the same state at the same index.
 */
function judgeLiveness(
  nodes: readonly SimNode<RaftMessage>[],
  ops: readonly HistoryOp[],
  options: SimOptions,
  events: number,
): { ok: boolean; reason?: string } {
  if (events >= options.eventsMax)
    return { ok: false, reason: `the run hit eventsMax (${options.eventsMax})` }
  if (!nodes.some((n) => n.status()?.role === 'leader'))
    return { ok: false, reason: 'no leader after healing' }
  const healedOk = ops.some((o) => o.status === 'ok' && o.f !== 'get' && (o.return ?? 0) >= options.chaosMs)
  if (!healedOk) return { ok: false, reason: 'no write succeeded after healing' }
  const applied = new Set(nodes.map((n) => n.status()?.applied))
  const states = new Set(nodes.map((n) => n.stateDigest()))
  if (applied.size !== 1 || states.size !== 1) {
    return { ok: false, reason: `replicas differ after healing: applied ${[...applied].join(', ')}` }
  }
  return { ok: true }
}
