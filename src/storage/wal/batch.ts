import { assert } from '../../core/assert.js'
import type { Index, Term } from '../../core/ids.js'
import { writeEntry, writeHardState } from '../../engines/codec.js'
import type { HardState } from '../../engines/engine.js'
import type { PersistBatch } from '../storage.js'
import { type SnapshotMarker, writeSnapshotMarker } from './payloads.js'
import { RecordType, RecordWriter } from './record.js'

/**
 * The batches a Wal writes: each is framed as its records followed by a commit record, in one
 * buffer that goes to disk in one write. Recovery applies a batch only once it reads the commit,
 * so a batch is all or nothing.
 */

/** encodeBatch frames a persist batch: snapshot marker (install), entries, hard state, commit. */
export function encodeBatch(batch: PersistBatch, recordBytesMax: number): Uint8Array {
  const w = new RecordWriter(recordBytesMax, 64 + batch.entries.reduce((n, e) => n + 24 + e.data.length, 0))
  if (batch.snapshot) {
    const { index, term } = batch.snapshot.meta
    addMarker(w, { kind: 'install', index, term, compactTo: index })
  }
  for (const e of batch.entries) w.add(RecordType.entry, (b) => writeEntry(b, e), `entry ${e.index}`)
  if (batch.hardState) addHardState(w, batch.hardState)
  return w.add(RecordType.commit, () => {}, 'commit').finish()
}

/** encodeMarkerBatch frames the marker of a snapshot the host saved. */
export function encodeMarkerBatch(marker: SnapshotMarker, recordBytesMax: number): Uint8Array {
  const w = new RecordWriter(recordBytesMax)
  addMarker(w, marker)
  return w.add(RecordType.commit, () => {}, 'commit').finish()
}

/**
 * encodeCarryBatch frames the state a new segment starts with — the current snapshot's marker
 * (as a `save` that drops nothing) and hard state — so that a segment can be read without the
 * ones before it, which lets compaction remove them. Empty if there is nothing to carry.
 */
export function encodeCarryBatch(
  snapshot: { readonly index: Index; readonly term: Term } | undefined,
  hardState: HardState | undefined,
): Uint8Array {
  if (!snapshot && !hardState) return new Uint8Array(0)
  const w = new RecordWriter(Number.MAX_SAFE_INTEGER)
  if (snapshot)
    addMarker(w, { kind: 'save', index: snapshot.index, term: snapshot.term, compactTo: 0 as Index })
  if (hardState) addHardState(w, hardState)
  return w.add(RecordType.commit, () => {}, 'commit').finish()
}

function addMarker(w: RecordWriter, m: SnapshotMarker): void {
  w.add(RecordType.snapshot, (b) => writeSnapshotMarker(b, m), `snapshot marker ${m.index}`)
}

function addHardState(w: RecordWriter, h: HardState): void {
  w.add(RecordType.hardState, (b) => writeHardState(b, h), 'hard state')
}

/**
 * LogBounds follows the shape of the log the calls made so far describe — the last index and the
 * snapshot's — so that persist can assert, when it is called, that a batch leaves no hole that
 * recovery would have to refuse. It applies the rules of replay.ts.
 */
export class LogBounds {
  constructor(
    private snapshotIndex: number | undefined,
    private lastEntryIndex: number | undefined,
  ) {}

  last(): number {
    return this.lastEntryIndex ?? this.snapshotIndex ?? 0
  }

  /** batch asserts that `b`'s entries are contiguous and continue the log, then applies it. */
  batch(b: PersistBatch): void {
    if (b.snapshot) {
      this.snapshotIndex = b.snapshot.meta.index
      this.lastEntryIndex = undefined
    }
    const first = b.entries[0]
    if (!first) return
    assert(first.index >= 1 && first.index <= this.last() + 1, () => {
      return `wal: entries from ${first.index} would leave a gap after ${this.last()}`
    })
    b.entries.forEach((e, k) => {
      assert(
        e.index === first.index + k,
        () => `wal: entry ${e.index} at position ${k} of a batch from ${first.index}`,
      )
    })
    this.lastEntryIndex = first.index + b.entries.length - 1
  }

  /** save applies a saved snapshot: ignored unless newer; entries up to compactTo dropped. */
  save(index: number, compactTo: number): boolean {
    if (this.snapshotIndex !== undefined && index <= this.snapshotIndex) return false
    this.snapshotIndex = index
    if (this.lastEntryIndex !== undefined && this.lastEntryIndex <= compactTo) this.lastEntryIndex = undefined
    return true
  }
}

/** maxEntryIndexOf is the highest entry index in a batch, 0 if none. */
export function maxEntryIndexOf(b: PersistBatch): number {
  return b.entries.at(-1)?.index ?? 0
}
