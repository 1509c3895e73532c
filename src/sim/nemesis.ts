import type { NodeId } from '../core/ids.js'
import type { Rng } from '../core/rng.js'
import type { PeerMessage } from '../engines/engine.js'
import type { EventQueue } from './event-queue.js'
import {
  bridge,
  isolateNode,
  majorityMinority,
  type NetworkOptions,
  randomHalves,
  ring,
  type SimNetwork,
} from './network.js'
import type { NemesisFault } from './options.js'
import type { SimNode } from './sim-node.js'

/**
 * Nemesis injects faults during the chaos phase, one decision at a time, each undone after a
 * random while, and heals everything when the chaos ends so that liveness can be judged.
 * Every decision comes from the run's Rng, so a seed replays the same faults at the same times.
 */
export interface NemesisDeps<M extends PeerMessage> {
  readonly queue: EventQueue
  readonly rng: Rng
  readonly network: SimNetwork<M>
  readonly nodes: readonly SimNode<M>[]
  readonly baseNetwork: NetworkOptions
  readonly driftMax: number
  /** leader returns the node that currently leads, if any (crashes pick it half the time). */
  readonly leader: () => NodeId | undefined
  readonly log: (event: string) => void
}

const DURATION_MS = { min: 100, max: 1_500 }

export class Nemesis<M extends PeerMessage> {
  faultsInjected = 0

  constructor(
    private readonly deps: NemesisDeps<M>,
    private readonly faults: readonly NemesisFault[],
    /** gapMs: the most time between two fault decisions (the least is a tenth of it). */
    private readonly gapMs: number,
  ) {}

  /** run schedules faults until `untilMs`, then heals at `untilMs`. */
  run(untilMs: number): void {
    const { queue, rng } = this.deps
    const step = () => {
      if (queue.now() >= untilMs || this.faults.length === 0) return
      this.inject(
        rng.pick(this.faults),
        Math.min(untilMs, queue.now() + rng.int(DURATION_MS.min, DURATION_MS.max)),
      )
      queue.after(this.gap(), step, 'nemesis')
    }
    queue.after(this.gap(), step, 'nemesis')
    queue.at(untilMs, () => this.healAll(), 'nemesis heal')
  }

  private gap(): number {
    return this.deps.rng.int(Math.ceil(this.gapMs / 10), this.gapMs)
  }

  private inject(fault: NemesisFault, endMs: number): void {
    const { queue, rng, network, nodes, log } = this.deps
    const ids = nodes.map((n) => n.id)
    const later = (label: string, fn: () => void) => queue.at(endMs, fn, label)
    this.faultsInjected++
    switch (fault) {
      case 'partition': {
        const leader = this.deps.leader()
        const shapes = [
          () => randomHalves(ids, rng),
          () => isolateNode(ids, leader ?? rng.pick(ids)),
          () => majorityMinority(ids, rng),
          () => bridge(ids, rng),
          () => ring(ids, rng),
        ]
        const shape = rng.pick(shapes)()
        network.applyShape(shape)
        log(`partition ${shape.name}`)
        later('nemesis heal partition', () => network.heal())
        break
      }
      case 'crash': {
        const leader = this.deps.leader()
        const up = nodes.filter((n) => n.up)
        if (up.length === 0) break
        const victim =
          leader !== undefined && rng.chance(0.5) ? nodes.find((n) => n.id === leader) : rng.pick(up)
        if (!victim?.up) break
        victim.crash()
        // Half the crashes are quick bounces (a supervisor restarts the process): the node comes
        // back within the same election, which is when forgetting a vote would matter.
        const downMs = rng.chance(0.5) ? rng.int(5, 60) : rng.int(DURATION_MS.min, DURATION_MS.max)
        log(`crash n${victim.id} for ${downMs}ms`)
        queue.after(downMs, () => victim.restart(), `nemesis restart n${victim.id}`)
        break
      }
      case 'drop':
        network.setOptions({ dropRate: 0.05 + rng.float() * 0.3 })
        later('nemesis end drop', () => network.setOptions({ dropRate: this.deps.baseNetwork.dropRate }))
        break
      case 'dup':
        network.setOptions({ duplicateRate: 0.05 + rng.float() * 0.3 })
        later('nemesis end dup', () =>
          network.setOptions({ duplicateRate: this.deps.baseNetwork.duplicateRate }),
        )
        break
      case 'reorder':
        network.setOptions({
          latency: { ...this.deps.baseNetwork.latency, tailProbability: 0.3, tailMaxMs: 80 },
        })
        later('nemesis end reorder', () => network.setOptions({ latency: this.deps.baseNetwork.latency }))
        break
      case 'skew': {
        const node = rng.pick(nodes)
        const drift = (rng.float() * 2 - 1) * this.deps.driftMax
        node.setDrift(drift)
        log(`skew n${node.id} ${(drift * 100).toFixed(1)}%`)
        later(`nemesis end skew n${node.id}`, () => node.setDrift(0))
        break
      }
      case 'disk': {
        // A crash while writes are in flight (torn tail), or an fsync that fails and stops the node.
        const node = rng.pick(nodes)
        if (rng.chance(0.5)) node.disk.failNext(new Error('simulated fsync failure'))
        else node.crash()
        log(`disk fault n${node.id}`)
        later(`nemesis disk restart n${node.id}`, () => node.restart())
        break
      }
    }
  }

  /** healAll ends every fault: the network is whole, clocks are true, every node runs. */
  healAll(): void {
    const { network, nodes, baseNetwork, log } = this.deps
    network.heal()
    network.setOptions(baseNetwork)
    for (const n of nodes) {
      n.setDrift(0)
      n.disk.disarm()
      if (!n.up) n.restart()
    }
    log('heal all')
  }
}
