import { assert } from '../core/assert.js'
import { type Index, type NodeId, type ReadId, readId, type Term } from '../core/ids.js'
import type { Engine, EngineFactory, PeerMessage, Ready, Snapshot, Status } from '../engines/engine.js'
import type { StateMachine } from '../kv/state-machine.js'
import type { Transport } from '../net/transport.js'
import { type DurableState, isEmptyBatch, type Storage } from '../storage/storage.js'
import { DEFAULT_HOST_OPTIONS, type HostOptions, validateHostOptions } from './host-options.js'

/**
 * Host is the loop that drives one engine (../../DESIGN.md, "The host loop"): gather inputs
 * (ticks, peer messages, client proposals and reads) → feed the engine → take its Ready → persist
 * it as one batch with one fsync → send its messages → apply committed entries → answer clients
 * and reads → advance. Proposals that arrive while a batch is on disk form the next batch (group
 * commit). The same Host runs in the simulator and in the real node; only the Storage, the
 * Transport and whoever calls tick() differ.
 */

export type HostError =
  /** This node does not lead; retry at the hinted leader (NO_NODE: none known). */
  | { readonly code: 'not-leader'; readonly leaderHint: NodeId }
  /** The command certainly did not take effect: another entry took its place in the log. */
  | { readonly code: 'not-committed' }
  /** The command may or may not take effect; the client cannot know. */
  | { readonly code: 'unknown' }
  /** A read could not be confirmed (leadership changed); it did not run. Retry. */
  | { readonly code: 'read-dropped' }
  /** A queue is full; nothing was done. */
  | { readonly code: 'overloaded' }
  /** The host stopped (crash, shutdown, disk failure) before the request ran; nothing more will be answered. */
  | { readonly code: 'stopped' }

export type HostResult =
  | { readonly ok: true; readonly index: Index; readonly result: Uint8Array }
  | { readonly ok: false; readonly error: HostError }

export type HostCallback = (r: HostResult) => void
export type ReadLevel = 'linearizable' | 'serializable'

interface QueuedProposal {
  readonly cmd: Uint8Array
  readonly done: HostCallback
}

interface PendingRead {
  readonly query: Uint8Array
  readonly done: HostCallback
  /** index: granted read point, once the engine has confirmed it. */
  index?: Index
}

export interface HostConfig<M extends PeerMessage> {
  readonly id: NodeId
  readonly newEngine: EngineFactory<M>
  readonly storage: Storage
  readonly transport: Transport<M>
  readonly stateMachine: StateMachine
  /** What the disk held at start (empty for a new node). */
  readonly durable: DurableState
  /** The voters of a new cluster, for a node whose disk is empty. */
  readonly bootstrap?: readonly NodeId[]
  readonly options?: Partial<HostOptions>
  /** onFatal: the host stopped because its disk failed; the process should exit. */
  readonly onFatal?: (err: Error) => void
  /** onReady: observers (metrics, the simulator) see every Ready after it is handled. */
  readonly onReady?: (rd: Ready<M>) => void
}

export class Host<M extends PeerMessage> {
  readonly id: NodeId
  private readonly engine: Engine<M>
  private readonly opts: HostOptions
  private readonly storage: Storage
  private readonly transport: Transport<M>
  private readonly sm: StateMachine
  private readonly cfg: HostConfig<M>

  private proposalQueue: QueuedProposal[] = []
  /** Proposals handed to the engine and not yet settled, by log index. */
  private readonly waiters = new Map<Index, { term: Term; done: HostCallback }>()
  private readonly reads = new Map<ReadId, PendingRead>()
  private nextReadId = 1
  /** persisting: a Ready is on its way to disk; the engine must not be asked for another. */
  private persisting = false
  private pumping = false
  private stopped = false
  private appliedIndex: Index
  private appliedTerm: Term
  private snapshotIndex: Index
  private snapshotting = false

