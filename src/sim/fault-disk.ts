import type { Rng } from '../core/rng.js'
import type { Entry, HardState, Snapshot } from '../engines/engine.js'
import { applyBatchTo, applySnapshotTo } from '../storage/memory-storage.js'
import {
  type DurableState,
  mustSync,
  type PersistBatch,
  type Storage,
  type StorageCallback,
} from '../storage/storage.js'
import type { EventId, EventQueue } from './event-queue.js'

/**
 * FaultDisk is the simulator's Storage (DESIGN.md, "Storage"): a disk that holds each write in a
 * buffer until its fsync completes, and loses that buffer when the node crashes (TigerBeetle's
 * testing/storage.zig, FoundationDB's simulated files). It reads batches exactly as MemoryStorage
 * does (applyBatchTo / applySnapshotTo), so the two disks differ only in timing and faults.
 *
 * The disk does one fsync at a time: writes complete in the order they were made, each after its
 * own fsync latency counted from the completion of the write before it. Callbacks run from the
 * event queue, never inside persist() or saveSnapshot(), as with a real disk.
 *
 * As the WAL does, a batch that needs no sync (mustSync in storage.ts: it only moves the commit
 * index) completes at once but is only cached: the next write that is synced makes it durable,
 * and a crash before that loses it.
 */

export interface FaultDiskOptions {
  /** fsyncLatency: whole milliseconds, uniform in [minMs, maxMs]. */
  readonly fsyncLatency: { readonly minMs: number; readonly maxMs: number }
  /**
   * tornWrites: a crash may leave a prefix of the batch being written on disk (see crash()).
   * Without it, a crash loses every write in progress whole.
   */
  readonly tornWrites: boolean
  /** name labels this disk's events in the queue's trace ('disk n1'); default 'disk'. */
  readonly name?: string
}

export interface FaultDiskStats {
  /** writes counts persist and saveSnapshot calls. */
  writes: number
  /** fsyncs counts writes that completed and became durable. */
  fsyncs: number
  /** failed counts writes that completed with an error (failNext); none of them is durable. */
  failed: number
  /** lostOnCrash counts writes that had not completed when the disk crashed (torn ones included). */
  lostOnCrash: number
  /** torn counts crashes that left part of a batch on disk (a prefix of at least one record). */
  torn: number
  /** unsynced counts batches completed without a sync (mustSync false). */
  unsynced: number
}

type Write =
  | {
      readonly kind: 'batch'
      readonly batch: PersistBatch
      readonly done: StorageCallback
      readonly error?: Error
    }
  | {
      readonly kind: 'snapshot'
      readonly snapshot: Snapshot
      readonly retainEntries: number
      readonly done: StorageCallback
      readonly error?: Error
    }

/**
 * WalRecord is one record of a batch in the order a write-ahead log holds them: the snapshot,
 * then each entry, then the hard state (the order of storage.ts's persist contract).
 */
export type WalRecord =
  | { readonly kind: 'snapshot'; readonly snapshot: Snapshot }
  | { readonly kind: 'entry'; readonly entry: Entry }
  | { readonly kind: 'hardState'; readonly hardState: HardState }

/** walRecords lists a batch's records in WAL order. */
export function walRecords(b: PersistBatch): WalRecord[] {
  const out: WalRecord[] = []
  if (b.snapshot) out.push({ kind: 'snapshot', snapshot: b.snapshot })
  for (const entry of b.entries) out.push({ kind: 'entry', entry })
  if (b.hardState) out.push({ kind: 'hardState', hardState: b.hardState })
  return out
}

/** batchOf is the inverse of walRecords: the batch a list of records (in WAL order) stands for. */
export function batchOf(records: readonly WalRecord[]): PersistBatch {
  let snapshot: Snapshot | undefined
  let hardState: HardState | undefined
  const entries: Entry[] = []
  for (const r of records) {
    if (r.kind === 'snapshot') snapshot = r.snapshot
    else if (r.kind === 'entry') entries.push(r.entry)
    else hardState = r.hardState
  }
  return { entries, ...(snapshot && { snapshot }), ...(hardState && { hardState }) }
}

export class FaultDisk implements Storage {
  private state: DurableState
  /** Invariant: writes[0], if any, is in progress: its completion event is `inProgress`. */
  private readonly writes: Write[] = []
  private inProgress: EventId | undefined
  /** generation changes at each crash; a completion event of an older generation does nothing. */
  private generation = 0
  /** failures arm the next writes made, one error each, in order. */
  private readonly failures: Error[] = []
  private readonly label: string
  private readonly counters: FaultDiskStats = {
    writes: 0,
    fsyncs: 0,
    failed: 0,
    lostOnCrash: 0,
    torn: 0,
    unsynced: 0,
  }
  /** cached: batches completed without a sync, oldest first; durable with the next synced write. */
  private cached: PersistBatch[] = []
  /** headUnsynced: the write in progress is a batch that will complete without a sync. */
  private headUnsynced = false

