import { assertNever } from '../../core/assert.js'
import type { KvOp } from '../history.js'
import type { Model, Partition } from '../model.js'

/**
 * KvState is one key's value, or null when the key is absent. The kv model is a register per
 * key, so the state the checker searches over is a single key's: histories are partitioned by
 * key first (each key is an independent object, and linearizability is local).
 */
export type KvState = string | null

/**
 * kvModel is a map of independent registers with get, put, compare-and-set and delete, as etcd
 * and the Synod KV serve them. A cas with expected null succeeds only if the key is absent.
 */
export const kvModel: Model<KvOp, KvState> = {
  name: 'kv',
  init: () => null,
  step(state, op) {
    switch (op.f) {
      case 'get':
        // A get whose result is unknown observed nothing (and the checker drops it as inert).
        return op.result === undefined || op.result === state ? state : undefined
      case 'put':
        return op.value
      case 'cas': {
        const swaps = state === op.expected
        // An unknown cas did whatever the state made it do; an ok one must agree with its result.
        if (op.result !== undefined && op.result !== swaps) return undefined
        return swaps ? op.value : state
      }
      case 'delete':
        return null
      default:
        return assertNever(op, 'kv operation')
    }
  },
  // Keys must tell absent from the empty string apart: '' is a value a client may write.
  key: (state) => (state === null ? '' : `=${state}`),
  partition: partitionByKey,
  inert: (op) => op.f === 'get' && op.result === undefined,
  signature: (op) =>
    JSON.stringify([
      op.f,
      op.key,
      op.f === 'cas' ? op.expected : 0,
      op.f === 'put' || op.f === 'cas' ? op.value : 0,
      op.f === 'get' || op.f === 'cas' ? (op.result === undefined ? 0 : op.result) : 0,
    ]),
  blind: (op) => op.f === 'put' || op.f === 'delete',
  readOnly: (op) => op.f === 'get' || (op.f === 'cas' && op.result === false),
  sees(op) {
    if (op.f === 'get' && op.result !== undefined) return { states: [op.result], elsewhere: 'impossible' }
    if (op.f === 'cas')
      return { states: [op.expected], elsewhere: op.result === true ? 'impossible' : 'unchanged' }
    return undefined
  },
  prepare: mergeUnobservedValues,
  forget: forgetKvOp,
  describeState: (state) => (state === null ? 'absent' : JSON.stringify(state)),
}

/** partitionByKey groups operation indices by key, keys in first-appearance order. */
export function partitionByKey(ops: readonly { readonly key: string }[]): Partition[] {
  const byKey = new Map<string, number[]>()
  ops.forEach((op, i) => {
    const list = byKey.get(op.key)
    if (list === undefined) byKey.set(op.key, [i])
    else list.push(i)
  })
  return [...byKey].map(([name, list]) => ({ name, ops: list }))
}

/** forgetKvOp drops what the client learnt: the return time, the status and any result. */
export function forgetKvOp(op: KvOp): KvOp {
  const { result: _, ...rest } = op as KvOp & { result?: unknown }
  return { ...rest, return: null, status: 'unknown' } as KvOp
}

/**
 * mergeUnobservedValues rewrites every written value that no operation observes (no get returns
 * it, no cas expects it) to one placeholder. No operation can tell such values apart, so the
 * verdict is unchanged (a state holding one fails and passes exactly the tests the other does);
 * but the states merge, and unknown writes of them become interchangeable, which is what keeps
 * the search small when many writes time out. Synod's workloads write unique values, so most
 * unknown writes are never read and collapse into one. Indices are preserved.
 */
export function mergeUnobservedValues(ops: readonly KvOp[]): KvOp[] {
  const observed = new Set<string>()
  for (const op of ops) {
    if (op.f === 'get' && typeof op.result === 'string') observed.add(op.result)
    if (op.f === 'cas' && op.expected !== null) observed.add(op.expected)
  }
  // Any string nobody observes will do as the placeholder.
  let placeholder = '⊥'
  while (observed.has(placeholder)) placeholder += '⊥'
  return ops.map((op) =>
    (op.f === 'put' || op.f === 'cas') && !observed.has(op.value) ? { ...op, value: placeholder } : op,
  )
}
