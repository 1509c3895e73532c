import type { FileOps, WalFile } from './file-ops.js'
import { pathOf, segmentName, TMP_SUFFIX } from './layout.js'
import { writeSegmentHeader } from './payloads.js'
import { RecordType, RecordWriter } from './record.js'

/**
 * Segment files (DESIGN.md, "Segments"). A segment is created whole before it is used: a
 * temporary file gets the segment header and zeros up to its full size — real zeros, not a sparse
 * ftruncate, so that a full disk shows up now rather than in the middle of a record later — is
 * fsynced, and only then renamed into place (with a directory fsync). A segment under its final
 * name therefore always starts with a valid header, and the space after its records reads as
 * zeros, which recovery relies on to find where the writes ended.
 */

/** ZERO_CHUNK_BYTES: zeros are written in chunks of this size, to bound memory. */
const ZERO_CHUNK_BYTES = 1024 * 1024
const zeros = new Uint8Array(ZERO_CHUNK_BYTES)

/** PreparedSegment is a preallocated segment still under its temporary name. */
export interface PreparedSegment {
  readonly seq: number
  readonly file: WalFile
  /** headerEnd is the offset after the header: where the first batch goes. */
  readonly headerEnd: number
  readonly bytes: number
}

export function encodeSegmentHeader(seq: number, metadata: Uint8Array): Uint8Array {
  const w = new RecordWriter(Number.MAX_SAFE_INTEGER, 32 + metadata.length)
  return w
    .add(RecordType.metadata, (b) => writeSegmentHeader(b, { seq, metadata }), 'segment header')
    .finish()
}

/** writeZeros fills [from, to) of `file` with zeros. */
export async function writeZeros(file: WalFile, from: number, to: number): Promise<void> {
  for (let at = from; at < to; at += ZERO_CHUNK_BYTES) {
    await file.write(zeros.subarray(0, Math.min(ZERO_CHUNK_BYTES, to - at)), at)
  }
}

/**
 * preallocateSegment writes segment `seq` under its temporary name and fsyncs it. On failure the
 * temporary file is removed (best effort: it frees the space a full disk needs) and the error is
 * thrown.
 */
export async function preallocateSegment(
  fs: FileOps,
  dir: string,
  seq: number,
  metadata: Uint8Array,
  segmentBytes: number,
): Promise<PreparedSegment> {
  const tmp = pathOf(dir, segmentName(seq) + TMP_SUFFIX)
  const header = encodeSegmentHeader(seq, metadata)
  const bytes = Math.max(segmentBytes, header.length)
  const file = await fs.open(tmp, 'create')
  try {
    await file.write(header, 0)
    await writeZeros(file, header.length, bytes)
    await file.sync()
  } catch (e) {
    await file.close().catch(() => {})
    await fs.unlink(tmp).catch(() => {})
    throw e
  }
  return { seq, file, headerEnd: header.length, bytes }
}

/** installSegment renames a prepared segment to its final name and makes the rename durable. */
export async function installSegment(fs: FileOps, dir: string, s: PreparedSegment): Promise<void> {
  const final = pathOf(dir, segmentName(s.seq))
  await fs.rename(final + TMP_SUFFIX, final)
  await fs.syncDir(dir)
}
