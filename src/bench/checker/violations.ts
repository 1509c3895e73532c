import { cpus } from 'node:os'
import { checkHistory } from '../../check/check.js'
import type { History, KvOp } from '../../check/history.js'
import { seededRng } from '../../core/rng.js'
import { generateHistory } from './generate.js'

/**
 * The checker where it works hardest, to complement run.ts (linearizable histories):
 *
 * 1. Violations: the same shapes with one read, halfway through, changed to a stale value (one
 *    overwritten by a write that completed before the read began). The search must exhaust the
 *    key up to the violation, and the shrinker then minimises it to its core.
 * 2. Contention: 2,000 operations on one key with more and more clients, all concurrent. The
 *    search is exponential in the operations open at once on one key (as Porcupine's and
 *    Knossos's are), so this is where the budget (20M steps) turns into 'unknown'.
 *
 * Run with `node dist/src/bench/checker/violations.js`; the tables go into BENCHMARKS.md.
 */

const VIOLATION_SHAPES: readonly [ops: number, clients: number, keys: number][] = [
  [1_000, 5, 1],
  [10_000, 5, 1],
  [10_000, 20, 10],
  [100_000, 5, 1],
  [100_000, 20, 10],
  [100_000, 50, 100],
]
const CONTENTION_CLIENTS = [5, 10, 15, 20, 30, 50]

/** staleRead changes the first suitable read after the middle of the history; returns its index. */
function staleRead(h: History): { history: History; index: number } {
  const ops = h.ops.slice() as KvOp[]
  const completed = ops.filter((w) => w.status === 'ok' && w.f !== 'get' && (w.f !== 'cas' || w.result))
  for (let i = Math.floor(ops.length / 2); i < ops.length; i++) {
    const g = ops[i] as KvOp
    if (g.f !== 'get' || g.status !== 'ok') continue
    const before = completed.filter((w) => w.key === g.key && (w.return as number) < g.call)
    const stale = before.find(
      (w1) => w1.f === 'put' && w1.value !== g.result && before.some((w2) => (w1.return as number) < w2.call),
    )
    if (stale === undefined || stale.f !== 'put') continue
    ops[i] = { ...g, result: stale.value }
    return { history: { model: 'kv', ops }, index: i }
  }
  throw new Error('no read to make stale')
}

function time<T>(f: () => T): { value: T; seconds: number } {
  const started = performance.now()
  const value = f()
  return { value, seconds: (performance.now() - started) / 1000 }
}

console.log(`node ${process.version}, ${cpus().length} cpus (${cpus()[0]?.model ?? 'unknown'})`)
console.log('\nOne stale read halfway through (5% unknown):\n')
console.log('| ops | clients | keys | verdict | core | minimal | time | steps |')
console.log('|---:|---:|---:|---|---:|---|---:|---:|')
for (const [ops, clients, keys] of VIOLATION_SHAPES) {
  const base = generateHistory(seededRng(ops + clients + keys), { ops, clients, keys, unknownFraction: 0.05 })
  const { history, index } = staleRead(base)
  const { value: r, seconds } = time(() => checkHistory(history))
  const pinned = r.failure?.core.includes(index) ? '' : ' (read not in core)'
  console.log(
    `| ${ops} | ${clients} | ${keys} | ${r.verdict}${pinned} | ${r.failure?.core.length ?? '-'} | ${r.failure?.minimal ?? '-'} | ${seconds.toFixed(2)} s | ${r.steps} |`,
  )
}
console.log('\nContention: 2,000 operations on one key, 5% unknown, linearizable by construction:\n')
console.log('| clients | verdict | time | steps |')
console.log('|---:|---|---:|---:|')
for (const clients of CONTENTION_CLIENTS) {
  const h = generateHistory(seededRng(clients), { ops: 2_000, clients, keys: 1, unknownFraction: 0.05 })
  const { value: r, seconds } = time(() => checkHistory(h))
  console.log(`| ${clients} | ${r.verdict} | ${seconds.toFixed(2)} s | ${r.steps} |`)
}
