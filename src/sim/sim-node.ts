import type { NodeId } from '../core/ids.js'
import type { Rng } from '../core/rng.js'
import type { EngineFactory, PeerMessage, Ready } from '../engines/engine.js'
import { RegisterKv } from '../kv/register-kv.js'
import type { Transport } from '../net/transport.js'
import { Host, type HostCallback, type ReadLevel } from '../node/host.js'
import type { DurableState } from '../storage/storage.js'
import type { EventQueue } from './event-queue.js'
import type { FaultDisk } from './fault-disk.js'

/**
 * SimNode is one member of a simulated group: a Host over a FaultDisk that outlives crashes, and
 * a clock whose ticks come from the event queue at the node's own rate (drift). While the node is
 * down it has no host: messages to it are lost and clients get no answer.
 */
export class SimNode<M extends PeerMessage> {
  private host: Host<M> | undefined
  private stateMachine: RegisterKv | undefined
  /** generation invalidates the tick chain of a previous life. */
  private generation = 0
  /** drift: this node's clock runs (1 + drift) times as fast as true time. */
  private drift = 0
  /** nextTickAt: when the next tick is due in true (virtual) time; fractional under drift. */
  private nextTickAt = 0
  restarts = 0

  constructor(
    readonly id: NodeId,
    private readonly queue: EventQueue,
    readonly disk: FaultDisk,
    private readonly deps: {
      readonly voters: readonly NodeId[]
      readonly newEngine: EngineFactory<M>
      readonly transport: Transport<M>
      readonly tickMs: number
      readonly snapshotEntries: number
      readonly rng: Rng
      readonly onReady: (id: NodeId, rd: Ready<M>) => void
      /** onStart: the node (re)starts from `durable`, all its disk kept. */
      readonly onStart: (id: NodeId, durable: DurableState) => void
      readonly onFatal: (id: NodeId, err: Error) => void
    },
  ) {}

  get up(): boolean {
    return this.host !== undefined
  }

  /** start boots the node from whatever its disk holds (nothing, the first time). */
  start(): void {
    if (this.host) return
    const gen = ++this.generation
    this.stateMachine = new RegisterKv()
    const durable = this.disk.durable()
    this.deps.onStart(this.id, durable)
    this.host = new Host<M>({
      id: this.id,
      newEngine: this.deps.newEngine,
      storage: this.disk,
      transport: this.deps.transport,
      stateMachine: this.stateMachine,
      durable,
      bootstrap: this.deps.voters,
      options: { snapshotEntries: this.deps.snapshotEntries, snapshotRetainEntries: 8 },
      onReady: (rd) => this.deps.onReady(this.id, rd),
      onFatal: (err) => {
        this.deps.onFatal(this.id, err)
        this.crash()
      },
    })
    // A random phase, so that nodes do not tick in lockstep.
    this.nextTickAt = this.queue.now() + this.deps.rng.int(1, this.deps.tickMs)
    this.scheduleTick(gen)
  }

  /** crash kills the process: unsynced writes are lost, waiting clients hear nothing more. */
  crash(): void {
    if (!this.host) return
    this.generation++
    const host = this.host
    this.host = undefined
    host.stop()
    this.disk.crash()
  }

  /** restart starts a node that is down; a node that is up is left alone. */
  restart(): void {
    if (this.host) return
    this.restarts++
    this.start()
  }

  setDrift(drift: number): void {
    this.drift = drift
  }

  /**
   * scheduleTick keeps the exact (fractional) time of the next tick but fires at whole
   * milliseconds, so every event — and every time in the history — is an integer while the
   * clock's rate still follows its drift on average.
   */
  private scheduleTick(gen: number): void {
    const at = Math.max(this.queue.now(), Math.round(this.nextTickAt))
    const tick = () => {
      if (gen !== this.generation || !this.host) return
      this.host.tick()
      this.nextTickAt += this.deps.tickMs / (1 + this.drift)
      this.scheduleTick(gen)
    }
    this.queue.at(at, tick, `tick n${this.id}`)
  }

  receive(m: M): void {
    this.host?.receive(m)
  }

  /** propose and read: a down node never answers (the client's timeout decides). */
  propose(cmd: Uint8Array, done: HostCallback): void {
    this.host?.propose(cmd, done)
  }

  read(query: Uint8Array, level: ReadLevel, done: HostCallback): void {
    this.host?.read(query, level, done)
  }

  status() {
    return this.host?.status()
  }

  /** stateDigest identifies the replica's state, to compare replicas (undefined while down). */
  stateDigest(): string | undefined {
    return this.host ? this.stateMachine?.snapshot().join(',') : undefined
  }
}
