import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { DeadlineHeap } from '../../../src/kv/lease/deadline-heap.js'

type Op = { op: 'set'; id: number; at: number } | { op: 'remove'; id: number } | { op: 'pop' }

const noNull = { noNullPrototype: true } as const
const arbOp: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constant('set' as const), id: fc.nat(15), at: fc.nat(20) }, noNull),
  fc.record({ op: fc.constant('remove' as const), id: fc.nat(15) }, noNull),
  fc.record({ op: fc.constant('pop' as const) }, noNull),
)

describe('DeadlineHeap against a sorted array', () => {
  it('pops in (deadline, id) order and tracks every id', () => {
    fc.assert(
      fc.property(fc.array(arbOp, { minLength: 10, maxLength: 100, size: 'max' }), (ops) => {
        const h = new DeadlineHeap()
        let ref = new Map<number, number>()
        const sorted = () =>
          [...ref].map(([id, atMs]) => ({ id, atMs })).sort((a, b) => a.atMs - b.atMs || a.id - b.id)
        for (const o of ops) {
          if (o.op === 'set') {
            h.set(o.id, o.at)
            ref.set(o.id, o.at)
          } else if (o.op === 'remove') {
            assert.equal(h.remove(o.id), ref.delete(o.id))
          } else {
            const want = sorted()[0]
            assert.deepEqual(h.pop(), want)
            if (want !== undefined) ref.delete(want.id)
          }
          h.checkInvariants()
          assert.equal(h.size, ref.size)
          assert.deepEqual(h.peek(), sorted()[0])
          for (const [id, at] of ref) assert.equal(h.get(id), at)
        }
        ref = new Map()
        h.clear()
        assert.equal(h.peek(), undefined)
      }),
    )
  })
})
