import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { AssertionFailure } from '../../src/core/assert.js'
import { type EventId, EventQueue } from '../../src/sim/event-queue.js'

/** fnv1a64 is a deliberately plain BigInt FNV-1a over bytes, the reference for traceHash. */
function fnv1a64(bytes: readonly number[]): string {
  let h = 0xcbf29ce484222325n
  for (const b of bytes) h = ((h ^ BigInt(b)) * 0x100000001b3n) & 0xffffffffffffffffn
  return h.toString(16).padStart(16, '0')
}

/** traceBytes is how the queue feeds (time, label) to the hash: code units, NUL-separated. */
function traceBytes(events: readonly [number, string][]): number[] {
  const out: number[] = []
  for (const [t, label] of events) {
    for (const c of `${t}\u0000${label}\u0000`) {
      const u = c.charCodeAt(0)
      out.push(u & 0xff)
      if (u > 0xff) out.push(u >>> 8)
    }
  }
  return out
}

describe('sim/event-queue', () => {
  it('runs events by time, and ties in the order they were scheduled', () => {
    const q = new EventQueue()
    const ran: string[] = []
    const add = (t: number, l: string) => q.at(t, () => ran.push(l), l)
    add(5, 'c')
    add(1, 'a')
    add(5, 'd')
    add(3, 'b')
    add(5, 'e')
    q.after(0, () => ran.push('now'), 'now')
    while (q.runNext()) {}
    assert.deepEqual(ran, ['now', 'a', 'b', 'c', 'd', 'e'])
    assert.equal(q.now(), 5)
    assert.equal(q.stats.executed, 6)
    assert.equal(q.runNext(), false)
  })

  it('runs an event scheduled for now by a running event after the ones already due', () => {
    const q = new EventQueue()
    const ran: string[] = []
    q.at(2, () => q.after(0, () => ran.push('child'), 'child'), 'parent')
    q.at(2, () => ran.push('sibling'), 'sibling')
    assert.equal(q.runUntil(2, 10), 3)
    assert.deepEqual(ran, ['sibling', 'child'])
  })

  it('cancels by id; cancelling twice or after the run does nothing', () => {
    const q = new EventQueue()
    const ran: number[] = []
    const ids = [1, 2, 3].map((t) => q.at(t, () => ran.push(t), `e${t}`))
    assert.equal(q.size, 3)
    q.cancel(ids[1]!)
    q.cancel(ids[1]!)
    assert.equal(q.size, 2)
    q.runNext()
    q.cancel(ids[0]!)
    assert.equal(q.size, 1)
    while (q.runNext()) {}
    assert.deepEqual(ran, [1, 3])
    assert.equal(q.size, 0)
  })

  it('refuses the past, bad delays and non-finite times', () => {
    const q = new EventQueue()
    q.at(10, () => {}, 'x')
    q.runNext()
    assert.throws(() => q.at(9, () => {}, 'past'), RangeError)
    assert.throws(() => q.after(-1, () => {}, 'neg'), RangeError)
    assert.throws(() => q.at(Number.POSITIVE_INFINITY, () => {}, 'inf'), RangeError)
    assert.throws(() => q.at(Number.NaN, () => {}, 'nan'), RangeError)
    assert.throws(() => q.runUntil(5, 1), RangeError)
    assert.throws(() => q.runUntil(Number.POSITIVE_INFINITY, 1), RangeError)
  })

  it('bounds runUntil by a count and leaves later events in the future', () => {
    const q = new EventQueue()
    for (let t = 1; t <= 10; t++) q.at(t, () => {}, `e${t}`)
    assert.equal(q.runUntil(8, 3), 3)
    assert.equal(q.now(), 3, 'stopped at the bound: now stays at the last event run')
    assert.equal(q.runUntil(8, 100), 5)
    assert.equal(q.now(), 8, 'all due events ran: now moves to the target')
    assert.equal(q.size, 2)
    assert.equal(q.runUntil(8.5, 100), 0)
    assert.equal(q.now(), 8.5)
    assert.equal(q.nextTime(), 9)
  })

  it('forbids running the queue from inside an event', () => {
    const q = new EventQueue()
    q.at(1, () => q.runNext(), 'nested')
    assert.throws(() => q.runNext(), AssertionFailure)
    q.at(2, () => {}, 'after')
    assert.equal(q.runNext(), true, 'a failed event leaves the queue usable')
  })

  it('hashes the trace as FNV-1a 64 over (time, label), equal for equal runs only', () => {
    const run = (events: [number, string][]): string => {
      const q = new EventQueue()
      for (const [t, l] of events) q.at(t, () => {}, l)
      q.runUntil(100, 100)
      return q.traceHash()
    }
    const base: [number, string][] = [
      [1, 'tick n1'],
      [2.5, 'net 1->2'],
      [2.5, 'é→'],
    ]
    assert.equal(new EventQueue().traceHash(), fnv1a64([]))
    assert.equal(run(base), fnv1a64(traceBytes(base)))
    assert.equal(run(base), run(base))
    assert.notEqual(
      run(base),
      run([
        [1, 'tick n1'],
        [2.5, 'é→'],
        [2.5, 'net 1->2'],
      ]),
    )
    assert.notEqual(
      run(base),
      run([
        [1, 'tick n1'],
        [2.6, 'net 1->2'],
        [2.5, 'é→'],
      ]),
    )
  })

  it('keeps order through mass cancellation (the heap is rebuilt)', () => {
    const q = new EventQueue()
    const ran: number[] = []
    const ids: EventId[] = []
    for (let i = 0; i < 5000; i++) ids.push(q.at(i % 97, () => ran.push(i), `e${i}`))
    for (let i = 0; i < 5000; i++) if (i % 10 !== 0) q.cancel(ids[i]!)
    assert.equal(q.size, 500)
    while (q.runNext()) {}
    const expected = [...Array(500).keys()].map((k) => k * 10).sort((a, b) => (a % 97) - (b % 97) || a - b)
    assert.deepEqual(ran, expected)
  })

  // Reference: a sorted array with stable insertion, the obviously correct priority queue.
  it('agrees with a sorted-array reference under random schedule/cancel/run', () => {
    type Op = { op: 'at'; delay: number } | { op: 'cancel'; pick: number } | { op: 'run' }
    const arbOp: fc.Arbitrary<Op> = fc.oneof(
      fc.record({ op: fc.constant('at' as const), delay: fc.integer({ min: 0, max: 5 }) }),
      fc.record({ op: fc.constant('cancel' as const), pick: fc.nat() }),
      fc.record({ op: fc.constant('run' as const) }),
    )
    fc.assert(
      fc.property(fc.array(arbOp, { maxLength: 200 }), (ops) => {
        const q = new EventQueue()
        const ref: { time: number; n: number; id: EventId }[] = []
        const ran: number[] = []
        const refRan: number[] = []
        let n = 0
        for (const o of ops) {
          if (o.op === 'at') {
            const k = n++
            const time = q.now() + o.delay
            const id = q.at(time, () => ran.push(k), `e${k}`)
            ref.splice(ref.filter((e) => e.time <= time).length, 0, { time, n: k, id })
          } else if (o.op === 'cancel' && ref.length > 0) {
            const [e] = ref.splice(o.pick % ref.length, 1)
            q.cancel(e!.id)
          } else if (o.op === 'run') {
            const e = ref.shift()
            if (e) refRan.push(e.n)
            assert.equal(q.runNext(), e !== undefined)
            if (e) assert.equal(q.now(), e.time)
          }
          assert.equal(q.size, ref.length)
          assert.equal(q.nextTime(), ref[0]?.time)
        }
        while (q.runNext()) {}
        refRan.push(...ref.map((e) => e.n))
        assert.deepEqual(ran, refRan)
      }),
      { numRuns: 200 },
    )
  })
})
