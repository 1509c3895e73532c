import { assertNever } from '../../core/assert.js'
import { type BinaryReader, type BinaryWriter, CodecError, decodeExactly } from '../../core/codec.js'
import type { Index, Term } from '../../core/ids.js'
import { readEntry, readHardState, readIndex, readTerm } from '../../engines/codec.js'
import type { Entry, HardState } from '../../engines/engine.js'
import { WalCorruptionError } from './errors.js'
import { type RawRecord, RecordType } from './record.js'

/**
 * The payloads of WAL records. Entries and hard states use the engine contract's codec
 * (engines/codec.ts); the segment header and the snapshot marker are our own.
 */

/** FORMAT_VERSION is written in every segment header and snapshot file; recovery refuses others. */
export const FORMAT_VERSION = 1

export interface SegmentHeader {
  readonly seq: number
  readonly metadata: Uint8Array
}

/**
 * SnapshotMarker records in the log that a snapshot became durable (its file is written first).
 * - install: a snapshot from the leader, which replaces every entry held.
 * - save: a snapshot the host took; it takes effect only if newer than the one held, and then
 *   entries up to `compactTo` are dropped. A segment starts with a `save` of the current snapshot
 *   and compactTo 0, so that it can be read without the segments before it.
 */
export interface SnapshotMarker {
  readonly kind: 'install' | 'save'
  readonly index: Index
  readonly term: Term
  readonly compactTo: Index
}

export type WalRecord =
  | { readonly kind: 'metadata'; readonly header: SegmentHeader }
  | { readonly kind: 'entry'; readonly entry: Entry }
  | { readonly kind: 'hardState'; readonly hardState: HardState }
  | { readonly kind: 'snapshot'; readonly marker: SnapshotMarker }
  | { readonly kind: 'commit' }

export function writeSegmentHeader(w: BinaryWriter, h: SegmentHeader): void {
  w.u8(FORMAT_VERSION).uvarint(h.seq).bytes(h.metadata)
}

function readSegmentHeader(r: BinaryReader): SegmentHeader {
  const version = r.u8()
  if (version !== FORMAT_VERSION)
    throw new CodecError(`format version ${version}, expected ${FORMAT_VERSION}`)
  return { seq: r.uvarint(), metadata: r.bytes() }
}

const MARKER_KINDS = ['install', 'save'] as const

export function writeSnapshotMarker(w: BinaryWriter, m: SnapshotMarker): void {
  w.u8(MARKER_KINDS.indexOf(m.kind)).uvarint(m.index).uvarint(m.term).uvarint(m.compactTo)
}

function readSnapshotMarker(r: BinaryReader): SnapshotMarker {
  const k = r.u8()
  const kind = MARKER_KINDS[k]
  if (kind === undefined) throw new CodecError(`unknown snapshot marker kind ${k}`)
  const index = readIndex(r, 'snapshot index')
  const term = readTerm(r, 'snapshot term')
  return { kind, index, term, compactTo: readIndex(r, 'compaction index') }
}

/**
 * decodeRecord turns a verified record into a value. A record that verified but does not decode
 * was not written by this code (or this version): it is corruption, reported as such.
 */
export function decodeRecord(raw: RawRecord, file: string): WalRecord {
  try {
    return decodePayload(raw)
  } catch (e) {
    const detail = e instanceof Error ? e.message : String(e)
    throw new WalCorruptionError(file, raw.offset, `a record verified but does not decode (${detail})`)
  }
}

function decodePayload(raw: RawRecord): WalRecord {
  const p = raw.payload
  switch (raw.type) {
    case RecordType.metadata:
      return { kind: 'metadata', header: decodeExactly(readSegmentHeader, p, 'segment header') }
    case RecordType.entry:
      return { kind: 'entry', entry: decodeExactly(readEntry, p, 'entry') }
    case RecordType.hardState:
      return { kind: 'hardState', hardState: decodeExactly(readHardState, p, 'hard state') }
    case RecordType.snapshot:
      return { kind: 'snapshot', marker: decodeExactly(readSnapshotMarker, p, 'snapshot marker') }
    case RecordType.commit:
      if (p.length !== 0) throw new CodecError(`commit record with ${p.length} payload bytes`)
      return { kind: 'commit' }
    case RecordType.snapshotFile:
      throw new CodecError('a snapshot file record inside a segment')
    default:
      return assertNever(raw.type, 'record type')
  }
}
