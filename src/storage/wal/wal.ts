import { assert } from '../../core/assert.js'
import type { Index } from '../../core/ids.js'
import type { Logger } from '../../core/logger.js'
import type { HardState, Snapshot } from '../../engines/engine.js'
import { mustSync, type PersistBatch, type Storage, type StorageCallback } from '../storage.js'
import { encodeBatch, encodeCarryBatch, encodeMarkerBatch, LogBounds, maxEntryIndexOf } from './batch.js'
import { ioFailure, isDiskFull, toError } from './errors.js'
import type { FileOps, WalFile } from './file-ops.js'
import { pathOf, segmentName } from './layout.js'
import type { WalOptions } from './options.js'
import { RecordTooLargeError } from './record.js'
import type { SnapshotRef } from './replay.js'
import { installSegment, type PreparedSegment, preallocateSegment } from './segment.js'
import type { SnapshotFiles } from './snapshot-files.js'

/** SegmentInfo is what the Wal knows of a segment file on disk. */
export interface SegmentInfo {
  readonly seq: number
  bytes: number
  /** maxEntryIndex is the highest entry index the segment holds (0 if none): for compaction. */
  maxEntryIndex: number
}

/** WalInit is what openWal found (or created) on disk; the Wal takes ownership of `file`. */
export interface WalInit {
  readonly dir: string
  readonly fs: FileOps
  readonly logger: Logger
  readonly options: WalOptions
  readonly metadata: Uint8Array
  /** segments, oldest first; the last is open in `file` and written at `offset`. */
  readonly segments: SegmentInfo[]
  readonly file: WalFile
  readonly offset: number
  readonly headerEnd: number
  readonly snapshot: SnapshotRef | undefined
  readonly hardState: HardState | undefined
  readonly lastEntryIndex: number | undefined
  readonly snapshotFiles: SnapshotFiles
}

/**
 * Wal is the real node's Storage (DESIGN.md in this folder): batches go to preallocated segment
 * files, one write and one fdatasync each; snapshots go to their own files. Calls run one at a
 * time, in the order made, and their callbacks run in that order, never inside the call.
 *
 * Invariant: once a call has failed (a write, fsync, rename or unlink, or a record over
 * recordBytesMax), `failure` is set and every later call fails at once with it, without touching
 * the disk. Nothing is retried: after a failed fsync the page cache may have dropped the data,
 * so a retry that succeeds proves nothing.
 */
export class Wal implements Storage {
  private readonly init: WalInit
  private readonly fs: FileOps
  private readonly segments: SegmentInfo[]
  /** file is the current (last) segment, open for writing. */
  private file: WalFile
  /** offset is where the next batch goes. Invariant: headerEnd <= offset <= current().bytes. */
  private offset: number
  /** headerEnd is where the current segment's first batch starts. */
  private headerEnd: number
  private snapshot: SnapshotRef | undefined
  private hardState: HardState | undefined
  /** bounds follows the log as the calls made so far (not only the completed ones) shape it. */
  private readonly bounds: LogBounds
  private readonly snapshots: SnapshotFiles
  /** next is the next segment, preallocated in the background; it settles, never rejects. */
  private next: Promise<PreparedSegment | Error>
  /** preparedBytes is the size of the next segment once preallocated, for sizeBytes. */
  private preparedBytes = 0
  private queue: Promise<void> = Promise.resolve()
  private failure: Error | undefined
  private closed = false
  /** unsynced: the current segment ends with a batch written without fdatasync (mustSync). */
  private unsynced = false

  constructor(init: WalInit) {
    this.init = init
    this.fs = init.fs
    this.segments = init.segments
    this.file = init.file
    this.offset = init.offset
    this.headerEnd = init.headerEnd
    this.snapshot = init.snapshot
    this.hardState = init.hardState
    this.bounds = new LogBounds(init.snapshot?.index, init.lastEntryIndex)
    this.snapshots = init.snapshotFiles
    this.next = this.preallocate()
  }

