import { crc32c } from '@node-rs/crc32'
import { assert } from '../../core/assert.js'
import { BinaryWriter } from '../../core/codec.js'

/**
 * The record format shared by WAL segments and snapshot files (DESIGN.md, "Records"):
 *
 *   [length u32 LE][crc32c u32 LE][type u8][payload … END]
 *
 * `length` counts the bytes after the 9-byte header: the payload, whose last byte is always the
 * end mark END. The checksum is CRC-32C over the type and the payload, continued over the length
 * field: the length is covered too, so that a damaged length cannot pass for a record that runs
 * into unwritten space, and it comes last so that the checksum of a body under many candidate
 * lengths costs one pass (see readRecordAt). The end mark means that a record written whole never
 * ends in a zero byte: recovery relies on it to tell a record the disk never finished from one it
 * damaged later.
 */
export const RecordType = {
  /** metadata opens every segment: format version, segment number, the caller's metadata. */
  metadata: 1,
  entry: 2,
  hardState: 3,
  /** snapshot is the marker of a snapshot saved or installed; the data lives in a snapshot file. */
  snapshot: 4,
  /** commit ends a batch: recovery applies a batch only once it has read its commit record. */
  commit: 5,
  /** snapshotFile is the one record of a snapshot file. */
  snapshotFile: 6,
} as const
export type RecordType = (typeof RecordType)[keyof typeof RecordType]

const TYPES: ReadonlySet<number> = new Set(Object.values(RecordType))
export const isRecordType = (b: number): b is RecordType => TYPES.has(b)

export const HEADER_BYTES = 9
export const END = 0x5a

const lengthScratch = new Uint8Array(4)
const lengthView = new DataView(lengthScratch.buffer)

/** recordCrc is the checksum of a record of `length` whose type and payload are `body`. */
export function recordCrc(length: number, body: Uint8Array): number {
  return withLength(crc32c(body), length)
}

/** withLength continues a checksum over `body` with the length field. */
function withLength(bodyCrc: number, length: number): number {
  lengthView.setUint32(0, length, true)
  return crc32c(lengthScratch, bodyCrc) >>> 0
}

/** RecordTooLargeError: persist was asked to write a record over recordBytesMax. Nothing was written. */
export class RecordTooLargeError extends Error {
  override readonly name = 'RecordTooLargeError'
}

/**
 * RecordWriter frames records into one buffer, so that a batch is one write. Each record's length
 * and checksum are filled in by finish(), once its payload is known.
 */
export class RecordWriter {
  private readonly w: BinaryWriter
  private readonly starts: number[] = []

  constructor(
    private readonly recordBytesMax: number,
    capacity = 256,
  ) {
    this.w = new BinaryWriter(capacity)
  }

  get length(): number {
    return this.w.length
  }

  /** add appends one record; `what` names it if it is over recordBytesMax (and then throws). */
  add(type: RecordType, writePayload: (w: BinaryWriter) => void, what: string): this {
    const start = this.w.length
    this.w.u32(0).u32(0).u8(type)
    writePayload(this.w)
    this.w.u8(END)
    const bytes = this.w.length - start
    if (bytes > this.recordBytesMax) {
      throw new RecordTooLargeError(
        `wal: ${what} would be a ${bytes}-byte record, over recordBytesMax (${this.recordBytesMax}); refusing to write it`,
      )
    }
    this.starts.push(start)
    return this
  }

  /** finish returns the framed records; the writer must not be used afterwards. */
  finish(): Uint8Array {
    const buf = this.w.finish()
    const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength)
    this.starts.forEach((start, k) => {
      const end = this.starts[k + 1] ?? buf.length
      const length = end - start - HEADER_BYTES
      view.setUint32(start, length, true)
      view.setUint32(start + 4, recordCrc(length, buf.subarray(start + 8, end)), true)
    })
    return buf
  }
}

/** RawRecord is a record whose checksum verified; `payload` excludes the end mark. */
export interface RawRecord {
  readonly type: RecordType
  readonly payload: Uint8Array
  readonly offset: number
  /** next is the offset just after the record. */
  readonly next: number
}

