import type { History, KvOp, OpStatus } from '../../check/history.js'
import type { Rng } from '../../core/rng.js'

/**
 * generateHistory produces a kv history that is linearizable by construction: it simulates a
 * real register per key, gives every operation an interval and a linearization point inside
 * it, applies the operations in linearization-point order and records what each observed.
 * Unknown operations lose their outcome; half of them take effect anyway, possibly long after
 * the client gave up (a request stuck in a queue), the others never do. Fail operations never
 * take effect. The same seed gives the same history.
 */

export interface GenerateOptions {
  readonly ops: number
  readonly clients: number
  readonly keys: number
  /** unknownFraction of operations time out (status unknown). */
  readonly unknownFraction: number
  /** failFraction of operations fail before running (status fail). */
  readonly failFraction?: number
  /** values is 'unique' (every write a fresh value, as Synod's workloads do) or a value-space size. */
  readonly values?: 'unique' | number
}

interface Draft {
  client: number
  f: KvOp['f']
  key: string
  value?: string
  expected?: string | null
  result?: string | null | boolean
  call: number
  return: number | null
  status: OpStatus
}

/** MIX weighs the functions: a read-heavy workload with some compare-and-set, as in Jepsen's. */
const MIX: readonly [KvOp['f'], number][] = [
  ['get', 0.5],
  ['put', 0.3],
  ['cas', 0.15],
  ['delete', 0.05],
]

export function generateHistory(rng: Rng, o: GenerateOptions): History {
  const cursor = Array.from({ length: o.clients }, () => rng.int(0, 5))
  const drafts: Draft[] = []
  const moments: Moment[] = []
  let fresh = 0
  const value = (): string =>
    o.values === undefined || o.values === 'unique' ? `v${fresh++}` : `v${rng.int(0, o.values - 1)}`
  for (let n = 0; n < o.ops; n++) {
    const client = cursor.indexOf(Math.min(...cursor))
    const call = (cursor[client] as number) + rng.int(0, 3)
    const duration = rng.chance(0.05) ? rng.int(10, 100) : rng.int(0, 10)
    const r = rng.float()
    const status: OpStatus =
      r < o.unknownFraction ? 'unknown' : r < o.unknownFraction + (o.failFraction ?? 0) ? 'fail' : 'ok'
    const f = pickF(rng)
    const d: Draft = {
      client,
      f,
      key: `k${rng.int(0, o.keys - 1)}`,
      call,
      return: status === 'unknown' ? null : call + duration,
      status,
    }
    if (f === 'put' || f === 'cas') d.value = value()
    drafts.push(d)
    // An unknown operation that takes effect may do so long after the client gave up on it.
    if (status === 'ok') moments.push({ op: n, at: call + rng.float() * duration, effective: true })
    else if (status === 'unknown' && rng.chance(0.5)) {
      moments.push({ op: n, at: call + rng.float() * (duration + rng.int(0, 200)), effective: true })
    } else moments.push({ op: n, at: call, effective: false })
    // A client that times out gives up after `duration` and goes on with its next operation.
    cursor[client] = call + duration
  }
  applyInOrder(rng, drafts, moments)
  return { model: 'kv', ops: drafts.map(finish) }
}

/** Moment is when an operation takes effect, or, for one that never does, when it was sent. */
interface Moment {
  readonly op: number
  readonly at: number
  readonly effective: boolean
}

function pickF(rng: Rng): KvOp['f'] {
  let x = rng.float()
  for (const [f, w] of MIX) {
    if (x < w) return f
    x -= w
  }
  return 'get'
}

/**
 * applyInOrder runs the effective operations in order of their moments and fills in results.
 * A cas expects what a client would have seen: mostly the current value (it swaps), sometimes
 * the one before (it fails, a lost race), read at the moment it takes effect or was sent.
 */
function applyInOrder(rng: Rng, drafts: Draft[], moments: Moment[]): void {
  moments.sort((a, b) => a.at - b.at || a.op - b.op)
  const state = new Map<string, string | null>()
  const previous = new Map<string, string | null>()
  const set = (key: string, v: string | null): void => {
    previous.set(key, state.get(key) ?? null)
    state.set(key, v)
  }
  for (const { op, effective } of moments) {
    const d = drafts[op] as Draft
    const current = state.get(d.key) ?? null
    if (d.f === 'cas') d.expected = rng.chance(0.7) ? current : (previous.get(d.key) ?? null)
    if (!effective) continue
    const known = d.status === 'ok'
    switch (d.f) {
      case 'get':
        if (known) d.result = current
        break
      case 'put':
        set(d.key, d.value as string)
        break
      case 'cas': {
        const swaps = current === d.expected
        if (swaps) set(d.key, d.value as string)
        if (known) d.result = swaps
        break
      }
      case 'delete':
        set(d.key, null)
        break
    }
  }
}

/** finish turns a draft into an operation with exactly the fields the format wants. */
function finish(d: Draft): KvOp {
  const base = { client: d.client, key: d.key, call: d.call, return: d.return, status: d.status }
  const ok = d.status === 'ok'
  switch (d.f) {
    case 'get':
      return ok ? { ...base, f: 'get', result: d.result as string | null } : { ...base, f: 'get' }
    case 'put':
      return { ...base, f: 'put', value: d.value as string }
    case 'cas': {
      const cas = {
        ...base,
        f: 'cas' as const,
        expected: d.expected as string | null,
        value: d.value as string,
      }
      return ok ? { ...cas, result: d.result as boolean } : cas
    }
    case 'delete':
      return { ...base, f: 'delete' }
  }
}
