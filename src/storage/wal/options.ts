/**
 * WalOptions bounds the write-ahead log's files. Both are byte counts.
 * - segmentBytes: the size every segment is preallocated to. A batch that does not fit in what is
 *   left of the current segment starts the next one; a batch bigger than a whole segment gets a
 *   segment of its own, which grows past segmentBytes (see DESIGN.md, "Segments").
 * - recordBytesMax: the largest record persist() writes; a bigger one is refused with an Error.
 *   Recovery reads any record that verifies, whatever this option said when it was written.
 */
export interface WalOptions {
  segmentBytes: number
  recordBytesMax: number
}

const MiB = 1024 * 1024

export const DEFAULT_WAL_OPTIONS: Readonly<WalOptions> = {
  segmentBytes: 64 * MiB,
  recordBytesMax: 64 * MiB,
}

/** SEGMENT_BYTES_MIN leaves room for a segment's header, the state it carries and a few records. */
export const SEGMENT_BYTES_MIN = 512
/** RECORD_BYTES_MIN: a hard state or snapshot marker with large numbers still fits. */
export const RECORD_BYTES_MIN = 64
/** RECORD_BYTES_LIMIT: the format's own limit (the length field is a u32), less the header. */
export const RECORD_BYTES_LIMIT = 0xffff_ffff

/** resolveWalOptions fills in defaults and throws a RangeError naming the first bad option. */
export function resolveWalOptions(partial: Partial<WalOptions> = {}): WalOptions {
  const o: WalOptions = { ...DEFAULT_WAL_OPTIONS, ...partial }
  checkRange('segmentBytes', o.segmentBytes, SEGMENT_BYTES_MIN, 2 ** 40)
  checkRange('recordBytesMax', o.recordBytesMax, RECORD_BYTES_MIN, RECORD_BYTES_LIMIT)
  return o
}

function checkRange(name: string, v: number, min: number, max: number): void {
  if (!Number.isSafeInteger(v) || v < min || v > max)
    throw new RangeError(`wal: ${name} must be an integer in [${min}, ${max}], got ${v}`)
}
