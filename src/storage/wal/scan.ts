import { WalCorruptionError } from './errors.js'
import { decodeRecord, type SegmentHeader, type WalRecord } from './payloads.js'
import { dataEndOf, type RawRecord, RecordType, readRecordAt } from './record.js'

/**
 * scanSegment reads one segment and decides where its good data ends (DESIGN.md, "Recovery").
 *
 * A segment is a header record, then batches, each ending in a commit record, then zeros. Every
 * record's checksum is verified. Only the last segment may end in a torn tail — an unfinished
 * write of the last batch, whose records and commit never became durable — and only if nothing
 * in it shows a record that was written whole: a record whose checksum fails although its end
 * mark lies inside the written data, or whose length is one bit away from one that verifies, is
 * corruption and refused, as is any damage in an earlier segment. A batch without its commit
 * record at the end of the last segment is torn and dropped whole.
 */

export interface SegmentScan {
  readonly header: SegmentHeader
  /** batches are the committed batches in order; commit records are not included. */
  readonly batches: readonly ScannedBatch[]
  /** end is the offset just after the last commit record: where the next write goes. */
  readonly end: number
  /** tornBytes counts bytes after `end` up to the last non-zero one: a torn tail to clear. */
  readonly tornBytes: number
}

export interface ScannedBatch {
  readonly offset: number
  readonly records: readonly { readonly record: WalRecord; readonly offset: number }[]
}

export function scanSegment(buf: Uint8Array, file: string, isLast: boolean): SegmentScan {
  const dataEnd = dataEndOf(buf)
  const header = readHeader(buf, file, dataEnd)
  const batches: ScannedBatch[] = []
  let pending: { record: WalRecord; offset: number }[] = []
  let end = header.next
  let pos = header.next
  for (;;) {
    const r = readRecordAt(buf, pos, dataEnd)
    if (r.kind === 'end') break
    if (r.kind === 'bad') {
      if (!isLast || r.written) throw new WalCorruptionError(file, pos, r.problem)
      break // a torn tail: what follows was never durable
    }
    const record = decodeRecord(r.record, file)
    if (record.kind === 'metadata')
      throw new WalCorruptionError(file, pos, 'a segment header after the start')
    if (record.kind === 'commit') {
      batches.push({ offset: end, records: pending })
      pending = []
      end = r.record.next
    } else {
      pending.push({ record, offset: pos })
    }
    pos = r.record.next
  }
  if (!isLast) {
    // Nothing tears in a segment after which we wrote more: whatever is not a committed batch
    // followed by zeros is damage.
    if (pending.length > 0) throw new WalCorruptionError(file, end, 'a batch without its commit record')
    if (dataEnd > end) throw new WalCorruptionError(file, dataEnd - 1, 'data after the last batch')
  }
  return { header: header.value, batches, end, tornBytes: Math.max(0, dataEnd - end) }
}

function readHeader(
  buf: Uint8Array,
  file: string,
  dataEnd: number,
): { readonly value: SegmentHeader; readonly next: number } {
  // A segment is renamed into place only after its header was written and synced: a missing or
  // unreadable header is damage, even in the last segment.
  const r = readRecordAt(buf, 0, dataEnd)
  if (r.kind !== 'record') {
    const problem = r.kind === 'bad' ? r.problem : 'the segment is empty'
    throw new WalCorruptionError(file, 0, `no segment header (${problem})`)
  }
  const raw: RawRecord = r.record
  const record = raw.type === RecordType.metadata ? decodeRecord(raw, file) : undefined
  if (record?.kind !== 'metadata')
    throw new WalCorruptionError(file, 0, 'the first record is not a segment header')
  return { value: record.header, next: raw.next }
}
