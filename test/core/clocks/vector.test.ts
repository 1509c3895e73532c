import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import {
  compare,
  decodeVectorClock,
  encodeVectorClock,
  happenedBefore,
  type Ordering,
  VectorClock,
} from '../../../src/core/clocks/vector.js'
import { CodecError } from '../../../src/core/codec.js'
import type { NodeId } from '../../../src/core/ids.js'
import { arbSteps, buildExecution } from './execution.js'

/**
 * The deliberately dumb reference: a clock is a plain record node → counter, merge takes the max
 * over the union of keys, and compare checks ≤ both ways over that union.
 */
type Dumb = Record<number, number>
const dumbOf = (v: VectorClock): Dumb => Object.fromEntries(v.entries())
function dumbMerge(a: Dumb, b: Dumb): Dumb {
  const out: Dumb = {}
  for (const k of new Set([...Object.keys(a), ...Object.keys(b)].map(Number)))
    out[k] = Math.max(a[k] ?? 0, b[k] ?? 0)
  return Object.fromEntries(Object.entries(out).filter(([, n]) => n > 0))
}
function dumbCompare(a: Dumb, b: Dumb): Ordering {
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)].map(Number))]
  const le = keys.every((k) => (a[k] ?? 0) <= (b[k] ?? 0))
  const ge = keys.every((k) => (a[k] ?? 0) >= (b[k] ?? 0))
  return le && ge ? 'equal' : le ? 'before' : ge ? 'after' : 'concurrent'
}

/** Small node ids and counters, so that random clocks often share nodes and sometimes tie. */
const arbClock: fc.Arbitrary<VectorClock> = fc
  .uniqueArray(fc.tuple(fc.integer({ min: 1, max: 6 }), fc.nat(4)), { selector: ([k]) => k, maxLength: 6 })
  .map((es) => VectorClock.from(es.map(([k, n]) => [k as NodeId, n] as const)))

const flip: Record<Ordering, Ordering> = {
  before: 'after',
  after: 'before',
  equal: 'equal',
  concurrent: 'concurrent',
}

describe('core/clocks/vector', () => {
  it('merges commutatively, associatively and idempotently', () => {
    fc.assert(
      fc.property(arbClock, arbClock, arbClock, (a, b, c) => {
        assert.equal(compare(a.merge(b), b.merge(a)), 'equal')
        assert.equal(compare(a.merge(b).merge(c), a.merge(b.merge(c))), 'equal')
        assert.equal(compare(a.merge(a), a), 'equal')
        // Equal clocks are stored identically, so equal also means deep-equal.
        assert.deepStrictEqual(a.merge(b).entries(), b.merge(a).entries())
      }),
    )
  })

  it('agrees with the dumb reference on merge and compare', () => {
    fc.assert(
      fc.property(arbClock, arbClock, (a, b) => {
        assert.deepStrictEqual(dumbOf(a.merge(b)), dumbMerge(dumbOf(a), dumbOf(b)))
        assert.equal(compare(a, b), dumbCompare(dumbOf(a), dumbOf(b)))
        assert.equal(compare(b, a), flip[compare(a, b)])
        assert.equal(happenedBefore(a, b), compare(a, b) === 'before')
      }),
      { numRuns: 300 },
    )
  })

  it('makes merge the least upper bound', () => {
    fc.assert(
      fc.property(arbClock, arbClock, (a, b) => {
        const m = a.merge(b)
        assert.ok(['before', 'equal'].includes(compare(a, m)))
        assert.ok(['before', 'equal'].includes(compare(b, m)))
      }),
    )
  })

  // Reference: Mattern 1989 — e → f if and only if V(e) < V(f); the clocks characterise causality.
  it('characterises happened-before exactly over random executions', () => {
    let concurrentPairs = 0
    fc.assert(
      fc.property(arbSteps(), ({ processes, steps }) => {
        const x = buildExecution(processes, steps)
        const clocks = Array.from({ length: x.processes }, () => VectorClock.EMPTY)
        const v: VectorClock[] = []
        for (const e of x.events) {
          const me = (e.p + 1) as NodeId
          const seen =
            e.kind === 'recv' ? (clocks[e.p] as VectorClock).merge(v[e.from as number]!) : clocks[e.p]!
          v[e.id] = seen.increment(me)
          clocks[e.p] = v[e.id]!
        }
        for (const e of x.events) {
          for (const f of x.events) {
            const want: Ordering =
              e.id === f.id
                ? 'equal'
                : x.hb[e.id]?.[f.id]
                  ? 'before'
                  : x.hb[f.id]?.[e.id]
                    ? 'after'
                    : 'concurrent'
            if (want === 'concurrent') concurrentPairs++
            assert.equal(compare(v[e.id]!, v[f.id]!), want, `events ${e.id} and ${f.id}`)
          }
        }
      }),
      { numRuns: 120 },
    )
    assert.ok(concurrentPairs > 0, 'the executions never produced concurrent events')
  })

  it('drops zero counters and refuses bad input', () => {
    assert.deepStrictEqual(VectorClock.from([[1 as NodeId, 0]]).entries(), [])
    assert.equal(VectorClock.EMPTY.increment(3 as NodeId).get(3 as NodeId), 1)
    assert.throws(() => VectorClock.from([[0 as NodeId, 1]]), /bad node/)
    assert.throws(() => VectorClock.from([[1 as NodeId, -1]]), /bad counter/)
    assert.throws(
      () =>
        VectorClock.from([
          [1 as NodeId, 1],
          [1 as NodeId, 2],
        ]),
      /twice/,
    )
  })

  it('round-trips its encoding', () => {
    fc.assert(
      fc.property(arbClock, (a) => assert.deepStrictEqual(decodeVectorClock(encodeVectorClock(a)), a)),
    )
  })

  it('rejects truncations, and decodes garbage only to CodecError or the canonical clock', () => {
    fc.assert(
      fc.property(arbClock, (a) => {
        const b = encodeVectorClock(a)
        for (let n = 0; n < b.length; n++)
          assert.throws(() => decodeVectorClock(b.subarray(0, n)), CodecError)
      }),
    )
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 12 }), (b) => {
        try {
          assert.deepStrictEqual(encodeVectorClock(decodeVectorClock(b)), b)
        } catch (e) {
          if (!(e instanceof CodecError)) throw e
        }
      }),
      { numRuns: 500 },
    )
    assert.throws(() => decodeVectorClock(Uint8Array.of(2, 2, 1, 1, 1)), /not above/)
    assert.throws(() => decodeVectorClock(Uint8Array.of(1, 1, 0)), /zero counter/)
  })
})
