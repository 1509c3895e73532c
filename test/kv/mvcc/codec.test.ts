import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { CodecError } from '../../../src/core/codec.js'
import {
  decodeMvccCommand,
  decodeRangeQuery,
  encodeMvccCommand,
  encodeRangeQuery,
  type MvccCommand,
} from '../../../src/kv/mvcc/commands.js'
import { decodeMvccResult, encodeMvccResult, type MvccResult } from '../../../src/kv/mvcc/results.js'
import { decodeStore } from '../../../src/kv/mvcc/snapshot.js'
import { MvccStore } from '../../../src/kv/mvcc/store.js'
import type { RangeRequest, TxnRequest } from '../../../src/kv/mvcc/types.js'
import { b } from './helpers.js'

const noNull = { noNullPrototype: true } as const
const bytes = fc.uint8Array({ maxLength: 8 })
const nat = fc.nat(1000)

/** Full requests: the decoders fill every optional field, so round trips compare full objects. */
const arbRange: fc.Arbitrary<RangeRequest> = fc.record(
  {
    key: bytes,
    rangeEnd: bytes,
    limit: nat,
    revision: nat,
    sortOrder: fc.constantFrom('none', 'ascend', 'descend'),
    sortTarget: fc.constantFrom('key', 'version', 'create', 'mod', 'value'),
    keysOnly: fc.boolean(),
    countOnly: fc.boolean(),
    minModRevision: nat,
    maxModRevision: nat,
    minCreateRevision: nat,
    maxCreateRevision: nat,
  },
  noNull,
)
const arbPut = fc.record(
  {
    key: bytes,
    value: bytes,
    lease: nat,
    prevKv: fc.boolean(),
    ignoreValue: fc.boolean(),
    ignoreLease: fc.boolean(),
  },
  noNull,
)
const arbDelete = fc.record({ key: bytes, rangeEnd: bytes, prevKv: fc.boolean() }, noNull)
const result = fc.constantFrom('equal' as const, 'greater' as const, 'less' as const, 'notEqual' as const)
const arbTxn = fc.letrec<{ txn: TxnRequest }>((tie) => ({
  txn: fc.record(
    {
      compare: fc.array(
        fc.oneof(
          fc.record(
            {
              target: fc.constantFrom('version' as const, 'lease' as const),
              key: bytes,
              rangeEnd: bytes,
              result,
              operand: nat,
            },
            noNull,
          ),
          fc.record(
            { target: fc.constant('value' as const), key: bytes, rangeEnd: bytes, result, value: bytes },
            noNull,
          ),
        ),
        { maxLength: 2 },
      ),
      success: fc.array(
        fc.oneof(
          { depthSize: 'small' },
          fc.record({ op: fc.constant('range' as const), request: arbRange }, noNull),
          fc.record({ op: fc.constant('put' as const), request: arbPut }, noNull),
          fc.record({ op: fc.constant('deleteRange' as const), request: arbDelete }, noNull),
          fc.record({ op: fc.constant('txn' as const), request: tie('txn') }, noNull),
        ),
        { maxLength: 3 },
      ),
      failure: fc.constant([]),
    },
    noNull,
  ),
})).txn

const arbCommand: fc.Arbitrary<MvccCommand> = fc.oneof(
  fc.record({ type: fc.constant('put' as const), request: arbPut }, noNull),
  fc.record({ type: fc.constant('deleteRange' as const), request: arbDelete }, noNull),
  fc.record({ type: fc.constant('txn' as const), request: arbTxn }, noNull),
  fc.record({ type: fc.constant('compact' as const), revision: nat }, noNull),
  fc.record({ type: fc.constant('deleteByLease' as const), lease: nat }, noNull),
)

const decodesOrCodecError = (decode: () => unknown): void => {
  try {
    decode()
  } catch (e) {
    assert.ok(e instanceof CodecError, `not a CodecError: ${e}`)
  }
}

describe('mvcc codec', () => {
  it('round-trips commands and range queries', () => {
    fc.assert(
      fc.property(arbCommand, (c) => assert.deepStrictEqual(decodeMvccCommand(encodeMvccCommand(c)), c)),
      { numRuns: 300 },
    )
    fc.assert(fc.property(arbRange, (q) => assert.deepStrictEqual(decodeRangeQuery(encodeRangeQuery(q)), q)))
  })

  it('round-trips the results a store produces', () => {
    const s = new MvccStore()
    const results: MvccResult[] = [
      {
        type: 'put',
        response: s.put({ key: b('k'), value: b('v'), lease: 3 }).ok
          ? { revision: s.revision }
          : assert.fail(),
      },
      {
        type: 'error',
        error: { code: 'duplicateKey', message: 'etcdserver: duplicate key given in txn request' },
      },
      { type: 'compact', revision: s.revision },
    ]
    const put = s.put({ key: b('k'), value: b('w'), prevKv: true })
    const txn = s.txn({
      compare: [],
      success: [
        { op: 'range', request: { key: b('k') } },
        { op: 'deleteRange', request: { key: b('k'), prevKv: true } },
        { op: 'txn', request: { compare: [], success: [], failure: [] } },
      ],
      failure: [],
    })
    assert.ok(put.ok && txn.ok)
    results.push({ type: 'put', response: put.value }, { type: 'txn', response: txn.value })
    for (const r of results) assert.deepStrictEqual(decodeMvccResult(encodeMvccResult(r)), r)
  })

  it('throws only CodecError on garbage, truncation and trailing bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (g) => {
        decodesOrCodecError(() => decodeMvccCommand(g))
        decodesOrCodecError(() => decodeRangeQuery(g))
        decodesOrCodecError(() => decodeMvccResult(g))
        decodesOrCodecError(() => decodeStore(g))
      }),
      { numRuns: 2000 },
    )
    fc.assert(
      fc.property(arbCommand, fc.nat(), (c, cut) => {
        const e = encodeMvccCommand(c)
        assert.throws(() => decodeMvccCommand(e.subarray(0, cut % e.length)), CodecError)
        assert.throws(() => decodeMvccCommand(Uint8Array.from([...e, 0])), CodecError)
      }),
    )
  })

  it('refuses txns nested past the depth bound rather than overflowing the stack', () => {
    let t: TxnRequest = { compare: [], success: [], failure: [] }
    for (let i = 0; i < 40; i++) t = { compare: [], success: [{ op: 'txn', request: t }], failure: [] }
    assert.throws(() => decodeMvccCommand(encodeMvccCommand({ type: 'txn', request: t })), CodecError)
  })
})
