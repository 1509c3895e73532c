import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import {
  compareHlc,
  decodeHlc,
  encodeHlc,
  type HlcTimestamp,
  HybridLogicalClock,
} from '../../../src/core/clocks/hlc.js'
import { CodecError } from '../../../src/core/codec.js'
import { arbSteps, buildExecution, causalPast, type Execution } from './execution.js'

/** EPSILON bounds the skew: every process's physical clock reads within [T, T + EPSILON]. */
const EPSILON = 5
const STEPS_MAX = 40

/**
 * Physical time per event: true time T advances by dt (often 0, so that wall times tie and the
 * logical counter works), and each reading adds a jitter in [0, EPSILON] — so a process's physical
 * clock may step backwards, as one under NTP does, while any two clocks stay within EPSILON.
 */
const arbPhysical = fc.array(
  fc.record({ dt: fc.oneof(fc.constant(0), fc.nat(3)), jitter: fc.nat(EPSILON) }, { noNullPrototype: true }),
  { minLength: STEPS_MAX, maxLength: STEPS_MAX },
)

interface Run {
  readonly x: Execution
  readonly pt: number[]
  readonly ts: HlcTimestamp[]
}

function run(
  processes: number,
  steps: Parameters<typeof buildExecution>[1],
  phys: typeof arbPhysical extends fc.Arbitrary<infer T> ? T : never,
): Run {
  const x = buildExecution(processes, steps)
  const clocks = Array.from({ length: processes }, () => new HybridLogicalClock(EPSILON))
  const pt: number[] = []
  const ts: HlcTimestamp[] = []
  let trueTime = 1000
  for (const e of x.events) {
    const { dt, jitter } = phys[e.id]!
    trueTime += dt
    pt[e.id] = trueTime + jitter
    const c = clocks[e.p]!
    if (e.kind === 'recv') {
      const r = c.observe(ts[e.from!]!, pt[e.id]!)
      // The skew bound holds, so no message may be refused.
      assert.ok(r.ok, `refused ${JSON.stringify(r)}`)
      ts[e.id] = r.ts
    } else {
      ts[e.id] = c.now(pt[e.id]!)
    }
  }
  return { x, pt, ts }
}

const arbRun = fc
  .tuple(arbSteps(STEPS_MAX), arbPhysical)
  .map(([{ processes, steps }, phys]) => run(processes, steps, phys))

describe('core/clocks/hlc', () => {
  // Reference: Kulkarni et al. 2014, Theorem 1: e hb f ⇒ (l.e, c.e) < (l.f, c.f).
  it('preserves happened-before and is strictly monotonic on each process', () => {
    fc.assert(
      fc.property(arbRun, ({ x, ts }) => {
        for (const e of x.events) {
          if (e.prev !== undefined)
            assert.ok(compareHlc(ts[e.prev]!, ts[e.id]!) < 0, `not monotonic at ${e.id}`)
          for (const f of x.events) {
            if (x.hb[e.id]?.[f.id]) assert.ok(compareHlc(ts[e.id]!, ts[f.id]!) < 0, `${e.id} → ${f.id}`)
          }
        }
      }),
      { numRuns: 150 },
    )
  })

  // Reference: Theorem 2 and its corollary: l.f is the largest pt in f's causal past, so l.f ≥ pt.f
  // and l.f − pt.f ≤ ε. Checked against a dumb reference: the maximum taken over the past directly.
  it('keeps wall equal to the largest physical time in the causal past, within ε of its own', () => {
    fc.assert(
      fc.property(arbRun, ({ x, pt, ts }) => {
        for (const e of x.events) {
          const past = causalPast(x, e.id)
          const maxSeen = Math.max(pt[e.id]!, ...past.map((g) => pt[g]!))
          assert.equal(ts[e.id]!.wall, maxSeen, `event ${e.id}`)
          assert.ok(ts[e.id]!.wall - pt[e.id]! <= EPSILON)
        }
      }),
      { numRuns: 150 },
    )
  })

  // Reference: Theorem 3: c.f = k > 0 ⇒ k events g hb f have l.g = l.f.
  it('bounds the logical counter by the causal past that shares the wall time', () => {
    fc.assert(
      fc.property(arbRun, ({ x, ts }) => {
        for (const e of x.events) {
          const same = causalPast(x, e.id).filter((g) => ts[g]!.wall === ts[e.id]!.wall).length
          assert.ok(ts[e.id]!.logical <= same, `event ${e.id}: logical ${ts[e.id]!.logical} > ${same}`)
        }
      }),
      { numRuns: 150 },
    )
  })

  it('refuses a remote timestamp more than maxOffset ahead and stays unchanged', () => {
    fc.assert(
      fc.property(fc.nat(1000), fc.nat(1000), fc.nat(20), fc.nat(3), (pt, remoteWall, maxOffset, logical) => {
        const c = new HybridLogicalClock(maxOffset)
        const before = c.now(pt)
        const r = c.observe({ wall: remoteWall, logical }, pt)
        if (remoteWall - pt > maxOffset) {
          assert.deepStrictEqual(r, {
            ok: false,
            error: {
              code: 'clock-offset-exceeded',
              remote: { wall: remoteWall, logical },
              physicalNow: pt,
              maxOffset,
            },
          })
          assert.deepStrictEqual(c.last, before)
        } else {
          assert.ok(
            r.ok && compareHlc(before, r.ts) < 0 && compareHlc({ wall: remoteWall, logical }, r.ts) < 0,
          )
        }
      }),
    )
  })

  it('resumes after a restart above the last timestamp even if physical time went back', () => {
    const c = new HybridLogicalClock(10, { wall: 500, logical: 7 })
    assert.deepStrictEqual(c.now(100), { wall: 500, logical: 8 })
    assert.deepStrictEqual(c.now(600), { wall: 600, logical: 0 })
    assert.throws(() => c.now(-1), /bad physical time/)
    assert.throws(() => new HybridLogicalClock(-1), /maxOffset/)
  })

  it('round-trips its encoding and rejects garbage with CodecError only', () => {
    const arbTs = fc.record({ wall: fc.maxSafeNat(), logical: fc.maxSafeNat() }, { noNullPrototype: true })
    fc.assert(fc.property(arbTs, (t) => assert.deepStrictEqual(decodeHlc(encodeHlc(t)), t)))
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 18 }), (b) => {
        try {
          assert.deepStrictEqual(encodeHlc(decodeHlc(b)), b)
        } catch (e) {
          if (!(e instanceof CodecError)) throw e
        }
      }),
      { numRuns: 500 },
    )
  })
})
