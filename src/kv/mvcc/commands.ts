import { assertNever } from '../../core/assert.js'
import {
  type BinaryReader,
  type BinaryWriter,
  CodecError,
  decodeExactly,
  encodeWith,
} from '../../core/codec.js'
import type {
  Compare,
  CompareResult,
  DeleteRangeRequest,
  PutRequest,
  RangeRequest,
  RequestOp,
  SortOrder,
  SortTarget,
  TxnRequest,
} from './types.js'

/**
 * MvccCommand is what the log carries for the MVCC state machine: the writes of etcd's KV service
 * plus lease expiry. Reads (Range) go through `query` instead. Decoders build every optional
 * field, so decode(encode(c)) is c with its defaults filled in; garbage throws CodecError.
 */
export type MvccCommand =
  | { readonly type: 'put'; readonly request: PutRequest }
  | { readonly type: 'deleteRange'; readonly request: DeleteRangeRequest }
  | { readonly type: 'txn'; readonly request: TxnRequest }
  | { readonly type: 'compact'; readonly revision: number }
  | { readonly type: 'deleteByLease'; readonly lease: number }

/** TXN_DEPTH_MAX bounds how deeply decoded txns may nest, so hostile input cannot blow the stack. */
export const TXN_DEPTH_MAX = 16

const COMMAND_TAGS = ['put', 'deleteRange', 'txn', 'compact', 'deleteByLease'] as const
const OP_TAGS = ['range', 'put', 'deleteRange', 'txn'] as const
export const SORT_ORDERS: readonly SortOrder[] = ['none', 'ascend', 'descend']
export const SORT_TARGETS: readonly SortTarget[] = ['key', 'version', 'create', 'mod', 'value']
const COMPARE_RESULTS: readonly CompareResult[] = ['equal', 'greater', 'less', 'notEqual']
const COMPARE_TARGETS = ['version', 'create', 'mod', 'value', 'lease'] as const
const EMPTY = new Uint8Array(0)

/** tagOf reads a u8 that must index `names`. */
export function tagOf<T>(r: BinaryReader, names: readonly T[], what: string): T {
  const t = r.u8()
  const name = names[t]
  if (name === undefined) throw new CodecError(`mvcc: unknown ${what} ${t}`)
  return name
}

export function writeRange(w: BinaryWriter, q: RangeRequest): void {
  w.bytes(q.key)
    .bytes(q.rangeEnd ?? EMPTY)
    .uvarint(q.limit ?? 0)
    .uvarint(q.revision ?? 0)
  w.u8(SORT_ORDERS.indexOf(q.sortOrder ?? 'none')).u8(SORT_TARGETS.indexOf(q.sortTarget ?? 'key'))
  w.bool(q.keysOnly ?? false).bool(q.countOnly ?? false)
  w.uvarint(q.minModRevision ?? 0).uvarint(q.maxModRevision ?? 0)
  w.uvarint(q.minCreateRevision ?? 0).uvarint(q.maxCreateRevision ?? 0)
}

export function readRange(r: BinaryReader): RangeRequest {
  return {
    key: r.bytes(),
    rangeEnd: r.bytes(),
    limit: r.uvarint(),
    revision: r.uvarint(),
    sortOrder: tagOf(r, SORT_ORDERS, 'sort order'),
    sortTarget: tagOf(r, SORT_TARGETS, 'sort target'),
    keysOnly: r.bool(),
    countOnly: r.bool(),
    minModRevision: r.uvarint(),
    maxModRevision: r.uvarint(),
    minCreateRevision: r.uvarint(),
    maxCreateRevision: r.uvarint(),
  }
}

function writePut(w: BinaryWriter, p: PutRequest): void {
  w.bytes(p.key)
    .bytes(p.value)
    .uvarint(p.lease ?? 0)
  w.bool(p.prevKv ?? false)
    .bool(p.ignoreValue ?? false)
    .bool(p.ignoreLease ?? false)
}

function readPut(r: BinaryReader): PutRequest {
  return {
    key: r.bytes(),
    value: r.bytes(),
    lease: r.uvarint(),
    prevKv: r.bool(),
    ignoreValue: r.bool(),
    ignoreLease: r.bool(),
  }
}

function writeDeleteRange(w: BinaryWriter, d: DeleteRangeRequest): void {
  w.bytes(d.key)
    .bytes(d.rangeEnd ?? EMPTY)
    .bool(d.prevKv ?? false)
}

