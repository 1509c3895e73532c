import { assert, assertNever } from '../core/assert.js'
import type { NodeId } from '../core/ids.js'
import type { Rng } from '../core/rng.js'
import type { PeerMessage } from '../engines/engine.js'
import type { Transport } from '../net/transport.js'
import type { EventQueue } from './event-queue.js'
import type { PartitionShape } from './partition-shapes.js'

export {
  bridge,
  isolateNode,
  majorityMinority,
  type PartitionShape,
  randomHalves,
  ring,
  type ShapeKind,
} from './partition-shapes.js'

/**
 * The simulated network: the Transport of every simulated node (DESIGN.md, "Simulation and
 * checking"). Each message gets its own fate when it is sent — lost, delivered once, or
 * delivered twice — and its own latency, so messages overtake each other. Partitions and blocked
 * links are checked both when a message is sent and when it arrives, so a cut that starts while
 * a message is in flight loses it, as a cable pulled mid-transfer would.
 *
 * Every decision draws from the Rng in a fixed order per message (drop, latency, duplicate,
 * duplicate's latency), so the same seed and the same sends give the same deliveries.
 */

/** LatencyOptions: whole milliseconds, uniform in [minMs, maxMs], plus a long tail. */
export interface LatencyOptions {
  readonly minMs: number
  readonly maxMs: number
  /** tailProbability: the chance that a message is delayed by a further uniform [0, tailMaxMs]. */
  readonly tailProbability: number
  readonly tailMaxMs: number
}

export interface NetworkOptions {
  readonly latency: LatencyOptions
  /** dropRate: the chance that a message is lost. */
  readonly dropRate: number
  /** duplicateRate: the chance that a delivered message is delivered a second time. */
  readonly duplicateRate: number
}

export type NetworkOptionsUpdate = Partial<Omit<NetworkOptions, 'latency'>> & {
  readonly latency?: Partial<LatencyOptions>
}

export interface NetworkStats {
  /** sent counts messages handed to send(); duplicates are not counted again. */
  sent: number
  /** delivered counts deliveries, duplicates included. */
  delivered: number
  /** dropped counts messages lost to dropRate. */
  dropped: number
  duplicated: number
  /** blocked counts messages lost to a cut link, at send or in flight. */
  blocked: number
  /** blockedInFlight: the part of `blocked` whose link was cut after it was sent. */
  blockedInFlight: number
}

/** validateNetworkOptions throws RangeError unless the options describe a possible network. */
export function validateNetworkOptions(o: NetworkOptions): void {
  const { minMs, maxMs, tailProbability, tailMaxMs } = o.latency
  const ms = (v: number, name: string) => {
    if (!(Number.isSafeInteger(v) && v >= 0))
      throw new RangeError(`network: ${name} must be an integer >= 0, got ${v}`)
  }
  const p = (v: number, name: string) => {
    if (!(v >= 0 && v <= 1)) throw new RangeError(`network: ${name} must be in [0, 1], got ${v}`)
  }
  ms(minMs, 'latency.minMs')
  ms(maxMs, 'latency.maxMs')
  ms(tailMaxMs, 'latency.tailMaxMs')
  if (maxMs < minMs) throw new RangeError(`network: latency.maxMs ${maxMs} < minMs ${minMs}`)
  p(tailProbability, 'latency.tailProbability')
  p(o.dropRate, 'dropRate')
  p(o.duplicateRate, 'duplicateRate')
}

export class SimNetwork<M extends PeerMessage> {
  private opts: NetworkOptions
  /** groupOf: while a partition is up, each node's group; nodes absent from it are isolated. */
  private groupOf: Map<NodeId, number> | undefined
  /** blocked: from → the destinations it cannot reach, besides any partition. */
  private readonly blocked = new Map<NodeId, Set<NodeId>>()
  private readonly counters: NetworkStats = {
    sent: 0,
    delivered: 0,
    dropped: 0,
    duplicated: 0,
    blocked: 0,
    blockedInFlight: 0,
  }

  /**
   * `deliver` receives every message that arrives, at its arrival time (whether the destination
   * is up is the caller's business). `describe` names a message in the queue's trace; by default
   * only its endpoints.
   */
  constructor(
    private readonly queue: EventQueue,
    private readonly rng: Rng,
    options: NetworkOptions,
    private readonly deliver: (m: M) => void,
    private readonly describe: (m: M) => string = (m) => `${m.from}->${m.to}`,
  ) {
    validateNetworkOptions(options)
    this.opts = options
  }

