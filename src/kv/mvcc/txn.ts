import { assert, assertNever } from '../../core/assert.js'
import { compareBytes, type KeySpan, spanOf } from './keys.js'
import { shapeRange } from './range.js'
import {
  type Compare,
  type DeleteRangeResponse,
  type KeyValue,
  type MvccError,
  mvccError,
  type PutRequest,
  type PutResponse,
  type RangeRequest,
  type RangeResponse,
  type RequestOp,
  type ResponseOp,
  type Revision,
  type TxnRequest,
} from './types.js'

/**
 * TxnTarget is what a txn needs of the store: reads at a revision, and writes that all land at
 * the one revision being built (see MvccStore.beginWrite). Keeping it an interface keeps this file
 * free of the store's layout.
 */
export interface TxnTarget {
  /** currentRevision is the last committed revision. */
  currentRevision(): Revision
  compactedRevision(): Revision
  /** viewRevision is the revision a read sees inside the write: current + 1 once anything was written. */
  viewRevision(): Revision
  /** liveIn returns the live key-values of `span` at revision `at`, sorted by key. */
  liveIn(span: KeySpan, at: number): KeyValue[]
  writePut(key: Uint8Array, value: Uint8Array, lease: number, prev: KeyValue | undefined): void
  writeDelete(key: Uint8Array): void
}

/** Path records the outcome of a txn's compares and, in order, of its chosen branch's nested txns. */
export interface Path {
  readonly succeeded: boolean
  readonly nested: readonly Path[]
}

/**
 * choosePath evaluates every compare of the txn and of the nested txns on the chosen branches,
 * all against the state before the txn, as etcd's compareToPath does.
 */
export function choosePath(s: TxnTarget, t: TxnRequest): Path {
  const succeeded = t.compare.every((c) => applyCompare(s, c))
  const ops = succeeded ? t.success : t.failure
  const nested = ops.flatMap((op) => (op.op === 'txn' ? [choosePath(s, op.request)] : []))
  return { succeeded, nested }
}

/**
 * applyCompare follows etcd's applyCompare: every key of the span must satisfy the compare; an
 * empty span compares as a zero key-value, except on VALUE, which then always fails (gRPC cannot
 * tell an absent value from an empty one).
 */
export function applyCompare(s: TxnTarget, c: Compare): boolean {
  const kvs = s.liveIn(spanOf(c.key, c.rangeEnd), s.currentRevision())
  if (kvs.length === 0) {
    if (c.target === 'value') return false
    return compareKv(c, undefined)
  }
  return kvs.every((kv) => compareKv(c, kv))
}

function compareKv(c: Compare, kv: KeyValue | undefined): boolean {
  let d: number
  switch (c.target) {
    case 'value':
      d = compareBytes(kv?.value ?? new Uint8Array(0), c.value)
      break
    case 'version':
      d = Math.sign((kv?.version ?? 0) - c.operand)
      break
    case 'create':
      d = Math.sign((kv?.createRevision ?? 0) - c.operand)
      break
    case 'mod':
      d = Math.sign((kv?.modRevision ?? 0) - c.operand)
      break
    case 'lease':
      d = Math.sign((kv?.lease ?? 0) - c.operand)
      break
    default:
      return assertNever(c, 'compare target')
  }
  if (c.result === 'equal') return d === 0
  if (c.result === 'notEqual') return d !== 0
  if (c.result === 'greater') return d > 0
  return d < 0
}

/**
 * checkPath makes etcd's checkTxn: on the chosen path, against the state before the txn, a put
 * with ignore_value/ignore_lease needs a live key, and a range's revision must be neither
 * compacted nor in the future. It returns the first error in op order.
 */
export function checkPath(s: TxnTarget, t: TxnRequest, path: Path): MvccError | undefined {
  let n = 0
  for (const op of path.succeeded ? t.success : t.failure) {
    let err: MvccError | undefined
    if (op.op === 'put') err = checkPutState(s, op.request)
    else if (op.op === 'range') err = checkReadRevision(s, op.request.revision ?? 0)
    else if (op.op === 'txn') err = checkPath(s, op.request, path.nested[n++] as Path)
    if (err !== undefined) return err
  }
  return undefined
}

function checkPutState(s: TxnTarget, r: PutRequest): MvccError | undefined {
  if (!r.ignoreValue && !r.ignoreLease) return undefined
  const live = s.liveIn(spanOf(r.key), s.currentRevision())
  return live.length === 0 ? mvccError('keyNotFound') : undefined
}

/** checkReadRevision refuses a read below the compacted revision or above the current one (0 = current). */
export function checkReadRevision(s: TxnTarget, rev: number): MvccError | undefined {
  if (rev > s.currentRevision()) return mvccError('futureRevision')
  if (rev > 0 && rev < s.compactedRevision()) return mvccError('compacted')
  return undefined
}

/** executeOps runs the chosen branch of a checked txn; it cannot fail. */
export function executeOps(s: TxnTarget, t: TxnRequest, path: Path): ResponseOp[] {
  let n = 0
  return (path.succeeded ? t.success : t.failure).map((op) =>
    executeOp(s, op, () => path.nested[n++] as Path),
  )
}

function executeOp(s: TxnTarget, op: RequestOp, nextPath: () => Path): ResponseOp {
  switch (op.op) {
    case 'range':
      return { op: 'range', response: executeRange(s, op.request) }
    case 'put':
      return { op: 'put', response: executePut(s, op.request) }
    case 'deleteRange': {
      const r = op.request
      const kvs = s.liveIn(spanOf(r.key, r.rangeEnd), s.viewRevision())
      for (const kv of kvs) s.writeDelete(kv.key)
      const response: DeleteRangeResponse = {
        revision: s.viewRevision(),
        deleted: kvs.length,
        prevKvs: r.prevKv ? kvs : [],
      }
      return { op: 'deleteRange', response }
    }
    case 'txn': {
      const path = nextPath()
      const responses = executeOps(s, op.request, path)
      return { op: 'txn', response: { revision: s.viewRevision(), succeeded: path.succeeded, responses } }
    }
    default:
      return assertNever(op, 'request op')
  }
}

/** executeRange reads at the request's revision, or at the txn's own view for revision 0. */
export function executeRange(s: TxnTarget, r: RangeRequest): RangeResponse {
  const rev = r.revision ?? 0
  const at = rev === 0 ? s.viewRevision() : rev
  return shapeRange(s.liveIn(spanOf(r.key, r.rangeEnd), at), r, s.viewRevision())
}

function executePut(s: TxnTarget, r: PutRequest): PutResponse {
  const prev = s.liveIn(spanOf(r.key), s.viewRevision())[0]
  assert(
    prev !== undefined || (!r.ignoreValue && !r.ignoreLease),
    'put: ignore_* on a missing key passed checks',
  )
  const value = r.ignoreValue && prev ? prev.value : r.value.slice()
  const lease = r.ignoreLease && prev ? prev.lease : (r.lease ?? 0)
  s.writePut(r.key, value, lease, prev)
  return r.prevKv && prev !== undefined
    ? { revision: s.viewRevision(), prevKv: prev }
    : { revision: s.viewRevision() }
}