function readDeleteRange(r: BinaryReader): DeleteRangeRequest {
  return { key: r.bytes(), rangeEnd: r.bytes(), prevKv: r.bool() }
}

function writeCompare(w: BinaryWriter, c: Compare): void {
  w.u8(COMPARE_TARGETS.indexOf(c.target)).u8(COMPARE_RESULTS.indexOf(c.result))
  w.bytes(c.key).bytes(c.rangeEnd ?? EMPTY)
  if (c.target === 'value') w.bytes(c.value)
  else w.uvarint(c.operand)
}

function readCompare(r: BinaryReader): Compare {
  const target = tagOf(r, COMPARE_TARGETS, 'compare target')
  const result = tagOf(r, COMPARE_RESULTS, 'compare result')
  const key = r.bytes()
  const rangeEnd = r.bytes()
  if (target === 'value') return { target, result, key, rangeEnd, value: r.bytes() }
  return { target, result, key, rangeEnd, operand: r.uvarint() }
}

function writeOp(w: BinaryWriter, op: RequestOp): void {
  w.u8(OP_TAGS.indexOf(op.op))
  switch (op.op) {
    case 'range':
      writeRange(w, op.request)
      return
    case 'put':
      writePut(w, op.request)
      return
    case 'deleteRange':
      writeDeleteRange(w, op.request)
      return
    case 'txn':
      writeTxn(w, op.request)
      return
    default:
      assertNever(op, 'request op')
  }
}

function readOp(r: BinaryReader, depth: number): RequestOp {
  const op = tagOf(r, OP_TAGS, 'request op')
  if (op === 'range') return { op, request: readRange(r) }
  if (op === 'put') return { op, request: readPut(r) }
  if (op === 'deleteRange') return { op, request: readDeleteRange(r) }
  return { op, request: readTxn(r, depth + 1) }
}

export function writeTxn(w: BinaryWriter, t: TxnRequest): void {
  w.uvarint(t.compare.length)
  for (const c of t.compare) writeCompare(w, c)
  for (const ops of [t.success, t.failure]) {
    w.uvarint(ops.length)
    for (const op of ops) writeOp(w, op)
  }
}

export function readTxn(r: BinaryReader, depth = 0): TxnRequest {
  if (depth > TXN_DEPTH_MAX) throw new CodecError(`mvcc: txns nested deeper than ${TXN_DEPTH_MAX}`)
  const readList = <T>(read: () => T): T[] => {
    const n = r.uvarint()
    const out: T[] = []
    for (let i = 0; i < n; i++) out.push(read())
    return out
  }
  const compare = readList(() => readCompare(r))
  const success = readList(() => readOp(r, depth))
  const failure = readList(() => readOp(r, depth))
  return { compare, success, failure }
}

function writeCommand(w: BinaryWriter, c: MvccCommand): void {
  w.u8(COMMAND_TAGS.indexOf(c.type))
  switch (c.type) {
    case 'put':
      writePut(w, c.request)
      return
    case 'deleteRange':
      writeDeleteRange(w, c.request)
      return
    case 'txn':
      writeTxn(w, c.request)
      return
    case 'compact':
      w.uvarint(c.revision)
      return
    case 'deleteByLease':
      w.uvarint(c.lease)
      return
    default:
      assertNever(c, 'mvcc command')
  }
}

function readCommand(r: BinaryReader): MvccCommand {
  const type = tagOf(r, COMMAND_TAGS, 'command')
  if (type === 'put') return { type, request: readPut(r) }
  if (type === 'deleteRange') return { type, request: readDeleteRange(r) }
  if (type === 'txn') return { type, request: readTxn(r) }
  if (type === 'compact') return { type, revision: r.uvarint() }
  return { type, lease: r.uvarint() }
}

export const encodeMvccCommand = (c: MvccCommand): Uint8Array => encodeWith(writeCommand, c)
export const decodeMvccCommand = (b: Uint8Array): MvccCommand => decodeExactly(readCommand, b, 'mvcc command')
/** A query is an encoded RangeRequest. */
export const encodeRangeQuery = (q: RangeRequest): Uint8Array => encodeWith(writeRange, q)
export const decodeRangeQuery = (b: Uint8Array): RangeRequest =>
  decodeExactly(readRange, b, 'mvcc range query')
