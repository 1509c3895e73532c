import type { Entry, Snapshot } from '../engines/engine.js'
import type { DurableState, PersistBatch, Storage, StorageCallback } from './storage.js'

/**
 * MemoryStorage keeps the "disk" in memory and completes every call at once. It is for tests and
 * the in-process demo; nothing survives the process. The simulator's FaultDisk is the version
 * that can lose unsynced writes.
 */
export class MemoryStorage implements Storage {
  private state: DurableState = { entries: [] }

  persist(batch: PersistBatch, done: StorageCallback): void {
    this.state = applyBatchTo(this.state, batch)
    done()
  }

  saveSnapshot(snapshot: Snapshot, retainEntries: number, done: StorageCallback): void {
    this.state = applySnapshotTo(this.state, snapshot, retainEntries)
    done()
  }

  /** durable returns what a restart would find. */
  durable(): DurableState {
    return this.state
  }
}

/**
 * applyBatchTo returns the durable state after a batch, per the Storage contract: a snapshot
 * replaces every entry, new entries replace those at the same or later indexes, a hard state
 * replaces the old one. Shared by the in-memory disks so they all read the contract the same way.
 */
export function applyBatchTo(state: DurableState, batch: PersistBatch): DurableState {
  let entries: readonly Entry[] = batch.snapshot ? [] : state.entries
  const first = batch.entries[0]
  if (first) entries = entries.filter((e) => e.index < first.index).concat(batch.entries)
  return {
    hardState: batch.hardState ?? state.hardState,
    snapshot: batch.snapshot ?? state.snapshot,
    entries,
  }
}

/** applySnapshotTo returns the durable state after saving a host-taken snapshot. */
export function applySnapshotTo(
  state: DurableState,
  snapshot: Snapshot,
  retainEntries: number,
): DurableState {
  if (state.snapshot && snapshot.meta.index <= state.snapshot.meta.index) return state
  const upTo = snapshot.meta.index - retainEntries
  return { hardState: state.hardState, snapshot, entries: state.entries.filter((e) => e.index > upTo) }
}
