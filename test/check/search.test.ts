import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { checkHistory } from '../../src/check/check.js'
import type { History, KvOp } from '../../src/check/history.js'
import { checkOperations } from '../../src/check/linearizability.js'
import { kvModel, mergeUnobservedValues } from '../../src/check/models/kv.js'

// The search's contracts beyond the verdict: the budget, what a failure reports, and that its
// reductions keep wide windows of concurrent operations cheap (counted in steps, not time).

const put = (client: number, value: string, call: number, ret: number | null, key = 'x'): KvOp => ({
  client,
  f: 'put',
  key,
  value,
  call,
  return: ret,
  status: ret === null ? 'unknown' : 'ok',
})
const get = (client: number, result: string | null, call: number, ret: number, key = 'x'): KvOp => ({
  client,
  f: 'get',
  key,
  result,
  call,
  return: ret,
  status: 'ok',
})
const history = (...ops: KvOp[]): History => ({ model: 'kv', ops })

describe('check: budget', () => {
  // 24 concurrent writes, then reads that pin an order the search only finds by trying many.
  const hard = (key: string): KvOp[] => {
    const writes = Array.from({ length: 24 }, (_, i) => put(i, `v${i}`, 0, 100, key))
    const reads = Array.from({ length: 24 }, (_, i) =>
      get(100 + i, `v${23 - i}`, 101 + 2 * i, 102 + 2 * i, key),
    )
    return [...writes, ...reads]
  }

  it('answers unknown, not a wrong verdict, when the steps run out', () => {
    const r = checkOperations(kvModel, hard('x'), { stepsMax: 50 })
    assert.equal(r.verdict, 'unknown')
    assert.ok(r.steps <= 51)
    const all = checkHistory(history(...hard('x')), { stepsMax: 50 })
    assert.equal(all.verdict, 'unknown')
    assert.equal(all.failure, null)
  })

  it('still reports a violation on another key as not linearizable', () => {
    const r = checkHistory(history(...hard('x'), put(0, '1', 200, 201, 'y'), get(1, '2', 202, 203, 'y')), {
      stepsMax: 50,
    })
    assert.equal(r.verdict, 'not-linearizable')
    assert.equal(r.failure?.key, 'y')
    assert.deepEqual(
      r.keys.map((k) => [k.key, k.verdict]),
      [
        ['x', 'unknown'],
        ['y', 'not-linearizable'],
      ],
    )
  })
})

describe('check: what a failure reports', () => {
  it('a stale read: its three operations, the prefix, the state and the blocked read', () => {
    // ops[3] on key y is noise; ops[4] is the stale read.
    const h = history(
      put(1, '1', 0, 5),
      put(1, '2', 6, 9),
      get(3, '2', 10, 11),
      put(4, '9', 0, 1, 'y'),
      get(2, '1', 12, 14),
    )
    const r = checkHistory(h)
    assert.equal(r.verdict, 'not-linearizable')
    const f = r.failure
    assert.ok(f !== null)
    assert.equal(f.key, 'x')
    assert.deepEqual(f.ops, [0, 1, 2, 4])
    assert.deepEqual(f.core, [0, 1, 4])
    assert.ok(f.minimal)
    assert.equal(f.blocking, 4)
    assert.equal(f.cut, 14)
    assert.deepEqual(f.prefix, [0, 1])
    assert.equal(f.stateAfterPrefix, '"2"')
  })

  it('the smallest failing key is the one explained', () => {
    const big = [
      put(1, 'a', 0, 1, 'big'),
      put(1, 'b', 2, 3, 'big'),
      get(2, 'a', 4, 5, 'big'),
      get(2, 'b', 6, 7, 'big'),
    ]
    const small = [get(3, 'z', 0, 1, 'small')]
    const r = checkHistory(history(...big, ...small))
    assert.equal(r.keys.filter((k) => k.verdict === 'not-linearizable').length, 2)
    assert.equal(r.failure?.key, 'small')
    assert.deepEqual(r.failure?.core, [4])
  })
})

describe('check: reductions keep wide windows cheap', () => {
  it('40 concurrent writes of values nobody reads, then a read of one that is read', () => {
    const writes = Array.from({ length: 40 }, (_, i) => put(i, `w${i}`, 0, 50))
    const r = checkOperations(kvModel, [...writes, put(40, 'seen', 0, 50), get(41, 'seen', 60, 61)], {
      stepsMax: 1_000_000,
    })
    assert.equal(r.verdict, 'linearizable')
    assert.ok(r.steps < 5_000, `${r.steps} steps`)
  })

  it('40 concurrent reads of one value and 40 unknown writes never read', () => {
    const reads = Array.from({ length: 40 }, (_, i) => get(i, '1', 10, 20))
    const unknown = Array.from({ length: 40 }, (_, i) => put(100 + i, `u${i}`, 5, null))
    const r = checkOperations(kvModel, [put(200, '1', 0, 5), ...unknown, ...reads, get(201, '2', 30, 31)], {
      stepsMax: 1_000_000,
    })
    assert.equal(r.verdict, 'not-linearizable')
    assert.ok(r.steps < 5_000, `${r.steps} steps`)
  })
})

describe('kv model: merging values nobody observes', () => {
  it('replaces unobserved written values by one placeholder that no observed value equals', () => {
    const ops: KvOp[] = [
      put(1, 'a', 0, 1),
      put(1, '⊥', 2, 3),
      get(2, '⊥', 4, 5),
      {
        client: 3,
        f: 'cas',
        key: 'x',
        expected: 'c',
        value: 'd',
        result: false,
        call: 6,
        return: 7,
        status: 'ok',
      },
    ]
    const merged = mergeUnobservedValues(ops)
    assert.equal((merged[0] as KvOp & { f: 'put' }).value, '⊥⊥')
    assert.equal((merged[1] as KvOp & { f: 'put' }).value, '⊥')
    assert.equal((merged[3] as KvOp & { f: 'cas' }).value, '⊥⊥')
    assert.equal(merged[2], ops[2])
  })
})
