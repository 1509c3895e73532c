import { assertNever } from '../../core/assert.js'
import { inSpan, type KeySpan, type KeyString, keyString, spanOf } from './keys.js'
import {
  type DeleteRangeRequest,
  type MvccError,
  mvccError,
  type PutRequest,
  type RangeRequest,
  type RequestOp,
  type TxnRequest,
} from './types.js'

/**
 * The checks etcd's gRPC layer makes on a request before it reaches the store (v3rpc's
 * checkRangeRequest / checkPutRequest / checkDeleteRequest / checkTxnRequest): they depend on the
 * request alone, never on the state. Each returns the first error found, or undefined.
 */

/** TXN_OPS_MAX is etcd's default --max-txn-ops: the most compares, or ops per branch, in a txn. */
export const TXN_OPS_MAX = 128

export function checkRange(r: RangeRequest): MvccError | undefined {
  return r.key.length === 0 ? mvccError('emptyKey') : undefined
}

export function checkPut(r: PutRequest): MvccError | undefined {
  if (r.key.length === 0) return mvccError('emptyKey')
  if (r.ignoreValue && r.value.length !== 0) return mvccError('valueProvided')
  if (r.ignoreLease && (r.lease ?? 0) !== 0) return mvccError('leaseProvided')
  return undefined
}

export function checkDeleteRange(r: DeleteRangeRequest): MvccError | undefined {
  return r.key.length === 0 ? mvccError('emptyKey') : undefined
}

/**
 * checkTxn checks sizes (a nested txn gets what its parent left of opsMax, as etcd does), empty
 * keys, and then that no key is written twice on one path through the txn.
 */
export function checkTxn(t: TxnRequest, opsMax = TXN_OPS_MAX): MvccError | undefined {
  const err = checkTxnShape(t, opsMax)
  if (err !== undefined) return err
  if (writeSets(t.success) === undefined || writeSets(t.failure) === undefined)
    return mvccError('duplicateKey')
  return undefined
}

function checkTxnShape(t: TxnRequest, opsMax: number): MvccError | undefined {
  const opc = Math.max(t.compare.length, t.success.length, t.failure.length)
  if (opc > opsMax) return mvccError('tooManyOps')
  if (t.compare.some((c) => c.key.length === 0)) return mvccError('emptyKey')
  for (const op of [...t.success, ...t.failure]) {
    const err = checkOp(op, opsMax - opc)
    if (err !== undefined) return err
  }
  return undefined
}

function checkOp(op: RequestOp, opsMax: number): MvccError | undefined {
  switch (op.op) {
    case 'range':
      return checkRange(op.request)
    case 'put':
      return checkPut(op.request)
    case 'deleteRange':
      return checkDeleteRange(op.request)
    case 'txn':
      return checkTxnShape(op.request, opsMax)
    default:
      return assertNever(op, 'request op')
  }
}

interface WriteSets {
  readonly puts: Set<KeyString>
  readonly dels: KeySpan[]
}

const deleted = (dels: readonly KeySpan[], k: KeyString): boolean => dels.some((s) => inSpan(s, k))

/**
 * writeSets follows etcd's checkIntervals: it returns the keys put and the spans deleted by a list
 * of ops, or undefined when a key is put twice or put inside a deleted span. The two branches of a
 * nested txn may put the same key (only one of them runs). Unlike etcd, a delete whose range_end
 * is "\0" counts as reaching every key above its start, as it does when executed.
 */
function writeSets(ops: readonly RequestOp[]): WriteSets | undefined {
  const dels: KeySpan[] = []
  for (const op of ops) if (op.op === 'deleteRange') dels.push(spanOf(op.request.key, op.request.rangeEnd))
  const puts = new Set<KeyString>()
  for (const op of ops) {
    if (op.op !== 'txn') continue
    const then = writeSets(op.request.success)
    const otherwise = writeSets(op.request.failure)
    if (then === undefined || otherwise === undefined) return undefined
    for (const k of then.puts) {
      if (puts.has(k) || deleted(dels, k)) return undefined
      puts.add(k)
    }
    for (const k of otherwise.puts) {
      if ((puts.has(k) && !then.puts.has(k)) || deleted(dels, k)) return undefined
      puts.add(k)
    }
    dels.push(...then.dels, ...otherwise.dels)
  }
  for (const op of ops) {
    if (op.op !== 'put') continue
    const k = keyString(op.request.key)
    if (puts.has(k) || deleted(dels, k)) return undefined
    puts.add(k)
  }
  return { puts, dels }
}
