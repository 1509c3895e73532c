import { AssertionFailure } from '../../core/assert.js'
import {
  type BinaryReader,
  type BinaryWriter,
  CodecError,
  decodeExactly,
  encodeWith,
} from '../../core/codec.js'
import { KeyHistory, type KeyRecord } from './key-history.js'
import { compareBytes } from './keys.js'
import { MvccStore } from './store.js'
import type { Revision } from './types.js'
import { TXN_OPS_MAX } from './validate.js'

/**
 * A snapshot is the whole store — both revisions and every kept record of every key, keys in
 * ascending order — so equal stores give equal bytes. Decoding checks the ordering rules the store
 * relies on and throws CodecError on anything else, so a corrupt snapshot is refused rather than
 * loaded into a store that would misanswer.
 */
const SNAPSHOT_VERSION = 1

function writeStore(w: BinaryWriter, s: MvccStore): void {
  const state = s.state()
  w.u8(SNAPSHOT_VERSION).uvarint(state.currentRevision).uvarint(state.compactedRevision)
  w.uvarint(state.histories.length)
  for (const h of state.histories) {
    w.bytes(h.key).uvarint(h.records.length)
    for (const rec of h.records) {
      w.uvarint(rec.rev).uvarint(rec.sub).bool(rec.tombstone)
      if (!rec.tombstone)
        w.bytes(rec.value).uvarint(rec.lease).uvarint(rec.createRevision).uvarint(rec.version)
    }
  }
}

function readHistory(r: BinaryReader, current: number, compacted: number): KeyHistory {
  const h = new KeyHistory(r.bytes().slice())
  const n = r.uvarint()
  if (n === 0) throw new CodecError('mvcc snapshot: empty key history')
  for (let i = 0; i < n; i++) {
    const rev = r.uvarint() as Revision
    const sub = r.uvarint()
    const tombstone = r.bool()
    const prev = h.latest()
    if (rev > current || (prev !== undefined && (rev < prev.rev || (rev === prev.rev && sub <= prev.sub))))
      throw new CodecError('mvcc snapshot: record order')
    if (tombstone && i === 0 && rev <= compacted) throw new CodecError('mvcc snapshot: compacted tombstone')
    let rec: KeyRecord
    if (tombstone) {
      rec = {
        rev,
        sub,
        tombstone,
        value: new Uint8Array(0),
        lease: 0,
        createRevision: 0 as Revision,
        version: 0,
      }
    } else {
      const value = r.bytes().slice()
      const lease = r.uvarint()
      const createRevision = r.uvarint() as Revision
      const version = r.uvarint()
      const expected = prev === undefined ? version : prev.tombstone ? 1 : prev.version + 1
      if (version < 1 || version !== expected || createRevision > rev)
        throw new CodecError('mvcc snapshot: version')
      rec = { rev, sub, tombstone, value, lease, createRevision, version }
    }
    h.append(rec)
  }
  return h
}

function readStore(r: BinaryReader, txnOpsMax: number): MvccStore {
  const version = r.u8()
  if (version !== SNAPSHOT_VERSION) throw new CodecError(`mvcc snapshot: unknown version ${version}`)
  const current = r.uvarint()
  const compacted = r.uvarint()
  if (current < 1 || compacted > current) throw new CodecError('mvcc snapshot: revisions')
  const n = r.uvarint()
  const histories: KeyHistory[] = []
  for (let i = 0; i < n; i++) {
    const h = readHistory(r, current, compacted)
    const prev = histories[histories.length - 1]
    if (prev !== undefined && compareBytes(prev.key, h.key) >= 0)
      throw new CodecError('mvcc snapshot: key order')
    histories.push(h)
  }
  try {
    return MvccStore.fromState(
      {
        currentRevision: current as Revision,
        compactedRevision: compacted as Revision,
        histories,
      },
      txnOpsMax,
    )
  } catch (e) {
    // A snapshot that breaks the store's invariants (say, two changes at one sub-revision) is
    // malformed input like any other, not a bug in this process.
    if (e instanceof AssertionFailure) throw new CodecError(`mvcc snapshot: ${e.message}`)
    throw e
  }
}

/** encodeStore returns the snapshot bytes of `s`. */
export const encodeStore = (s: MvccStore): Uint8Array => encodeWith(writeStore, s)

/** decodeStore rebuilds a store from snapshot bytes; it throws CodecError on malformed input. */
export const decodeStore = (b: Uint8Array, txnOpsMax = TXN_OPS_MAX): MvccStore =>
  decodeExactly((r) => readStore(r, txnOpsMax), b, 'mvcc snapshot')
