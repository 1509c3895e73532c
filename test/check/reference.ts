import type { KvOp } from '../../src/check/history.js'

/**
 * A deliberately dumb linearizability checker for small single-key histories, to compare the
 * real one against: it tries every subset of the unknown operations and every order of those
 * plus all definite ones, and accepts if some order respects real time and replays on a
 * register. Its register semantics are written out again here, independently of the kv model.
 * Reference: Herlihy & Wing 1990, Definition 3 (linearizable: some completion is equivalent to
 * a legal sequential history that respects the real-time order); an unknown operation may be
 * completed (take effect) or removed.
 */
export function bruteForceLinearizable(ops: readonly KvOp[]): boolean {
  const definite = ops.filter((op) => op.status === 'ok')
  const unknown = ops.filter((op) => op.status === 'unknown' && op.f !== 'get')
  for (let mask = 0; mask < 1 << unknown.length; mask++) {
    const chosen = [...definite, ...unknown.filter((_, i) => mask & (1 << i))]
    if (someOrderWorks(chosen)) return true
  }
  return false
}

/** precedes: a returned before b was called (a strictly earlier clock reading). */
const precedes = (a: KvOp, b: KvOp): boolean => a.return !== null && a.return < b.call

function someOrderWorks(ops: readonly KvOp[]): boolean {
  for (const order of permutations(ops)) {
    const respectsTime = order.every((b, j) => order.slice(j + 1).every((a) => !precedes(a, b)))
    if (respectsTime && replays(order)) return true
  }
  return false
}

/** replays says whether the operations, taking effect in this order, observe what they say they did. */
export function replays(order: readonly KvOp[]): boolean {
  let value: string | null = null
  for (const op of order) {
    if (op.f === 'get') {
      if (op.result !== value) return false
    } else if (op.f === 'put') {
      value = op.value
    } else if (op.f === 'delete') {
      value = null
    } else {
      const matched: boolean = value === op.expected
      if (op.status === 'ok' && op.result !== matched) return false
      if (matched) value = op.value
    }
  }
  return true
}

function* permutations<T>(items: readonly T[]): Generator<T[]> {
  if (items.length <= 1) {
    yield items.slice()
    return
  }
  for (let i = 0; i < items.length; i++) {
    const rest = items.slice(0, i).concat(items.slice(i + 1))
    for (const p of permutations(rest)) yield [items[i] as T, ...p]
  }
}