  persist(batch: PersistBatch, done: StorageCallback): void {
    if (this.closed) {
      this.reject(done, new Error('wal: persist after close'))
      return
    }
    this.bounds.batch(batch)
    let encoded: Uint8Array | RecordTooLargeError
    try {
      encoded = encodeBatch(batch, this.init.options.recordBytesMax)
    } catch (e) {
      if (!(e instanceof RecordTooLargeError)) throw e
      encoded = e
    }
    this.enqueue(done, async () => {
      if (encoded instanceof Error) throw encoded
      if (batch.snapshot) await this.writeSnapshotFile(batch.snapshot)
      await this.append(encoded, maxEntryIndexOf(batch), mustSync(batch, this.hardState))
      this.hardState = batch.hardState ?? this.hardState
      if (!batch.snapshot) return
      this.snapshot = { index: batch.snapshot.meta.index, term: batch.snapshot.meta.term }
      // Every entry before this batch is dropped: all segments but this one can go.
      await this.removeSegments(() => true)
      await this.retainSnapshots(this.snapshot.index)
    })
  }

  saveSnapshot(snapshot: Snapshot, retainEntries: number, done: StorageCallback): void {
    if (this.closed) {
      this.reject(done, new Error('wal: saveSnapshot after close'))
      return
    }
    assert(Number.isSafeInteger(retainEntries) && retainEntries >= 0, `wal: retainEntries ${retainEntries}`)
    const { index, term } = snapshot.meta
    const compactTo = Math.max(0, index - retainEntries) as Index
    const newer = this.bounds.save(index, compactTo)
    this.enqueue(done, async () => {
      if (!newer) return // the one held is as new: nothing changes (applySnapshotTo's rule)
      await this.writeSnapshotFile(snapshot)
      await this.append(
        encodeMarkerBatch({ kind: 'save', index, term, compactTo }, Number.MAX_SAFE_INTEGER),
        0,
      )
      this.snapshot = { index, term }
      // Only now that the marker is durable may what it replaces go.
      await this.removeSegments((s) => s.maxEntryIndex <= compactTo)
      await this.retainSnapshots(index)
    })
  }