export type ReadResult =
  | { readonly kind: 'record'; readonly record: RawRecord }
  /** end: only zero bytes (or the end of the file) from here on, or an all-zero header. */
  | { readonly kind: 'end' }
  /**
   * bad: no valid record here. `written` says the bytes show a record that was written whole and
   * damaged afterwards (corruption wherever it is); otherwise it may be a write the disk never
   * finished (a torn tail, if this is the end of the last segment).
   */
  | { readonly kind: 'bad'; readonly written: boolean; readonly problem: string }

/**
 * readRecordAt reads the record at `pos`. `dataEnd` is the offset just after the last non-zero
 * byte of `buf` (0 if none): everything from there on was never written, or was lost.
 */
export function readRecordAt(buf: Uint8Array, pos: number, dataEnd: number): ReadResult {
  assert(pos >= 0 && dataEnd <= buf.length, 'readRecordAt: position out of range')
  if (pos >= dataEnd) return { kind: 'end' }
  if (pos + HEADER_BYTES > buf.length)
    return { kind: 'bad', written: false, problem: 'a record header is cut short by the end of the file' }
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength)
  const length = view.getUint32(pos, true)
  const crc = view.getUint32(pos + 4, true)
  const type = buf[pos + 8] as number
  if (length === 0 && crc === 0 && type === 0) return { kind: 'end' }
  const next = pos + HEADER_BYTES + length
  if (length >= 1 && next <= buf.length && recordCrc(length, buf.subarray(pos + 8, next)) === crc) {
    if (buf[next - 1] !== END) return { kind: 'bad', written: true, problem: 'a record lacks its end mark' }
    if (!isRecordType(type)) return { kind: 'bad', written: true, problem: `unknown record type ${type}` }
    return {
      kind: 'record',
      record: { type, payload: buf.subarray(pos + HEADER_BYTES, next - 1), offset: pos, next },
    }
  }
  // The record is damaged or unfinished. It was written whole if its last byte (the end mark,
  // never zero) lies inside the written data, or if its length was damaged: some other length
  // ending on an end mark inside the written data makes it verify.
  const written = (length >= 1 && next <= dataEnd) || verifiesUnderOtherLength(buf, pos, crc, dataEnd)
  const problem =
    next > buf.length
      ? `a record of length ${length} runs past the end of the file`
      : `checksum mismatch in a record of length ${length}`
  return { kind: 'bad', written, problem }
}

/**
 * verifiesUnderOtherLength: is there an end q <= dataEnd, with an end mark at q - 1, such that
 * the bytes from `pos` to q verify as a record of length q - pos - 9 with checksum `crc`? One pass
 * over the body: the checksum of each longer prefix continues the one before.
 */
function verifiesUnderOtherLength(buf: Uint8Array, pos: number, crc: number, dataEnd: number): boolean {
  const bodyStart = pos + 8
  let state = 0
  let from = bodyStart
  for (let q = pos + HEADER_BYTES + 1; q <= dataEnd; q++) {
    if (buf[q - 1] !== END) continue
    state = crc32c(buf.subarray(from, q), state)
    from = q
    if (withLength(state, q - pos - HEADER_BYTES) === crc) return true
  }
  return false
}

/**
 * dataEndOf returns the offset just after the last non-zero byte of `buf`, 0 if all are zero.
 * The last segment is mostly zeros at startup (tens of MiB), so whole aligned words are skipped
 * first, then the bytes of the word that is not zero.
 */
export function dataEndOf(buf: Uint8Array): number {
  const aligned = (4 - (buf.byteOffset % 4)) % 4
  let i = buf.length
  if (i - aligned >= 64) {
    const count = Math.floor((i - aligned) / 4)
    const words = new Uint32Array(buf.buffer, buf.byteOffset + aligned, count)
    for (let k = aligned + count * 4; i > k; i--) if (buf[i - 1] !== 0) return i
    let w = count
    while (w > 0 && words[w - 1] === 0) w--
    i = aligned + w * 4
  }
  while (i > 0 && buf[i - 1] === 0) i--
  return i
}
