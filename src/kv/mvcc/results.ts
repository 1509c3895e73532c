import { assertNever } from '../../core/assert.js'
import {
  type BinaryReader,
  type BinaryWriter,
  CodecError,
  decodeExactly,
  encodeWith,
} from '../../core/codec.js'
import { TXN_DEPTH_MAX, tagOf } from './commands.js'
import {
  type DeleteRangeResponse,
  ERROR_MESSAGES,
  type KeyValue,
  type MvccError,
  type MvccErrorCode,
  type PutResponse,
  type RangeResponse,
  type ResponseOp,
  type Revision,
  type TxnResponse,
} from './types.js'

/**
 * MvccResult is what applying a command or answering a query returns, encoded. An operating error
 * (a compacted revision, a duplicate key, bytes that are not a command) is a result like any other:
 * every replica computes the same one, and the proposer hands it to its client.
 */
export type MvccResult =
  | { readonly type: 'range'; readonly response: RangeResponse }
  | { readonly type: 'put'; readonly response: PutResponse }
  | { readonly type: 'deleteRange'; readonly response: DeleteRangeResponse }
  | { readonly type: 'txn'; readonly response: TxnResponse }
  | { readonly type: 'compact'; readonly revision: Revision }
  | { readonly type: 'deleteByLease'; readonly response: DeleteRangeResponse }
  | { readonly type: 'error'; readonly error: MvccError }

const RESULT_TAGS = ['range', 'put', 'deleteRange', 'txn', 'compact', 'deleteByLease', 'error'] as const
const OP_TAGS = ['range', 'put', 'deleteRange', 'txn'] as const
const ERROR_CODES = Object.keys(ERROR_MESSAGES) as MvccErrorCode[]

const rev = (r: BinaryReader): Revision => r.uvarint() as Revision

function writeKv(w: BinaryWriter, kv: KeyValue): void {
  w.bytes(kv.key).uvarint(kv.createRevision).uvarint(kv.modRevision).uvarint(kv.version)
  w.bytes(kv.value).uvarint(kv.lease)
}

function readKv(r: BinaryReader): KeyValue {
  return {
    key: r.bytes(),
    createRevision: rev(r),
    modRevision: rev(r),
    version: r.uvarint(),
    value: r.bytes(),
    lease: r.uvarint(),
  }
}

function writeKvs(w: BinaryWriter, kvs: readonly KeyValue[]): void {
  w.uvarint(kvs.length)
  for (const kv of kvs) writeKv(w, kv)
}

function readList<T>(r: BinaryReader, read: (r: BinaryReader) => T): T[] {
  const n = r.uvarint()
  const out: T[] = []
  for (let i = 0; i < n; i++) out.push(read(r))
  return out
}

function writeOptionalKv(w: BinaryWriter, kv: KeyValue | undefined): void {
  w.bool(kv !== undefined)
  if (kv !== undefined) writeKv(w, kv)
}

function writeRangeResponse(w: BinaryWriter, q: RangeResponse): void {
  w.uvarint(q.revision)
  writeKvs(w, q.kvs)
  w.bool(q.more).uvarint(q.count)
}

const readRangeResponse = (r: BinaryReader): RangeResponse => ({
  revision: rev(r),
  kvs: readList(r, readKv),
  more: r.bool(),
  count: r.uvarint(),
})

function readPutResponse(r: BinaryReader): PutResponse {
  const revision = rev(r)
  return r.bool() ? { revision, prevKv: readKv(r) } : { revision }
}

function writeDeleteResponse(w: BinaryWriter, d: DeleteRangeResponse): void {
  w.uvarint(d.revision).uvarint(d.deleted)
  writeKvs(w, d.prevKvs)
}

const readDeleteResponse = (r: BinaryReader): DeleteRangeResponse => ({
  revision: rev(r),
  deleted: r.uvarint(),
  prevKvs: readList(r, readKv),
})

function writeTxnResponse(w: BinaryWriter, t: TxnResponse): void {
  w.uvarint(t.revision).bool(t.succeeded).uvarint(t.responses.length)
  for (const op of t.responses) {
    w.u8(OP_TAGS.indexOf(op.op))
    if (op.op === 'range') writeRangeResponse(w, op.response)
    else if (op.op === 'put') {
      w.uvarint(op.response.revision)
      writeOptionalKv(w, op.response.prevKv)
    } else if (op.op === 'deleteRange') writeDeleteResponse(w, op.response)
    else writeTxnResponse(w, op.response)
  }
}

function readTxnResponse(r: BinaryReader, depth = 0): TxnResponse {
  if (depth > TXN_DEPTH_MAX) throw new CodecError(`mvcc: txn responses nested deeper than ${TXN_DEPTH_MAX}`)
  const revision = rev(r)
  const succeeded = r.bool()
  const responses = readList(r, (r): ResponseOp => {
    const op = tagOf(r, OP_TAGS, 'response op')
    if (op === 'range') return { op, response: readRangeResponse(r) }
    if (op === 'put') return { op, response: readPutResponse(r) }
    if (op === 'deleteRange') return { op, response: readDeleteResponse(r) }
    return { op, response: readTxnResponse(r, depth + 1) }
  })
  return { revision, succeeded, responses }
}

function writeResult(w: BinaryWriter, res: MvccResult): void {
  w.u8(RESULT_TAGS.indexOf(res.type))
  switch (res.type) {
    case 'range':
      writeRangeResponse(w, res.response)
      return
    case 'put':
      w.uvarint(res.response.revision)
      writeOptionalKv(w, res.response.prevKv)
      return
    case 'deleteRange':
    case 'deleteByLease':
      writeDeleteResponse(w, res.response)
      return
    case 'txn':
      writeTxnResponse(w, res.response)
      return
    case 'compact':
      w.uvarint(res.revision)
      return
    case 'error':
      w.u8(ERROR_CODES.indexOf(res.error.code)).string(res.error.message)
      return
    default:
      assertNever(res, 'mvcc result')
  }
}

function readResult(r: BinaryReader): MvccResult {
  const type = tagOf(r, RESULT_TAGS, 'result')
  switch (type) {
    case 'range':
      return { type, response: readRangeResponse(r) }
    case 'put':
      return { type, response: readPutResponse(r) }
    case 'deleteRange':
    case 'deleteByLease':
      return { type, response: readDeleteResponse(r) }
    case 'txn':
      return { type, response: readTxnResponse(r) }
    case 'compact':
      return { type, revision: rev(r) }
    case 'error':
      return { type, error: { code: tagOf(r, ERROR_CODES, 'error code'), message: r.string() } }
    default:
      return assertNever(type, 'result tag')
  }
}

export const encodeMvccResult = (res: MvccResult): Uint8Array => encodeWith(writeResult, res)
export const decodeMvccResult = (b: Uint8Array): MvccResult => decodeExactly(readResult, b, 'mvcc result')