  constructor(cfg: HostConfig<M>) {
    this.cfg = cfg
    this.id = cfg.id
    this.opts = { ...DEFAULT_HOST_OPTIONS, ...cfg.options }
    validateHostOptions(this.opts)
    this.storage = cfg.storage
    this.transport = cfg.transport
    this.sm = cfg.stateMachine
    const { durable } = cfg
    const fresh = !durable.hardState && !durable.snapshot && durable.entries.length === 0
    if (durable.snapshot) this.sm.restore(durable.snapshot.data)
    this.appliedIndex = durable.snapshot?.meta.index ?? (0 as Index)
    this.appliedTerm = durable.snapshot?.meta.term ?? (0 as Term)
    this.snapshotIndex = this.appliedIndex
    this.engine = cfg.newEngine({
      id: cfg.id,
      hardState: durable.hardState,
      snapshot: durable.snapshot,
      entries: durable.entries,
      applied: this.appliedIndex,
      bootstrap: fresh ? cfg.bootstrap : undefined,
    })
    this.pump()
  }

  // ---------------------------------------------------------------------------------------------
  // Inputs

  tick(): void {
    if (this.stopped) return
    this.engine.tick()
    this.pump()
  }

  receive(msg: M): void {
    if (this.stopped || msg.to !== this.id) return
    this.engine.step(msg)
    this.pump()
  }

  /** propose replicates one command; `done` gets its result once applied here (or an error). */
  propose(cmd: Uint8Array, done: HostCallback): void {
    const refusal = this.refuseProposal()
    if (refusal) {
      done({ ok: false, error: refusal })
      return
    }
    this.proposalQueue.push({ cmd, done })
    this.pump()
  }

  private refuseProposal(): HostError | undefined {
    if (this.stopped) return { code: 'stopped' }
    const st = this.engine.status()
    if (st.role !== 'leader') return { code: 'not-leader', leaderHint: st.leader }
    if (this.proposalQueue.length >= this.opts.proposalQueueMax) return { code: 'overloaded' }
    return undefined
  }

  /**
   * read answers a query. `linearizable` waits for a read barrier (ReadIndex) and for this
   * replica to apply up to it; `serializable` answers from this replica's state at once and may
   * be stale (etcd's meaning).
   */
  read(query: Uint8Array, level: ReadLevel, done: HostCallback): void {
    const full = level === 'linearizable' && this.reads.size >= this.opts.readsPendingMax
    if (this.stopped || full) {
      done({ ok: false, error: { code: this.stopped ? 'stopped' : 'overloaded' } })
    } else if (level === 'serializable') {
      done({ ok: true, index: this.appliedIndex, result: this.sm.query(query) })
    } else {
      const id = readId(this.nextReadId++)
      this.reads.set(id, { query, done })
      this.engine.readBarrier(id)
      this.pump()
    }
  }

  status(): Status {
    return this.engine.status()
  }

  /**
   * stop ends the host (crash or shutdown) and answers every waiting client: commands still queued
   * never reached the log (`stopped`), but those the engine took may yet commit through the
   * other members, so their fate is `unknown`.
   */
  stop(): void {
    if (this.stopped) return
    this.stopped = true
    const stopped: HostResult = { ok: false, error: { code: 'stopped' } }
    for (const p of this.proposalQueue) p.done(stopped)
    for (const w of this.waiters.values()) w.done({ ok: false, error: { code: 'unknown' } })
    for (const r of this.reads.values()) r.done(stopped)
    this.proposalQueue = []
    this.waiters.clear()
    this.reads.clear()
  }

  // ---------------------------------------------------------------------------------------------
  // The loop

  /** pump runs the loop until the engine has nothing more to do or a batch is on its way to disk. */
  private pump(): void {
    if (this.pumping) return // re-entered from a callback: the running pump picks the work up
    this.pumping = true
    try {
      while (!this.stopped && !this.persisting) {
        this.feedProposals()
        if (!this.engine.hasReady()) break
        this.handleReady(this.engine.ready())
      }
    } finally {
      this.pumping = false
    }
  }

  /** feedProposals hands queued commands to the engine as one batch. */
  private feedProposals(): void {
    if (this.proposalQueue.length === 0) return
    const batch = this.proposalQueue.splice(0, this.opts.proposalsPerBatchMax)
    const r = this.engine.propose(batch.map((p) => p.cmd))
    if (!r.ok) {
      const error =
        r.error.code === 'not-leader' || r.error.code === 'transferring-leadership'
          ? ({ code: 'not-leader', leaderHint: r.error.leaderHint } as const)
          : ({ code: 'overloaded' } as const)
      for (const p of batch) p.done({ ok: false, error })
      return
    }
    batch.forEach((p, k) => {
      const index = (r.firstIndex + k) as Index
      // We lead again and reuse an index whose earlier entry left our log unapplied: that entry
      // may still commit through a node that kept it, or never — its client cannot know.
      const previous = this.waiters.get(index)
      if (previous) previous.done({ ok: false, error: { code: 'unknown' } })
      this.waiters.set(index, { term: r.term, done: p.done })
    })
  }

