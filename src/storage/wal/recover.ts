import type { Logger } from '../../core/logger.js'
import { ioFailure, WalCorruptionError } from './errors.js'
import type { FileOps, WalFile } from './file-ops.js'
import { pathOf, segmentName } from './layout.js'
import type { WalOptions } from './options.js'
import { Replay } from './replay.js'
import { type SegmentScan, scanSegment } from './scan.js'
import { writeZeros } from './segment.js'
import { sameBytes } from './snapshot-file.js'
import type { SegmentInfo } from './wal.js'

/**
 * recoverSegments reads every segment, oldest first, verifies it (scan.ts) and replays its
 * committed batches (replay.ts). It only reads; openLast() then opens the last segment for
 * appending, clearing its torn tail first if it has one.
 */

export interface RecoveredSegments {
  readonly replay: Replay
  /** metadata is what the segments carry; all must carry the same. */
  readonly metadata: Uint8Array
  readonly segments: SegmentInfo[]
  openLast(): Promise<{ file: WalFile; offset: number; headerEnd: number }>
}

interface Ctx {
  readonly dir: string
  readonly fs: FileOps
  readonly logger: Logger
  readonly options: WalOptions
}

export async function recoverSegments(ctx: Ctx, seqs: readonly number[]): Promise<RecoveredSegments> {
  const first = seqs[0] as number
  seqs.forEach((seq, k) => {
    if (seq !== first + k) throw new WalCorruptionError(segmentName(first + k), 0, 'this segment is missing')
  })
  const replay = new Replay()
  const segments: SegmentInfo[] = []
  let metadata: Uint8Array | undefined
  let last: { scan: SegmentScan; fileBytes: number } | undefined
  for (const [k, seq] of seqs.entries()) {
    const name = segmentName(seq)
    const buf = await ctx.fs.readFile(pathOf(ctx.dir, name)).catch((e: unknown) => {
      throw ioFailure(`reading ${name}`, e)
    })
    const scan = scanSegment(buf, name, k === seqs.length - 1)
    if (scan.header.seq !== seq)
      throw new WalCorruptionError(name, 0, `its header says segment ${scan.header.seq}`)
    metadata ??= scan.header.metadata
    if (!sameBytes(metadata, scan.header.metadata))
      throw new WalCorruptionError(
        name,
        0,
        'it carries other metadata than the first segment (another member?)',
      )
    let maxEntryIndex = 0
    for (const batch of scan.batches) {
      for (const { record, offset } of batch.records) {
        replay.apply(record, name, offset)
        if (record.kind === 'entry') maxEntryIndex = Math.max(maxEntryIndex, record.entry.index)
      }
    }
    segments.push({ seq, bytes: buf.length, maxEntryIndex })
    last = { scan, fileBytes: buf.length }
  }
  replay.finish(segmentName(first))
  const tail = last as { scan: SegmentScan; fileBytes: number }
  const lastInfo = segments.at(-1) as SegmentInfo
  return {
    replay,
    metadata: metadata as Uint8Array,
    segments,
    openLast: () => openLast(ctx, lastInfo, tail.scan, tail.fileBytes),
  }
}

/**
 * openLast opens the last segment for appending at the end of its last committed batch. If a
 * torn tail lies beyond it (or the file is shorter or longer than it should be), the tail is
 * cut and the segment refilled with zeros up to its size, and that is synced before anything is
 * written: a later, shorter batch must not leave the remains of a torn one behind it to be read
 * as records.
 */
async function openLast(
  ctx: Ctx,
  seg: SegmentInfo,
  scan: SegmentScan,
  fileBytes: number,
): Promise<{ file: WalFile; offset: number; headerEnd: number }> {
  const name = segmentName(seg.seq)
  const headerEnd = scan.batches[0]?.offset ?? scan.end
  const size = Math.max(scan.end, ctx.options.segmentBytes)
  let file: WalFile | undefined
  try {
    file = await ctx.fs.open(pathOf(ctx.dir, name), 'existing')
    if (scan.tornBytes > 0 || fileBytes !== size) {
      ctx.logger.warn(
        { file: name, offset: scan.end, tornBytes: scan.tornBytes, fileBytes },
        'wal: clearing a torn tail of the last segment (a write the crash interrupted)',
      )
      await file.truncate(scan.end)
      await writeZeros(file, scan.end, size)
      await file.sync()
      seg.bytes = size
    }
    return { file, offset: scan.end, headerEnd }
  } catch (e) {
    await file?.close().catch(() => {})
    throw ioFailure(`repairing the tail of ${name}`, e)
  }
}
