import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { checkHistory } from '../../src/check/check.js'
import { type History, parseHistory } from '../../src/check/history.js'

/**
 * Hand-written histories with a known answer, each a small story. Times are integers; a bar
 * [call, return] is when the client sent the request and when the answer came back.
 */
type Row = Record<string, unknown>
const h = (...ops: Row[]): History => parseHistory({ model: 'kv', ops })
const put = (
  client: number,
  key: string,
  value: string,
  call: number,
  ret: number | null,
  status = 'ok',
): Row => ({
  client,
  f: 'put',
  key,
  value,
  call,
  return: ret,
  status,
})
const get = (client: number, key: string, result: string | null, call: number, ret: number): Row => ({
  client,
  f: 'get',
  key,
  result,
  call,
  return: ret,
  status: 'ok',
})
const cas = (
  client: number,
  key: string,
  expected: string | null,
  value: string,
  result: boolean,
  call: number,
  ret: number,
): Row => ({
  client,
  f: 'cas',
  key,
  expected,
  value,
  result,
  call,
  return: ret,
  status: 'ok',
})
const del = (client: number, key: string, call: number, ret: number): Row => ({
  client,
  f: 'delete',
  key,
  call,
  return: ret,
  status: 'ok',
})

const CASES: { name: string; history: History; linearizable: boolean }[] = [
  {
    name: 'a read after a completed write sees it',
    history: h(put(1, 'x', '1', 0, 5), get(2, 'x', '1', 6, 8)),
    linearizable: true,
  },
  {
    name: 'a stale read after a completed overwrite is a violation',
    history: h(put(1, 'x', '1', 0, 5), put(1, 'x', '2', 6, 9), get(2, 'x', '1', 10, 12)),
    linearizable: false,
  },
  {
    name: 'a read concurrent with a write may see either value',
    history: h(
      put(1, 'x', '1', 0, 2),
      put(1, 'x', '2', 3, 10),
      get(2, 'x', '1', 4, 6),
      get(3, 'x', '2', 5, 7),
    ),
    linearizable: true,
  },
  {
    name: 'once a concurrent read saw the new value, a later read may not see the old one',
    history: h(
      put(1, 'x', '1', 0, 2),
      put(1, 'x', '2', 3, 20),
      get(2, 'x', '2', 4, 6),
      get(3, 'x', '1', 8, 10),
    ),
    linearizable: false,
  },
  {
    name: 'a read of a value never written is a violation',
    history: h(put(1, 'x', '1', 0, 2), get(2, 'x', '9', 3, 4)),
    linearizable: false,
  },
  {
    name: 'a failed write never takes effect',
    history: h(put(1, 'x', '1', 0, 2, 'fail'), get(2, 'x', '1', 3, 4)),
    linearizable: false,
  },
  {
    name: 'an unknown write may take effect long after its call',
    history: h(put(1, 'x', '1', 0, null, 'unknown'), get(2, 'x', null, 5, 6), get(2, 'x', '1', 50, 51)),
    linearizable: true,
  },
  {
    name: 'an unknown write seen, then unseen, then seen again is a violation',
    history: h(
      put(1, 'x', '1', 0, null, 'unknown'),
      get(2, 'x', '1', 5, 6),
      get(2, 'x', null, 7, 8),
      get(2, 'x', '1', 9, 10),
    ),
    linearizable: false,
  },
  {
    name: 'lost update: two compare-and-sets from the same value cannot both succeed',
    history: h(
      put(1, 'x', '0', 0, 1),
      cas(2, 'x', '0', 'a', true, 2, 10),
      cas(3, 'x', '0', 'b', true, 3, 11),
    ),
    linearizable: false,
  },
  {
    name: 'a compare-and-set that failed saw another value',
    history: h(
      put(1, 'x', '0', 0, 1),
      cas(2, 'x', '0', 'a', true, 2, 4),
      cas(3, 'x', '0', 'b', false, 5, 6),
      get(3, 'x', 'a', 7, 8),
    ),
    linearizable: true,
  },
  {
    name: 'repeated values are checked correctly (not by value identity)',
    history: h(
      put(1, 'x', '1', 0, 1),
      put(1, 'x', '2', 2, 3),
      put(1, 'x', '1', 4, 5),
      get(2, 'x', '1', 6, 7),
    ),
    linearizable: true,
  },
  {
    name: 'repeated values: the old copy cannot come back after the overwrite completed',
    history: h(
      put(1, 'x', '1', 0, 1),
      put(1, 'x', '2', 2, 3),
      get(2, 'x', '1', 4, 5),
      put(1, 'x', '1', 6, 7),
    ),
    linearizable: false,
  },
  {
    name: 'delete makes the key absent; a later read of the old value is a violation',
    history: h(put(1, 'x', '1', 0, 1), del(1, 'x', 2, 3), get(2, 'x', null, 4, 5), get(2, 'x', '1', 6, 7)),
    linearizable: false,
  },
  {
    name: 'keys are independent: a violation on y is reported on y',
    history: h(
      put(1, 'x', '1', 0, 1),
      get(2, 'x', '1', 2, 3),
      put(1, 'y', '1', 4, 5),
      get(2, 'y', null, 6, 7),
    ),
    linearizable: false,
  },
]

describe('check: hand-written histories', () => {
  for (const c of CASES) {
    it(`${c.linearizable ? 'linearizable' : 'NOT linearizable'}: ${c.name}`, () => {
      const r = checkHistory(c.history)
      assert.equal(r.verdict, c.linearizable ? 'linearizable' : 'not-linearizable')
      if (!c.linearizable)
        assert.ok(r.failure && r.failure.core.length > 0, 'a violation names its operations')
    })
  }

  it('reports the failing key', () => {
    const last = CASES[CASES.length - 1] as (typeof CASES)[number]
    assert.equal(checkHistory(last.history).failure?.key, 'y')
  })
})
