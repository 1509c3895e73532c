import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { generateHistory } from '../../src/bench/checker/generate.js'
import { HistoryError, parseHistory, parseHistoryText, serializeHistory } from '../../src/check/history.js'
import { seededRng } from '../../src/core/rng.js'

// The history file is a public interface (README, "History format"): these pin down what the
// parser accepts and how it names what it rejects.

/** op is a valid put, changed by `over`; a field set to undefined is left out, as in JSON. */
const op = (over: Record<string, unknown> = {}): Record<string, unknown> =>
  Object.fromEntries(
    Object.entries({
      client: 1,
      f: 'put',
      key: 'x',
      value: '1',
      call: 0,
      return: 5,
      status: 'ok',
      ...over,
    }).filter(([, v]) => v !== undefined),
  )
const file = (...ops: unknown[]): unknown => ({ model: 'kv', ops })

/** rejects asserts that parsing fails with a HistoryError whose message matches `why`. */
function rejects(json: unknown, why: RegExp): void {
  assert.throws(
    () => parseHistory(json),
    (err: unknown) => err instanceof HistoryError && why.test(err.message),
    `expected a HistoryError matching ${why}`,
  )
}

describe('parseHistory: accepts', () => {
  it('the example of the issue, and every function with its fields', () => {
    const h = parseHistory(
      file(
        op(),
        op({ f: 'get', value: undefined, result: '1', call: 6, return: 8 }),
        op({ f: 'get', value: undefined, result: null, call: 9, return: 9 }),
        op({ f: 'cas', expected: null, value: '2', result: false, call: 10, return: 12 }),
        op({ f: 'cas', expected: '1', value: '2', call: 13, return: null, status: 'unknown' }),
        op({ f: 'delete', value: undefined, call: 14, return: 15, status: 'fail' }),
      ),
    )
    assert.equal(h.ops.length, 6)
    assert.deepEqual(h.ops[1], {
      client: 1,
      key: 'x',
      call: 6,
      return: 8,
      status: 'ok',
      f: 'get',
      result: '1',
    })
  })

  it('a meta object, carried through', () => {
    const h = parseHistory({ model: 'kv', meta: { seed: 7 }, ops: [] })
    assert.deepEqual(h.meta, { seed: 7 })
  })

  it('a client going on after an unknown operation, and operations touching end to end', () => {
    parseHistory(
      file(op({ return: null, status: 'unknown' }), op({ call: 1, return: 3 }), op({ call: 3, return: 4 })),
    )
  })
})

describe('parseHistory: rejects, naming the operation and field', () => {
  const cases: [string, unknown, RegExp][] = [
    ['not an object', [], /must be a JSON object/],
    ['an unknown model', { model: 'queue', ops: [] }, /model: must be "kv"/],
    ['ops not an array', { model: 'kv', ops: {} }, /ops: must be an array/],
    ['a stray top-level field', { model: 'kv', ops: [], extra: 1 }, /unknown top-level field "extra"/],
    ['an unknown f', file(op({ f: 'append' })), /ops\[0\]\.f: must be one of get \| put \| cas \| delete/],
    ['a missing key', file(op({ key: undefined })), /ops\[0\]\.key: must be a non-empty string, got nothing/],
    ['an empty key', file(op({ key: '' })), /ops\[0\]\.key/],
    ['a non-integer time', file(op({ call: 1.5 })), /ops\[0\]\.call: must be an integer/],
    ['a time given as a string', file(op({ return: '5' })), /ops\[0\]\.return: must be an integer/],
    ['return before call', file(op({ call: 9, return: 5 })), /ops\[0\]\.return: 5 is before call 9/],
    [
      'a return on an unknown op',
      file(op({ status: 'unknown' })),
      /ops\[0\]\.return: must be null for an unknown/,
    ],
    ['no return on an ok op', file(op({ return: null })), /ops\[0\]\.return: must be an integer/],
    [
      'a bad status',
      file(op({ status: 'timeout' })),
      /ops\[0\]\.status: must be one of ok \| fail \| unknown/,
    ],
    ['a negative client', file(op({ client: -1 })), /ops\[0\]\.client: must not be negative/],
    ['a typo in a field name', file(op({ vaule: '1' })), /ops\[0\]\.vaule: not a field of a put/],
    ['a put without a value', file(op({ value: undefined })), /ops\[0\]\.value: must be a string/],
    ['a numeric value', file(op({ value: 1 })), /ops\[0\]\.value: must be a string/],
    ['a result on a put', file(op({ result: '1' })), /ops\[0\]\.result: not a field of a put/],
    [
      'an ok get without a result',
      file(op({ f: 'get', value: undefined })),
      /ops\[0\]\.result: an ok get needs a result/,
    ],
    [
      'a result on an unknown get',
      file(op({ f: 'get', value: undefined, result: '1', return: null, status: 'unknown' })),
      /ops\[0\]\.result: only an ok operation has a result/,
    ],
    [
      'a result on a failed cas',
      file(op({ f: 'cas', expected: '1', result: true, status: 'fail' })),
      /ops\[0\]\.result: only an ok operation has a result/,
    ],
    [
      'a cas without expected',
      file(op({ f: 'cas', result: true })),
      /ops\[0\]\.expected: a cas needs expected/,
    ],
    [
      'an ok cas with a non-boolean result',
      file(op({ f: 'cas', expected: '1', result: 'yes' })),
      /ops\[0\]\.result: an ok cas needs a result, true \(swapped\) or false/,
    ],
    ['a value on a delete', file(op({ f: 'delete' })), /ops\[0\]\.value: not a field of a delete/],
    [
      'one client with two operations in flight',
      file(op(), op({ call: 3, return: 9 })),
      /ops\[1\]: client 1 calls at 3 while ops\[0\] \(call 0, return 5\) is in flight/,
    ],
    [
      'an operation started while an earlier one of the same client is in flight',
      file(op({ call: 0, return: 20 }), op({ call: 5, return: null, status: 'unknown' })),
      /ops\[1\]: client 1 calls at 5 while ops\[0\]/,
    ],
  ]
  for (const [name, json, why] of cases) it(name, () => rejects(json, why))

  it('text that is not JSON', () => {
    assert.throws(
      () => parseHistoryText('{"model":'),
      (err: unknown) => err instanceof HistoryError && /not JSON/.test(err.message),
    )
  })
})

describe('serializeHistory', () => {
  it('round-trips generated histories exactly, one operation per line', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1e9 }), fc.integer({ min: 0, max: 60 }), (seed, ops) => {
        const h = generateHistory(seededRng(seed), {
          ops,
          clients: 4,
          keys: 3,
          unknownFraction: 0.2,
          failFraction: 0.1,
        })
        const text = serializeHistory(h)
        assert.deepEqual(parseHistoryText(text), h)
        assert.equal(text.split('\n').length, ops === 0 ? 2 : ops + 3)
      }),
      { numRuns: 50 },
    )
  })

  it('keeps meta', () => {
    const h = parseHistory({ model: 'kv', meta: { engine: 'raft' }, ops: [op()] })
    assert.deepEqual(parseHistoryText(serializeHistory(h)), h)
  })
})
