import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { checkHistory } from '../../src/check/check.js'
import { parseHistory } from '../../src/check/history.js'
import type { RaftTestingBug } from '../../src/engines/raft/options.js'
import type { SimOptions } from '../../src/sim/options.js'
import { runSimulation, type SimResult } from '../../src/sim/runner.js'

/**
 * Whole simulation runs: determinism, safety and liveness of Raft under every fault, and proof
 * that the simulator and checker catch known bugs. SYNOD_SIM_SEEDS raises the seed counts.
 */

const SEEDS = Number(process.env.SYNOD_SIM_SEEDS ?? 30)
const CHECK_BUDGET = { stepsMax: 2_000_000, shrinkStepsMax: 10_000 }

/** problemOf returns why a run failed, or undefined if it passed. */
function problemOf(r: SimResult): string | undefined {
  if (r.crash) return `assertion: ${r.crash}`
  if (r.safety) return r.safety
  const check = checkHistory(parseHistory(r.history), CHECK_BUDGET)
  if (check.verdict === 'not-linearizable') return `not linearizable on key ${check.failure?.key}`
  if (check.verdict === 'unknown') return 'the checker ran out of budget'
  if (!r.liveness.ok) return `liveness: ${r.liveness.reason}`
  return undefined
}

function replay(seed: number, o: Partial<SimOptions>): string {
  const nemesis = o.nemesis ? o.nemesis.join(',') || 'none' : 'all'
  const bugs = (o.bugs ?? []).map((b) => ` --bug ${b}`).join('')
  return `synod sim --engine raft --seeds ${seed} --nodes ${o.nodes ?? 3} --nemesis ${nemesis}${o.readMode === 'lease' ? ' --read-mode lease' : ''}${bugs}`
}

function sweep(first: number, count: number, o: Partial<SimOptions>): void {
  for (let seed = first; seed < first + count; seed++) {
    const problem = problemOf(runSimulation(seed, o))
    assert.equal(problem, undefined, `seed ${seed}: ${problem}\nreproduce with: ${replay(seed, o)}`)
  }
}

describe('sim: determinism', () => {
  it('the same seed gives the same trace and the same history', () => {
    const a = runSimulation(11)
    const b = runSimulation(11)
    assert.equal(a.traceHash, b.traceHash)
    assert.deepEqual(a.history, b.history)
    assert.deepEqual(a.stats, b.stats)
  })

  it('different seeds give different runs', () => {
    assert.notEqual(runSimulation(1).traceHash, runSimulation(2).traceHash)
  })

  it('a run does real work: operations succeed, faults fire, leaders change', () => {
    const r = runSimulation(3)
    assert.ok(r.stats.opsOk > 100, `only ${r.stats.opsOk} operations succeeded`)
    assert.ok(r.stats.faults > 5)
    assert.ok(r.stats.leaderChanges >= 2)
    assert.ok(
      r.history.ops.some((o) => o.status === 'unknown'),
      'no operation ended unknown',
    )
  })
})

describe('sim: raft stays linearizable and live under faults', () => {
  it(`3 nodes, every fault, ${SEEDS} seeds`, () => sweep(1, SEEDS, { nodes: 3 }))
  it(`5 nodes, every fault, ${Math.ceil(SEEDS / 2)} seeds`, () =>
    sweep(1_000, Math.ceil(SEEDS / 2), { nodes: 5 }))
  it(`lease reads under bounded clock drift, ${Math.ceil(SEEDS / 2)} seeds`, () =>
    sweep(2_000, Math.ceil(SEEDS / 2), { nodes: 3, readMode: 'lease' }))
})

/**
 * Each planted bug (RaftOptions.testingBugs) must be found within a bounded number of seeds,
 * with the fault mix that gives it its chance.
 */
const PLANTED: { bug: RaftTestingBug; seedsMax: number; options: Partial<SimOptions> }[] = [
  { bug: 'readWithoutBarrier', seedsMax: 80, options: {} },
  { bug: 'applyBeforeCommit', seedsMax: 40, options: {} },
  {
    bug: 'unpersistedVote',
    seedsMax: 150,
    options: { nemesis: ['crash', 'drop', 'reorder'], faultGapMs: 60 },
  },
]

describe('sim: planted bugs are found', () => {
  for (const { bug, seedsMax, options } of PLANTED) {
    it(`finds ${bug} within ${seedsMax} seeds`, () => {
      for (let seed = 1; seed <= seedsMax; seed++) {
        if (problemOf(runSimulation(seed, { ...options, bugs: [bug] })) !== undefined) return
      }
      assert.fail(`no seed in 1..${seedsMax} caught ${bug}`)
    })
  }
})
