import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import type { KvOp } from '../../src/check/history.js'
import { checkOperations } from '../../src/check/linearizability.js'
import { determinize, type Model, type NondeterministicModel } from '../../src/check/model.js'
import { forgetKvOp, type KvState, kvModel } from '../../src/check/models/kv.js'
import { shrink } from '../../src/check/shrink.js'
import { smallHistory } from './arbitraries.js'
import { bruteForceLinearizable, replays } from './reference.js'

// The search against a deliberately dumb reference (every subset of unknown operations, every
// order; reference.ts) on random small histories, linearizable and not. Reference: Herlihy &
// Wing 1990, Definition 3; Lowe 2017 compares WGL variants the same way.

const verdictOf = (model: Model<KvOp, unknown>, ops: readonly KvOp[]): boolean => {
  const r = checkOperations(model, ops, { stepsMax: 1_000_000 })
  assert.notEqual(r.verdict, 'unknown', 'a small history is decided within budget')
  return r.verdict === 'linearizable'
}

/**
 * plainKv is the kv model without the optional hints the search prunes with (no merging of
 * unseen values, no Sees, nothing blind or read-only): the same verdicts must come out of the
 * search's generic paths, where the hinted kv model never goes.
 */
const plainKv: Model<KvOp, KvState> = {
  ...kvModel,
  prepare: (ops) => ops,
  sees: undefined,
  blind: () => false,
  readOnly: () => false,
}

/** kvSets is the kv model lifted through determinize, as a nondeterministic model would be. */
const kvSets = determinize<KvOp, KvState>({
  ...(kvModel as unknown as NondeterministicModel<KvOp, KvState>),
  init: () => [null],
  step: (s, op) => {
    const next = kvModel.step(s, op)
    return next === undefined ? [] : [next]
  },
})

describe('linearizability: the search agrees with brute force', () => {
  const models: [string, Model<KvOp, unknown>][] = [
    ['kv model', kvModel as Model<KvOp, unknown>],
    ['kv model without pruning hints', plainKv as Model<KvOp, unknown>],
    ['kv model through determinize', kvSets as Model<KvOp, unknown>],
  ]
  for (const [name, model] of models) {
    it(name, () => {
      let linearizable = 0
      let runs = 0
      fc.assert(
        fc.property(smallHistory(7), (ops) => {
          const want = bruteForceLinearizable(ops)
          assert.equal(verdictOf(model, ops), want)
          runs++
          if (want) linearizable++
        }),
        { numRuns: 1500 },
      )
      // Both verdicts must be well represented, or the comparison proves little.
      assert.ok(
        linearizable > runs * 0.2 && linearizable < runs * 0.8,
        `${linearizable}/${runs} linearizable`,
      )
    })
  }

  it('a linearizable verdict comes with a witness that replays and respects real time', () => {
    fc.assert(
      fc.property(smallHistory(8), (ops) => {
        const r = checkOperations(kvModel, ops, { stepsMax: 1_000_000 })
        if (r.verdict !== 'linearizable') return
        const order = r.linearization.map((i) => ops[i] as KvOp)
        assert.ok(
          ops.every((op, i) => op.status !== 'ok' || r.linearization.includes(i)),
          'every definite op is linearized',
        )
        assert.ok(
          order.every((op) => op.status !== 'fail'),
          'no failed op is linearized',
        )
        assert.ok(replays(order), 'the witness replays on a register')
        order.forEach((b, j) => {
          for (const a of order.slice(j + 1))
            assert.ok(!(a.return !== null && a.return < b.call), 'real time')
        })
      }),
      { numRuns: 500 },
    )
  })
})

describe('shrink: a 1-minimal core of definite operations', () => {
  it('the core fails with everything else forgotten, and needs each of its operations', () => {
    let shrunk = 0
    fc.assert(
      fc.property(smallHistory(8), (ops) => {
        const r = checkOperations(kvModel, ops, { stepsMax: 1_000_000 })
        if (r.verdict !== 'not-linearizable') return
        const s = shrink(kvModel, ops, r, 1_000_000)
        assert.ok(s.minimal)
        shrunk++
        const keeping = (core: readonly number[]): KvOp[] =>
          ops.map((op, i) => (core.includes(i) || op.status !== 'ok' ? op : forgetKvOp(op)))
        assert.ok(
          s.core.every((i) => ops[i]?.status === 'ok'),
          'the core is definite operations',
        )
        assert.equal(bruteForceLinearizable(keeping(s.core)), false, 'the core alone fails')
        for (const i of s.core) {
          assert.equal(
            bruteForceLinearizable(keeping(s.core.filter((j) => j !== i))),
            true,
            `op ${i} is needed`,
          )
        }
        assert.equal(s.cut, Math.max(...s.core.map((i) => ops[i]?.return as number)))
        assert.ok(s.core.includes(s.search.blocking), 'the blocking operation is in the core')
      }),
      { numRuns: 400 },
    )
    assert.ok(shrunk > 50)
  })
})
