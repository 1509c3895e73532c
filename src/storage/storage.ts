import type { Entry, HardState, Snapshot } from '../engines/engine.js'

/**
 * The storage contract: what the host needs from a disk. Implementations: the write-ahead log of
 * the real node (storage/wal/, a later milestone), the fault-injecting disk of the simulator
 * (sim/fault-disk.ts) and an in-memory one for tests (storage/memory-storage.ts).
 *
 * Calls complete through callbacks, in the order they were made. A callback with an error means
 * the write may or may not be on disk: the host must stop (never retry an fsync — the page
 * cache may have dropped the data).
 */

/** DurableState is what survives a crash: it is all a restarting node has. */
export interface DurableState {
  readonly hardState?: HardState
  readonly snapshot?: Snapshot
  /** Entries after the snapshot (or from index 1), contiguous. */
  readonly entries: readonly Entry[]
}

/** PersistBatch is one Ready's `persist`: written as one batch, made durable with one fsync. */
export interface PersistBatch {
  readonly hardState?: HardState
  readonly entries: readonly Entry[]
  readonly snapshot?: Snapshot
}

export type StorageCallback = (err?: Error) => void

export interface Storage {
  /**
   * persist writes `batch` — snapshot first, then entries (replacing any held at the same or
   * later indexes), then hard state — and calls `done` once all of it is durable; except that a
   * batch for which mustSync is false may call `done` once written, before it is durable.
   */
  persist(batch: PersistBatch, done: StorageCallback): void
  /**
   * saveSnapshot makes a snapshot the host took durable; afterwards the storage may drop entries
   * up to `snapshot.meta.index - retainEntries`.
   */
  saveSnapshot(snapshot: Snapshot, retainEntries: number, done: StorageCallback): void
}

/** isEmptyBatch: nothing to write, so no fsync is needed before acting on the Ready. */
export function isEmptyBatch(b: PersistBatch): boolean {
  return b.entries.length === 0 && b.hardState === undefined && b.snapshot === undefined
}

/**
 * mustSync says whether a batch must be durable before the host acts on it. Entries, a snapshot,
 * a new term or a vote must: they are promises made to other members. A batch that only moves
 * the commit index need not (etcd's MustSync): a commit index lost in a crash is learned again
 * from the leader, and engines clamp a stale one to what their log holds. `written` is the hard
 * state of the last batch written before this one, synced or not.
 */
export function mustSync(batch: PersistBatch, written: HardState | undefined): boolean {
  if (batch.entries.length > 0 || batch.snapshot) return true
  const hs = batch.hardState
  if (!hs) return false
  return !written || hs.term !== written.term || hs.vote !== written.vote
}
