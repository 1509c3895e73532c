import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import type { Index, Term } from '../../../src/core/ids.js'
import type { Entry } from '../../../src/engines/engine.js'
import { encodeMvccCommand, encodeRangeQuery, type MvccCommand } from '../../../src/kv/mvcc/commands.js'
import { decodeMvccResult } from '../../../src/kv/mvcc/results.js'
import { MvccStateMachine } from '../../../src/kv/mvcc/state-machine.js'
import { b, str } from './helpers.js'

let next = 1
const entry = (data: Uint8Array): Entry => ({ term: 1 as Term, index: next++ as Index, type: 'normal', data })
const apply = (sm: MvccStateMachine, c: MvccCommand) =>
  decodeMvccResult(sm.apply(entry(encodeMvccCommand(c))))

describe('mvcc state machine', () => {
  it('applies commands and answers range queries', () => {
    const sm = new MvccStateMachine()
    assert.deepStrictEqual(apply(sm, { type: 'put', request: { key: b('k'), value: b('v') } }), {
      type: 'put',
      response: { revision: 2 },
    })
    const q = decodeMvccResult(sm.query(encodeRangeQuery({ key: b('k') })))
    assert.ok(q.type === 'range')
    assert.equal(str(q.response.kvs[0]?.value ?? b('')), 'v')
    const c = apply(sm, { type: 'compact', revision: 9 })
    assert.ok(c.type === 'error' && c.error.message === 'mvcc: required revision is a future revision')
  })

  it('answers garbage with a badRequest result and leaves the store alone', () => {
    const sm = new MvccStateMachine()
    for (const g of [new Uint8Array(0), Uint8Array.of(99), Uint8Array.of(0, 200)]) {
      const r = decodeMvccResult(sm.apply(entry(g)))
      assert.ok(r.type === 'error' && r.error.code === 'badRequest', JSON.stringify(r))
      const q = decodeMvccResult(sm.query(g))
      assert.ok(q.type === 'error' && q.error.code === 'badRequest')
    }
    assert.equal(sm.store.revision, 1)
  })

  it('never throws on mutated commands, and keeps its invariants', () => {
    const sm = new MvccStateMachine()
    const base = encodeMvccCommand({
      type: 'txn',
      request: {
        compare: [{ target: 'version', key: b('k'), result: 'equal', operand: 0 }],
        success: [{ op: 'put', request: { key: b('k'), value: b('v'), lease: 2 } }],
        failure: [{ op: 'deleteRange', request: { key: b('a'), rangeEnd: b('\0') } }],
      },
    })
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(base.length - 1), fc.nat(255)), { maxLength: 4 }), (flips) => {
        const data = base.slice()
        for (const [i, v] of flips) data[i] = v
        const r = decodeMvccResult(sm.apply(entry(data)))
        assert.ok(['txn', 'error'].includes(r.type))
        sm.store.checkInvariants()
      }),
      { numRuns: 500 },
    )
  })

  it('restores a snapshot into identical answers', () => {
    const sm = new MvccStateMachine()
    apply(sm, { type: 'put', request: { key: b('a'), value: b('1'), lease: 4 } })
    apply(sm, { type: 'put', request: { key: b('a'), value: b('2') } })
    apply(sm, { type: 'deleteByLease', lease: 4 })
    apply(sm, { type: 'put', request: { key: b('b'), value: b('3'), lease: 4 } })
    apply(sm, { type: 'compact', revision: 3 })
    const copy = new MvccStateMachine()
    copy.restore(sm.snapshot())
    assert.deepStrictEqual(copy.snapshot(), sm.snapshot())
    const all = encodeRangeQuery({ key: b('\0'), rangeEnd: b('\0'), revision: 3 })
    assert.deepStrictEqual(copy.query(all), sm.query(all))
    assert.deepStrictEqual(
      apply(copy, { type: 'deleteByLease', lease: 4 }),
      apply(sm, { type: 'deleteByLease', lease: 4 }),
    )
  })
})