  get stats(): Readonly<NetworkStats> {
    return this.counters
  }

  get options(): NetworkOptions {
    return this.opts
  }

  /** transportFor returns node `id`'s Transport; it asserts that messages come from `id`. */
  transportFor(id: NodeId): Transport<M> {
    return {
      send: (messages) => {
        for (const m of messages) {
          assert(m.from === id, () => `node ${id} sends a message from ${m.from}`)
          this.sendOne(m)
        }
      },
    }
  }

  /** setOptions changes some options for messages sent from now on; in-flight ones keep theirs. */
  setOptions(update: NetworkOptionsUpdate): void {
    const next = { ...this.opts, ...update, latency: { ...this.opts.latency, ...update.latency } }
    validateNetworkOptions(next)
    this.opts = next
  }

  /**
   * partition replaces any earlier partition: nodes talk only within their group, and a node in
   * no group talks to no one but itself. Links blocked with blockLink/blockOneWay stay blocked.
   */
  partition(groups: readonly (readonly NodeId[])[]): void {
    const groupOf = new Map<NodeId, number>()
    groups.forEach((g, i) => {
      for (const id of g) {
        assert(!groupOf.has(id), () => `partition: node ${id} is in two groups`)
        groupOf.set(id, i)
      }
    })
    this.groupOf = groupOf
  }

  /** blockLink cuts the link between a and b in both directions. */
  blockLink(a: NodeId, b: NodeId): void {
    this.blockOneWay(a, b)
    this.blockOneWay(b, a)
  }

  unblockLink(a: NodeId, b: NodeId): void {
    this.unblockOneWay(a, b)
    this.unblockOneWay(b, a)
  }

  /** blockOneWay stops messages from `from` to `to` only (an asymmetric fault). */
  blockOneWay(from: NodeId, to: NodeId): void {
    if (from === to) return
    const set = this.blocked.get(from) ?? new Set<NodeId>()
    set.add(to)
    this.blocked.set(from, set)
  }

  unblockOneWay(from: NodeId, to: NodeId): void {
    this.blocked.get(from)?.delete(to)
  }

  /** heal ends the partition and unblocks every link. */
  heal(): void {
    this.groupOf = undefined
    this.blocked.clear()
  }

  /** applyShape heals the network, then cuts it as `shape` says. */
  applyShape(shape: PartitionShape): void {
    this.heal()
    switch (shape.cut) {
      case 'groups':
        this.partition(shape.groups)
        break
      case 'links':
        for (const [from, to] of shape.blocked) this.blockOneWay(from, to)
        break
      default:
        assertNever(shape, 'partition shape')
    }
  }

  /**
   * canTalk says whether a message from `from` to `to` would get through the cuts now. A node can
   * always talk to itself: a cut is between machines, not inside one.
   */
  canTalk(from: NodeId, to: NodeId): boolean {
    if (from === to) return true
    if (this.blocked.get(from)?.has(to)) return false
    if (!this.groupOf) return true
    const g = this.groupOf.get(from)
    return g !== undefined && g === this.groupOf.get(to)
  }

  private sendOne(m: M): void {
    this.counters.sent++
    if (!this.canTalk(m.from, m.to)) {
      this.counters.blocked++
      return
    }
    if (this.rng.chance(this.opts.dropRate)) {
      this.counters.dropped++
      return
    }
    this.schedule(m)
    if (this.rng.chance(this.opts.duplicateRate)) {
      this.counters.duplicated++
      this.schedule(m)
    }
  }

  private schedule(m: M): void {
    this.queue.after(this.latency(), () => this.arrive(m), `net ${this.describe(m)}`)
  }

  /** latency draws one message's delay in whole milliseconds. */
  private latency(): number {
    const { minMs, maxMs, tailProbability, tailMaxMs } = this.opts.latency
    const base = this.rng.int(minMs, maxMs)
    return this.rng.chance(tailProbability) ? base + this.rng.int(0, tailMaxMs) : base
  }

  private arrive(m: M): void {
    if (!this.canTalk(m.from, m.to)) {
      this.counters.blocked++
      this.counters.blockedInFlight++
      return
    }
    this.counters.delivered++
    this.deliver(m)
  }
}
