import { cpus } from 'node:os'
import { checkHistory } from '../../check/check.js'
import { seededRng } from '../../core/rng.js'
import { generateHistory } from './generate.js'

/**
 * The checker benchmark: how long the linearizability check takes on generated histories of
 * 1k, 10k and 100k operations with 5–50 clients, 1–100 keys and 5% unknown operations. Run it
 * with `node dist/src/bench/checker/run.js`; the table goes into BENCHMARKS.md. Wall-clock time
 * is what a user waits; `steps` is the machine-independent effort.
 */
const SHAPES: readonly [ops: number, clients: number, keys: number][] = [
  [1_000, 5, 1],
  [1_000, 50, 100],
  [10_000, 5, 1],
  [10_000, 20, 10],
  [10_000, 50, 100],
  [100_000, 5, 1],
  [100_000, 20, 10],
  [100_000, 50, 100],
]
const RUNS = 3

console.log(`node ${process.version}, ${cpus().length} cpus (${cpus()[0]?.model ?? 'unknown'})`)
console.log('| ops | clients | keys | unknown | verdict | median time | steps |')
console.log('|---:|---:|---:|---:|---|---:|---:|')
for (const [ops, clients, keys] of SHAPES) {
  const history = generateHistory(seededRng(ops + clients + keys), {
    ops,
    clients,
    keys,
    unknownFraction: 0.05,
  })
  const times: number[] = []
  let verdict = ''
  let steps = 0
  for (let run = 0; run < RUNS; run++) {
    const started = performance.now()
    const r = checkHistory(history)
    times.push(performance.now() - started)
    verdict = r.verdict
    steps = r.steps
  }
  times.sort((a, b) => a - b)
  const median = times[Math.floor(RUNS / 2)] as number
  console.log(
    `| ${ops} | ${clients} | ${keys} | 5% | ${verdict} | ${(median / 1000).toFixed(3)} s | ${steps} |`,
  )
}