  /** close waits for the calls in flight, then closes the files. Later calls fail. */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    await this.queue
    // A clean shutdown leaves nothing unsynced, not even a commit index.
    if (this.unsynced && !this.failure) await this.file.datasync().catch(() => {})
    const next = await this.next
    await Promise.allSettled([this.file.close(), ...(next instanceof Error ? [] : [next.file.close()])])
  }

  /** sizeBytes counts the segments (the preallocated next one too) and the snapshot files. */
  sizeBytes(): number {
    return this.segments.reduce((n, s) => n + s.bytes, 0) + this.snapshots.bytes() + this.preparedBytes
  }

  // ---------------------------------------------------------------------------------------------

  private enqueue(done: StorageCallback, job: () => Promise<void>): void {
    this.queue = this.queue.then(async () => {
      if (this.failure) return this.reject(done, this.laterFailure())
      try {
        await job()
      } catch (e) {
        this.failure = toError(e)
        this.init.logger.error(
          { dir: this.init.dir, err: this.failure.message },
          'wal: failed; no more writes',
        )
        return this.reject(done, this.failure)
      }
      process.nextTick(done)
    })
  }

  /** reject calls `done` with `err` outside the caller's stack, keeping callbacks in order. */
  private reject(done: StorageCallback, err: Error): void {
    process.nextTick(done, err)
  }

  private laterFailure(): Error {
    return new Error(`wal: an earlier write failed, so this log takes no more: ${this.failure?.message}`, {
      cause: this.failure,
    })
  }

  /**
   * append writes framed batches at the end of the log, rolling to a new segment if needed, and
   * makes them durable unless `sync` is false (a batch that needs no fsync, see mustSync in
   * storage.ts: skipping it takes one of the three fsyncs off a durable put's path) — but a new
   * segment is always synced, since it carries the state that older segments will drop. An
   * unsynced batch becomes durable with the next fdatasync of the same file.
   */
  private async append(buf: Uint8Array, maxEntryIndex: number, sync = true): Promise<void> {
    let out = buf
    // A batch goes whole into one segment. One that does not fit what is left starts the next
    // segment, unless this one holds no batch yet: then it grows past its size.
    if (this.offset + buf.length > this.current().bytes && this.offset > this.headerEnd) {
      const carry = await this.rollover()
      out = carry.length === 0 ? buf : concat(carry, buf)
      sync = true
    }
    const seg = this.current()
    const name = segmentName(seg.seq)
    assert(this.offset + out.length <= seg.bytes || this.offset === this.headerEnd, () => {
      return `wal: a ${out.length}-byte write at ${this.offset} overflows ${name}, which holds batches`
    })
    try {
      await this.file.write(out, this.offset)
      if (sync) await this.file.datasync()
      this.unsynced = !sync
    } catch (e) {
      throw ioFailure(`writing ${out.length} bytes to ${name} at offset ${this.offset}`, e)
    }
    this.offset += out.length
    seg.bytes = Math.max(seg.bytes, this.offset)
    seg.maxEntryIndex = Math.max(seg.maxEntryIndex, maxEntryIndex)
  }

  /** rollover makes the preallocated segment current; returns the state it must start with. */
  private async rollover(): Promise<Uint8Array> {
    let next = await this.next
    // A full disk may have cleared since the segment was preallocated in the background: try once more.
    if (next instanceof Error && isDiskFull(next.cause)) next = await this.preallocate()
    if (next instanceof Error) throw next
    try {
      await installSegment(this.fs, this.init.dir, next)
    } catch (e) {
      throw ioFailure(`installing ${segmentName(next.seq)}`, e)
    }
    // An unsynced batch at the end of this segment must not be lost while later segments survive:
    // that would leave a hole recovery cannot tell from damage.
    if (this.unsynced) {
      try {
        await this.file.datasync()
      } catch (e) {
        throw ioFailure(`syncing ${segmentName(this.current().seq)} before the next segment`, e)
      }
      this.unsynced = false
    }
    const old = this.file
    this.file = next.file
    this.offset = next.headerEnd
    this.headerEnd = next.headerEnd
    this.segments.push({ seq: next.seq, bytes: next.bytes, maxEntryIndex: 0 })
    this.preparedBytes = 0
    this.next = this.preallocate()
    await old.close().catch(() => {}) // its data is synced; a failed close loses nothing
    this.init.logger.debug({ dir: this.init.dir, seq: next.seq }, 'wal: new segment')
    return encodeCarryBatch(this.snapshot, this.hardState)
  }

  private preallocate(): Promise<PreparedSegment | Error> {
    const seq = this.current().seq + 1
    const { fs, dir, metadata, options } = this.init
    return preallocateSegment(fs, dir, seq, metadata, options.segmentBytes).then(
      (p) => {
        this.preparedBytes = p.bytes
        return p
      },
      (e: unknown) => ioFailure(`preallocating ${segmentName(seq)}`, e),
    )
  }

  private async writeSnapshotFile(s: Snapshot): Promise<void> {
    try {
      await this.snapshots.write(s)
    } catch (e) {
      throw e instanceof RecordTooLargeError
        ? e
        : ioFailure(`writing the snapshot file at ${s.meta.index}`, e)
    }
  }

  /**
   * removeSegments removes segments from the oldest on, while `removable` holds, never the current
   * one. Each removal is made durable before the next, so that a crash leaves a suffix of the
   * segments, never a hole.
   */
  private async removeSegments(removable: (s: SegmentInfo) => boolean): Promise<void> {
    while (this.segments.length > 1 && removable(this.segments[0] as SegmentInfo)) {
      const seg = this.segments[0] as SegmentInfo
      try {
        await this.fs.unlink(pathOf(this.init.dir, segmentName(seg.seq)))
        await this.fs.syncDir(this.init.dir)
      } catch (e) {
        throw ioFailure(`removing ${segmentName(seg.seq)}`, e)
      }
      this.segments.shift()
      this.init.logger.info({ dir: this.init.dir, seq: seg.seq }, 'wal: removed a compacted segment')
    }
  }

  private async retainSnapshots(index: number): Promise<void> {
    try {
      await this.snapshots.retain(index)
    } catch (e) {
      throw ioFailure('removing old snapshot files', e)
    }
  }

  private current(): SegmentInfo {
    return this.segments.at(-1) as SegmentInfo
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length)
  out.set(a)
  out.set(b, a.length)
  return out
}
