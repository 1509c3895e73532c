import { type BinaryReader, CodecError, decodeExactly } from '../../core/codec.js'
import { bytesFieldBytes, readSnapshot, snapshotBytes, writeSnapshot } from '../../engines/codec.js'
import type { Snapshot } from '../../engines/engine.js'
import { WalCorruptionError } from './errors.js'
import type { FileOps } from './file-ops.js'
import { pathOf, snapshotName, TMP_SUFFIX } from './layout.js'
import { FORMAT_VERSION } from './payloads.js'
import {
  dataEndOf,
  HEADER_BYTES,
  RecordTooLargeError,
  RecordType,
  RecordWriter,
  readRecordAt,
} from './record.js'

/**
 * Snapshot files (DESIGN.md, "Snapshots"): one record of type snapshotFile holding the format
 * version, the WAL's metadata (so that a file from another member is refused) and the snapshot —
 * its index, term, membership and state machine data — behind the record's checksum.
 */

/** SNAPSHOT_FILE_BYTES_MAX: a record's length field is a u32, so a snapshot file is at most 4 GiB. */
export const SNAPSHOT_FILE_BYTES_MAX = 0xffff_ffff

export function encodeSnapshotFile(metadata: Uint8Array, s: Snapshot): Uint8Array {
  // version, metadata, snapshot, end mark: computed first so that a huge snapshot is refused
  // before it is copied, and encoded into a buffer of exactly its size.
  const recordBytes = HEADER_BYTES + 1 + bytesFieldBytes(metadata) + snapshotBytes(s) + 1
  const w = new RecordWriter(SNAPSHOT_FILE_BYTES_MAX, Math.min(recordBytes, SNAPSHOT_FILE_BYTES_MAX))
  if (recordBytes > SNAPSHOT_FILE_BYTES_MAX)
    throw new RecordTooLargeError(
      `wal: a ${recordBytes}-byte snapshot is over the ${SNAPSHOT_FILE_BYTES_MAX}-byte limit`,
    )
  w.add(RecordType.snapshotFile, (b) => writeSnapshot(b.u8(FORMAT_VERSION).bytes(metadata), s), 'snapshot')
  return w.finish()
}

/** decodeSnapshotFile verifies a snapshot file; any damage is a WalCorruptionError naming `file`. */
export function decodeSnapshotFile(
  buf: Uint8Array,
  file: string,
): { metadata: Uint8Array; snapshot: Snapshot } {
  const r = readRecordAt(buf, 0, dataEndOf(buf))
  if (r.kind !== 'record' || r.record.type !== RecordType.snapshotFile)
    throw new WalCorruptionError(
      file,
      0,
      `not a valid snapshot file (${r.kind === 'bad' ? r.problem : 'wrong record'})`,
    )
  if (r.record.next !== buf.length)
    throw new WalCorruptionError(file, r.record.next, 'bytes after the snapshot record')
  try {
    return decodeExactly(readBody, r.record.payload, 'snapshot file')
  } catch (e) {
    throw new WalCorruptionError(
      file,
      HEADER_BYTES,
      `the snapshot verified but does not decode (${String(e)})`,
    )
  }
}

function readBody(r: BinaryReader): { metadata: Uint8Array; snapshot: Snapshot } {
  const version = r.u8()
  if (version !== FORMAT_VERSION)
    throw new CodecError(`format version ${version}, expected ${FORMAT_VERSION}`)
  return { metadata: r.bytes(), snapshot: readSnapshot(r) }
}

/**
 * writeSnapshotFile makes a snapshot durable under its final name: write a temporary file, fsync
 * it, rename it over the final name, fsync the directory. A crash leaves either the old file (or
 * none) or the new one, never a mix. Returns the file's size.
 */
export async function writeSnapshotFile(
  fs: FileOps,
  dir: string,
  metadata: Uint8Array,
  s: Snapshot,
): Promise<number> {
  const bytes = encodeSnapshotFile(metadata, s)
  const final = pathOf(dir, snapshotName(s.meta.index))
  const tmp = final + TMP_SUFFIX
  const f = await fs.open(tmp, 'create')
  try {
    await f.write(bytes, 0)
    await f.sync()
  } finally {
    await f.close()
  }
  await fs.rename(tmp, final)
  await fs.syncDir(dir)
  return bytes.length
}

/** readSnapshotFile loads and verifies the snapshot at `index` and checks it is the one expected. */
export async function readSnapshotFile(
  fs: FileOps,
  dir: string,
  expect: { readonly index: number; readonly term: number; readonly metadata: Uint8Array },
): Promise<{ snapshot: Snapshot; bytes: number }> {
  const name = snapshotName(expect.index)
  let buf: Uint8Array
  try {
    buf = await fs.readFile(pathOf(dir, name))
  } catch (e) {
    throw new WalCorruptionError(name, 0, `the snapshot the log refers to cannot be read (${String(e)})`)
  }
  const { metadata, snapshot } = decodeSnapshotFile(buf, name)
  if (snapshot.meta.index !== expect.index || snapshot.meta.term !== expect.term) {
    const { index, term } = snapshot.meta
    throw new WalCorruptionError(
      name,
      0,
      `holds index ${index} term ${term}, the log expects ${expect.index}/${expect.term}`,
    )
  }
  if (!sameBytes(metadata, expect.metadata))
    throw new WalCorruptionError(name, 0, 'the snapshot belongs to another member (its metadata differ)')
  return { snapshot, bytes: buf.length }
}

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i])
}