  /** handleReady does the host's duties for one Ready (see Ready in engines/engine.ts). */
  private handleReady(rd: Ready<M>): void {
    if (isEmptyBatch(rd.persist)) {
      this.afterPersist(rd)
      return
    }
    // Step 1: persist, as one batch with one fsync; nothing below happens before it is durable.
    this.persisting = true
    this.storage.persist(rd.persist, (err) => {
      this.persisting = false
      if (err) return this.fail(err)
      if (this.stopped) return
      this.afterPersist(rd)
      this.pump()
    })
  }

  private afterPersist(rd: Ready<M>): void {
    // Step 2: send.
    if (rd.messages.length > 0) this.transport.send(rd.messages)
    // Step 3: apply — a snapshot first, then committed entries in order.
    if (rd.persist.snapshot) this.installSnapshot(rd.persist.snapshot)
    for (const e of rd.committed) {
      assert(e.index === this.appliedIndex + 1, () => `host: applying ${e.index} after ${this.appliedIndex}`)
      const result = e.type === 'normal' && e.data.length > 0 ? this.sm.apply(e) : undefined
      this.appliedIndex = e.index
      this.appliedTerm = e.term
      this.settleWaiter(e.index, e.term, result)
    }
    // Step 4: reads.
    for (const r of rd.reads) {
      const pending = this.reads.get(r.id)
      if (pending) pending.index = r.index
    }
    for (const id of rd.readsDropped) this.finishRead(id, { ok: false, error: { code: 'read-dropped' } })
    this.serveReads()
    // Step 5: advance.
    this.engine.advance(rd)
    this.cfg.onReady?.(rd)
    this.maybeSnapshot()
  }

  private settleWaiter(index: Index, term: Term, result: Uint8Array | undefined): void {
    const w = this.waiters.get(index)
    if (!w) return
    this.waiters.delete(index)
    // An entry is identified by (index, term): another term here means ours was replaced.
    if (w.term !== term || !result) w.done({ ok: false, error: { code: 'not-committed' } })
    else w.done({ ok: true, index, result })
  }

  private installSnapshot(s: Snapshot): void {
    this.sm.restore(s.data)
    this.appliedIndex = s.meta.index
    this.appliedTerm = s.meta.term
    this.snapshotIndex = s.meta.index
    // Proposals the snapshot covers may or may not be in it: we cannot tell their fate.
    for (const [index, w] of this.waiters) {
      if (index <= s.meta.index) {
        this.waiters.delete(index)
        w.done({ ok: false, error: { code: 'unknown' } })
      }
    }
  }

  private serveReads(): void {
    for (const [id, r] of this.reads) {
      if (r.index !== undefined && r.index <= this.appliedIndex) {
        this.finishRead(id, { ok: true, index: this.appliedIndex, result: this.sm.query(r.query) })
      }
    }
  }

  private finishRead(id: ReadId, result: HostResult): void {
    const r = this.reads.get(id)
    if (!r) return
    this.reads.delete(id)
    r.done(result)
  }

  /** maybeSnapshot takes a snapshot every snapshotEntries applied entries, then lets the engine compact. */
  private maybeSnapshot(): void {
    if (this.opts.snapshotEntries === 0 || this.snapshotting) return
    if (this.appliedIndex - this.snapshotIndex < this.opts.snapshotEntries) return
    const snapshot: Snapshot = {
      meta: { index: this.appliedIndex, term: this.appliedTerm, membership: this.engine.status().membership },
      data: this.sm.snapshot(),
    }
    this.snapshotting = true
    this.storage.saveSnapshot(snapshot, this.opts.snapshotRetainEntries, (err) => {
      this.snapshotting = false
      if (err) return this.fail(err)
      if (this.stopped) return
      this.snapshotIndex = snapshot.meta.index
      this.engine.compact(snapshot, this.opts.snapshotRetainEntries)
      this.pump()
    })
  }

  private fail(err: Error): void {
    this.stop()
    this.cfg.onFatal?.(err)
  }
}
