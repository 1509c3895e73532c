import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { decodeLamport, encodeLamport, LamportClock } from '../../../src/core/clocks/lamport.js'
import { CodecError } from '../../../src/core/codec.js'
import { arbSteps, buildExecution, type Execution } from './execution.js'

/** stamp replays an execution with one LamportClock per process and returns L(e) per event. */
function stamp(x: Execution): number[] {
  const clocks = Array.from({ length: x.processes }, () => new LamportClock())
  const l: number[] = []
  for (const e of x.events) {
    const c = clocks[e.p] as LamportClock
    l[e.id] = e.kind === 'recv' ? c.observe(l[e.from as number] as number) : c.tick()
  }
  return l
}

describe('core/clocks/lamport', () => {
  // Reference: Lamport 1978, Clock Condition: a → b ⇒ C(a) < C(b).
  it('preserves happened-before over random executions', () => {
    fc.assert(
      fc.property(arbSteps(), ({ processes, steps }) => {
        const x = buildExecution(processes, steps)
        const l = stamp(x)
        for (const e of x.events) {
          for (const f of x.events) {
            if (x.hb[e.id]?.[f.id])
              assert.ok(l[e.id]! < l[f.id]!, `${e.id} → ${f.id} but L ${l[e.id]} ≥ ${l[f.id]}`)
          }
        }
      }),
      { numRuns: 150 },
    )
  })

  it('is strictly monotonic on each process', () => {
    fc.assert(
      fc.property(arbSteps(), ({ processes, steps }) => {
        const x = buildExecution(processes, steps)
        const l = stamp(x)
        for (const e of x.events) if (e.prev !== undefined) assert.ok(l[e.prev]! < l[e.id]!)
      }),
    )
  })

  // A deliberately dumb reference: with +1 per event, L(e) is the length of the longest causal
  // chain ending at e.
  it('equals the longest causal chain ending at each event', () => {
    fc.assert(
      fc.property(arbSteps(), ({ processes, steps }) => {
        const x = buildExecution(processes, steps)
        const l = stamp(x)
        const chain: number[] = []
        for (const e of x.events) {
          const preds = [e.prev, e.from]
            .filter((p): p is number => p !== undefined)
            .map((p) => chain[p] as number)
          chain[e.id] = 1 + Math.max(0, ...preds)
        }
        assert.deepStrictEqual(l, chain)
      }),
    )
  })

  it('resumes from a persisted time and never goes back', () => {
    const c = new LamportClock(41)
    assert.equal(c.time, 41)
    assert.equal(c.observe(3), 42)
    assert.equal(c.observe(100), 101)
    assert.equal(c.tick(), 102)
    assert.throws(() => c.observe(-1), /bad remote/)
  })

  it('round-trips its encoding and rejects garbage with CodecError only', () => {
    fc.assert(fc.property(fc.maxSafeNat(), (t) => assert.equal(decodeLamport(encodeLamport(t)), t)))
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 10 }), (b) => {
        try {
          assert.deepStrictEqual(encodeLamport(decodeLamport(b)), b)
        } catch (e) {
          if (!(e instanceof CodecError)) throw e
        }
      }),
    )
  })
})
