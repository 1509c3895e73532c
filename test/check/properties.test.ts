import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { type GenerateOptions, generateHistory } from '../../src/bench/checker/generate.js'
import { checkHistory } from '../../src/check/check.js'
import type { History, KvOp } from '../../src/check/history.js'
import { checkOperations } from '../../src/check/linearizability.js'
import { kvModel, partitionByKey } from '../../src/check/models/kv.js'
import { seededRng } from '../../src/core/rng.js'
import { replays } from './reference.js'

// Histories produced by simulating a real register (src/bench/checker/generate.ts: random
// overlapping intervals, each op taking effect at a point inside its own; unknown ops late or
// never) are linearizable by construction; a single read changed to a value it cannot have seen
// must be caught, and pinned on that read.

const shape = (values: fc.Arbitrary<GenerateOptions['values']>) =>
  fc.record({
    seed: fc.integer({ min: 0, max: 2 ** 31 }),
    ops: fc.integer({ min: 1, max: 80 }),
    clients: fc.integer({ min: 1, max: 6 }),
    keys: fc.integer({ min: 1, max: 3 }),
    unknownFraction: fc.double({ min: 0, max: 0.3, noNaN: true }),
    failFraction: fc.double({ min: 0, max: 0.1, noNaN: true }),
    values,
  })

const generate = (s: GenerateOptions & { seed: number }): History => generateHistory(seededRng(s.seed), s)

describe('check: histories of a simulated register', () => {
  it('are linearizable, with unique or repeated values', () => {
    fc.assert(
      fc.property(shape(fc.constantFrom<GenerateOptions['values']>('unique', 2, 3)), (s) => {
        const h = generate(s)
        const r = checkHistory(h)
        assert.equal(r.verdict, 'linearizable')
        assert.equal(r.keys.length, new Set(h.ops.map((op) => op.key)).size)
      }),
      { numRuns: 150 },
    )
  })

  it('come with a witness per key that replays in an order respecting real time', () => {
    fc.assert(
      fc.property(shape(fc.constantFrom<GenerateOptions['values']>('unique', 2)), (s) => {
        const h = generate(s)
        for (const part of partitionByKey(h.ops)) {
          const ops = part.ops.map((i) => h.ops[i] as KvOp)
          const r = checkOperations(kvModel, ops, { stepsMax: 1_000_000 })
          assert.equal(r.verdict, 'linearizable')
          if (r.verdict !== 'linearizable') return
          const order = r.linearization.map((i) => ops[i] as KvOp)
          assert.ok(replays(order))
          assert.ok(ops.every((op, i) => op.status !== 'ok' || r.linearization.includes(i)))
          order.forEach((b, j) => {
            for (const a of order.slice(j + 1)) assert.ok(!(a.return !== null && a.return < b.call))
          })
        }
      }),
      { numRuns: 100 },
    )
  })
})

/** Mutation is one read's result replaced by a value the read cannot have seen. */
interface Mutation {
  readonly index: number
  readonly result: string
  readonly why: string
}

/**
 * impossibleReads lists, for a history with unique values, the ok reads and a value each cannot
 * have returned: one never written; one overwritten by a write that completed before the read
 * began, itself begun after the first write completed (a stale read); one written only by an
 * operation called after the read returned (a read from the future).
 */
function impossibleReads(h: History): Mutation[] {
  const out: Mutation[] = []
  const writes = h.ops.filter(
    (w) => w.status === 'ok' && (w.f === 'put' || w.f === 'delete' || (w.f === 'cas' && w.result)),
  )
  h.ops.forEach((g, index) => {
    if (g.f !== 'get' || g.status !== 'ok') return
    out.push({ index, result: 'never-written', why: 'a value never written' })
    for (const w1 of writes) {
      if (w1.key !== g.key || w1.f !== 'put') continue
      const overwritten = writes.some(
        (w2) => w2.key === g.key && (w1.return as number) < w2.call && (w2.return as number) < g.call,
      )
      if (overwritten && w1.value !== g.result) out.push({ index, result: w1.value, why: 'a stale value' })
    }
    for (const w of h.ops) {
      if (w.key === g.key && w.f === 'put' && w.call > (g.return as number)) {
        out.push({ index, result: w.value, why: 'a value from the future' })
      }
    }
  })
  return out
}

describe('check: one impossible read in a simulated history', () => {
  it('is caught, on its key, with the read in the minimal core', () => {
    let caught = 0
    fc.assert(
      fc.property(shape(fc.constant('unique' as const)), fc.nat(), (s, pick) => {
        const h = generate(s)
        const candidates = impossibleReads(h)
        if (candidates.length === 0) return
        const m = candidates[pick % candidates.length] as Mutation
        const ops = h.ops.slice()
        ops[m.index] = { ...(ops[m.index] as KvOp & { f: 'get' }), result: m.result }
        const r = checkHistory({ model: 'kv', ops })
        assert.equal(r.verdict, 'not-linearizable', `${m.why} at ops[${m.index}] went unnoticed`)
        assert.equal(r.failure?.key, ops[m.index]?.key)
        if (r.failure?.minimal) assert.ok(r.failure.core.includes(m.index), 'the changed read is needed')
        caught++
      }),
      { numRuns: 150 },
    )
    assert.ok(caught > 100)
  })
})
