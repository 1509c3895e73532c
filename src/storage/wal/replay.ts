import { assertNever } from '../../core/assert.js'
import type { Index, Term } from '../../core/ids.js'
import type { Entry, HardState } from '../../engines/engine.js'
import { WalCorruptionError } from './errors.js'
import type { SnapshotMarker, WalRecord } from './payloads.js'

/**
 * Replay rebuilds the durable state from committed records, in log order, by the rules of the
 * Storage contract (the same ones storage/memory-storage.ts's applyBatchTo/applySnapshotTo
 * implement, which the tests hold it to):
 * - an entry replaces every entry held at its index or later;
 * - an `install` marker replaces the snapshot and drops every entry;
 * - a `save` marker newer than the snapshot held replaces it and drops entries up to compactTo;
 *   an older or equal one changes nothing;
 * - a hard state replaces the one held.
 * Entries must stay contiguous: an entry beyond the last index + 1 is corruption (the log lost a
 * record), refused rather than returned with a hole. The one exception is the first entry read:
 * the segments before it may have been removed after a snapshot, and the log then resumes at any
 * index — until a later marker drops what is below it. finish() checks that the result starts
 * where its snapshot ends, which a missing segment would break.
 */

export interface SnapshotRef {
  readonly index: Index
  readonly term: Term
}

export class Replay {
  hardState: HardState | undefined
  snapshot: SnapshotRef | undefined
  /** entries are contiguous; their data are copies, not views into the segment buffers. */
  entries: Entry[] = []
  private sawEntry = false

  /** apply replays one record read at `offset` in `file`. */
  apply(record: WalRecord, file: string, offset: number): void {
    switch (record.kind) {
      case 'entry':
        this.applyEntry(record.entry, file, offset)
        break
      case 'hardState':
        this.hardState = record.hardState
        break
      case 'snapshot':
        this.applyMarker(record.marker)
        break
      case 'metadata':
      case 'commit':
        break
      default:
        assertNever(record, 'record')
    }
  }

  /** lastIndex is the index of the last entry held, or the snapshot's, or 0. */
  lastIndex(): number {
    return this.entries.at(-1)?.index ?? this.snapshot?.index ?? 0
  }

  private applyEntry(e: Entry, file: string, offset: number): void {
    if (e.index < 1 || (this.sawEntry && e.index > this.lastIndex() + 1)) {
      throw new WalCorruptionError(
        file,
        offset,
        `entry ${e.index} would leave a gap after ${this.lastIndex()}`,
      )
    }
    const first = this.entries[0]
    if (first && e.index <= (this.entries.at(-1) as Entry).index) {
      this.entries.length = Math.max(0, e.index - first.index)
    }
    this.entries.push({ term: e.term, index: e.index, type: e.type, data: new Uint8Array(e.data) })
    this.sawEntry = true
  }

  /** finish checks that the entries follow the snapshot (or start at 1); `file` names the log. */
  finish(file: string): void {
    const first = this.entries[0]
    const base = this.snapshot?.index ?? 0
    if (first && first.index > base + 1) {
      throw new WalCorruptionError(
        file,
        0,
        `the log resumes at entry ${first.index} after ${base}: a segment is missing`,
      )
    }
  }

  private applyMarker(m: SnapshotMarker): void {
    const ref: SnapshotRef = { index: m.index, term: m.term }
    if (m.kind === 'install') {
      this.snapshot = ref
      this.entries = []
    } else if (!this.snapshot || m.index > this.snapshot.index) {
      this.snapshot = ref
      this.entries = this.entries.filter((e) => e.index > m.compactTo)
    }
  }
}
