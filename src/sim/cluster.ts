import { type NodeId, nodeId } from '../core/ids.js'
import { type Rng, seededRng } from '../core/rng.js'
import type { Ready } from '../engines/engine.js'
import type { RaftMessage } from '../engines/raft/messages.js'
import { DEFAULT_RAFT_OPTIONS } from '../engines/raft/options.js'
import { RaftEngine } from '../engines/raft/raft.js'
import { EventQueue } from './event-queue.js'
import { FaultDisk } from './fault-disk.js'
import { SafetyMonitor } from './monitor.js'
import { type NetworkOptions, SimNetwork } from './network.js'
import type { SimOptions } from './options.js'
import { SimNode } from './sim-node.js'

/**
 * SimCluster is a simulated group, built but not yet started: the event queue, the network, one
 * SimNode per member over its own FaultDisk, and the safety monitor watching them. runSimulation
 * drives one with a workload and a nemesis; scripted tests drive one step by step.
 */
export interface SimCluster {
  readonly rng: Rng
  readonly queue: EventQueue
  readonly network: SimNetwork<RaftMessage>
  readonly nodes: readonly SimNode<RaftMessage>[]
  readonly ids: readonly NodeId[]
  readonly monitor: SafetyMonitor
  /** leaderTerms: who was seen leading each term. */
  readonly leaderTerms: ReadonlyMap<number, NodeId>
  readonly log: readonly string[]
  note(event: string): void
}

export const BASE_NETWORK: NetworkOptions = {
  latency: { minMs: 1, maxMs: 4, tailProbability: 0.01, tailMaxMs: 20 },
  dropRate: 0,
  duplicateRate: 0,
}
const FSYNC_LATENCY = { minMs: 1, maxMs: 3 }
const LOG_LINES_MAX = 2_000
const SUPERVISOR_RESTART_MS = 300

export function createSimCluster(seed: number, options: SimOptions): SimCluster {
  const rng = seededRng(seed)
  const queue = new EventQueue()
  const log: string[] = []
  const note = (event: string) => {
    if (log.length < LOG_LINES_MAX) log.push(`${queue.now().toFixed(0).padStart(6)}ms ${event}`)
  }
  const ids = Array.from({ length: options.nodes }, (_, k) => nodeId(k + 1))
  const nodes: SimNode<RaftMessage>[] = []
  const network = new SimNetwork<RaftMessage>(queue, rng.fork(), BASE_NETWORK, (m) =>
    nodes[m.to - 1]?.receive(m),
  )
  const leaderTerms = new Map<number, NodeId>()
  const monitor = new SafetyMonitor()
  const onReady = (id: NodeId, rd: Ready<RaftMessage>) => {
    monitor.observe(id, rd, queue.now())
    const s = rd.status
    if (s.role === 'leader' && !leaderTerms.has(s.term)) {
      leaderTerms.set(s.term, id)
      note(`n${id} leads term ${s.term}`)
    }
  }
  const bugs = Object.fromEntries(options.bugs.map((b) => [b, true]))
  for (const id of ids) {
    const nodeRng = rng.fork()
    const disk = new FaultDisk(queue, rng.fork(), {
      fsyncLatency: FSYNC_LATENCY,
      tornWrites: options.nemesis.includes('disk'),
    })
    nodes.push(
      new SimNode<RaftMessage>(id, queue, disk, {
        voters: ids,
        newEngine: (start) =>
          new RaftEngine(
            {
              ...DEFAULT_RAFT_OPTIONS,
              rng: nodeRng.fork(),
              readMode: options.readMode,
              msgBytesMax: options.msgBytesMax,
              testingBugs: bugs,
            },
            start,
          ),
        transport: network.transportFor(id),
        tickMs: options.tickMs,
        snapshotEntries: options.snapshotEntries,
        rng: nodeRng,
        onReady,
        onStart: (n, durable) => monitor.restarted(n, durable),
        onFatal: (n, err) => {
          note(`n${n} stopped: ${err.message}`)
          // A supervisor restarts a process that stopped on a disk error, after a while.
          queue.after(SUPERVISOR_RESTART_MS, () => nodes[n - 1]?.restart(), `supervisor restart n${n}`)
        },
      }),
    )
  }
  return { rng, queue, network, nodes, ids, monitor, leaderTerms, log, note }
}