  constructor(
    private readonly queue: EventQueue,
    private readonly rng: Rng,
    private readonly options: FaultDiskOptions,
    initial: DurableState = { entries: [] },
  ) {
    const { minMs, maxMs } = options.fsyncLatency
    if (!(Number.isSafeInteger(minMs) && Number.isSafeInteger(maxMs) && minMs >= 0 && minMs <= maxMs)) {
      throw new RangeError(
        `fault disk: fsyncLatency must be integers 0 <= minMs <= maxMs, got [${minMs}, ${maxMs}]`,
      )
    }
    this.state = initial
    this.label = `${options.name ?? 'disk'} fsync`
  }

  get stats(): Readonly<FaultDiskStats> {
    return this.counters
  }

  /** pending counts the writes not yet completed (the one in progress included). */
  get pending(): number {
    return this.writes.length
  }

  persist(batch: PersistBatch, done: StorageCallback): void {
    // Copy the entry list: the disk holds what was written at the call, whatever the caller does next.
    this.submit({ kind: 'batch', batch: { ...batch, entries: batch.entries.slice() }, done, ...this.armed() })
  }

  saveSnapshot(snapshot: Snapshot, retainEntries: number, done: StorageCallback): void {
    this.submit({ kind: 'snapshot', snapshot, retainEntries, done, ...this.armed() })
  }

  /** durable returns what a restart after a crash would find: the initial state plus every synced write. */
  durable(): DurableState {
    return this.state
  }

  /**
   * failNext makes the next write made (persist or saveSnapshot) fail its fsync: it completes in
   * its turn with `err` and leaves nothing on disk. Each call arms one more write. An armed
   * failure outlives crash(): it then hits the first write of the restarted node.
   */
  failNext(err: Error = new Error('fault disk: fsync failed')): void {
    this.failures.push(err)
  }

  /** disarm cancels failures armed by failNext that no write has hit yet (the nemesis heals). */
  disarm(): void {
    this.failures.length = 0
  }

  /**
   * crash is the node's death: every write not yet completed is lost and its callback never runs.
   * With tornWrites, the batch in progress may leave a prefix of its WAL records (walRecords): the
   * first k of them, k uniform in [0, records - 1], applied as applyBatchTo would — so a torn
   * write never lands whole, and its hard state, which comes last, never survives. A snapshot
   * save in progress is atomic (temp file, fsync, rename) and is simply lost. Writes armed to
   * fail leave nothing. The disk stays usable: the restarted node writes to it as before.
   * Returns durable().
   */
  crash(): DurableState {
    this.generation++
    if (this.inProgress !== undefined) this.queue.cancel(this.inProgress)
    this.inProgress = undefined
    const head = this.writes[0]
    if (head?.kind === 'batch' && head.error === undefined && this.options.tornWrites) {
      const records = walRecords(head.batch)
      const k = records.length >= 2 ? this.rng.int(0, records.length - 1) : 0
      if (k > 0) {
        this.state = applyBatchTo(this.state, batchOf(records.slice(0, k)))
        this.counters.torn++
      }
    }
    this.counters.lostOnCrash += this.writes.length + this.cached.length
    this.writes.length = 0
    this.cached = []
    return this.state
  }

  private armed(): { error?: Error } {
    const error = this.failures.shift()
    return error ? { error } : {}
  }

  private submit(w: Write): void {
    this.counters.writes++
    this.writes.push(w)
    if (this.writes.length === 1) this.startHead()
  }

  private startHead(): void {
    const gen = this.generation
    const { minMs, maxMs } = this.options.fsyncLatency
    const head = this.writes[0]
    const written = this.lastCachedHardState() ?? this.state.hardState
    this.headUnsynced = head?.kind === 'batch' && head.error === undefined && !mustSync(head.batch, written)
    const latency = this.headUnsynced ? 0 : this.rng.int(minMs, maxMs)
    this.inProgress = this.queue.after(latency, () => this.complete(gen), this.label)
  }

  private lastCachedHardState(): HardState | undefined {
    for (let k = this.cached.length - 1; k >= 0; k--) {
      const hs = this.cached[k]?.hardState
      if (hs) return hs
    }
    return undefined
  }

  private complete(gen: number): void {
    // crash() cancels the event too; the generation check is the guarantee, the cancel a tidy-up.
    if (gen !== this.generation) return
    const w = this.writes.shift()
    if (!w) return
    this.inProgress = undefined
    if (w.error) {
      this.counters.failed++
    } else if (this.headUnsynced && w.kind === 'batch') {
      this.counters.unsynced++
      this.cached.push(w.batch)
    } else {
      this.counters.fsyncs++
      // A sync makes every write before it durable too.
      for (const b of this.cached) this.state = applyBatchTo(this.state, b)
      this.cached = []
      this.state =
        w.kind === 'batch'
          ? applyBatchTo(this.state, w.batch)
          : applySnapshotTo(this.state, w.snapshot, w.retainEntries)
    }
    // The next fsync starts when this one ends, before the callback can queue more behind it.
    if (this.writes.length > 0) this.startHead()
    w.done(w.error)
  }
}
