import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { decodeStore, encodeStore } from '../../../src/kv/mvcc/snapshot.js'
import { MvccStore } from '../../../src/kv/mvcc/store.js'
import type {
  Compare,
  DeleteRangeRequest,
  PutRequest,
  RangeRequest,
  RequestOp,
  TxnRequest,
} from '../../../src/kv/mvcc/types.js'
import { b } from './helpers.js'
import { ModelStore } from './model.js'

/**
 * Random operation sequences run against MvccStore and the dumb ModelStore (a full map per
 * revision); every answer must be equal, and the store's invariants must hold after every step.
 * Reference: STYLE.md, "a fast-check comparison against a deliberately dumb reference".
 */

const noNull = { noNullPrototype: true } as const
const arbKey = fc.constantFrom('a', 'ab', 'b', 'b\0', 'ba', 'c').map(b)
const arbEnd = fc.option(fc.constantFrom('', '\0', 'b', 'bb', 'c', 'd', 'a').map(b), { nil: undefined })
const arbVal = fc.constantFrom('', 'x', 'y', 'zz').map(b)
const arbRev = fc.nat(10)
/** rarely: flags that mostly make a request fail validation, so most requests get through. */
const arbRarely = fc.constantFrom(false, false, false, false, false, true)
const arbLease = fc.constantFrom(0, 0, 1, 2)

const arbRange: fc.Arbitrary<RangeRequest> = fc.record(
  {
    key: arbKey,
    rangeEnd: arbEnd,
    limit: fc.constantFrom(0, 0, 1, 2),
    revision: fc.oneof(fc.constant(0), arbRev),
    sortOrder: fc.constantFrom('none', 'ascend', 'descend'),
    sortTarget: fc.constantFrom('key', 'version', 'create', 'mod', 'value'),
    keysOnly: fc.boolean(),
    countOnly: fc.boolean(),
    minModRevision: fc.constantFrom(0, 0, 3),
    maxModRevision: fc.constantFrom(0, 0, 6),
    minCreateRevision: fc.constantFrom(0, 0, 2),
    maxCreateRevision: fc.constantFrom(0, 0, 8),
  },
  { ...noNull, requiredKeys: ['key'] },
)

const arbPut = fc.record(
  {
    key: arbKey,
    value: arbVal,
    lease: arbLease,
    prevKv: fc.boolean(),
    ignoreValue: arbRarely,
    ignoreLease: arbRarely,
  },
  { ...noNull, requiredKeys: ['key', 'value'] },
)
const arbDelete = fc.record(
  { key: arbKey, rangeEnd: arbEnd, prevKv: fc.boolean() },
  { ...noNull, requiredKeys: ['key'] },
)

const arbCompare: fc.Arbitrary<Compare> = fc.oneof(
  fc.record(
    {
      target: fc.constantFrom('version' as const, 'create' as const, 'mod' as const, 'lease' as const),
      key: arbKey,
      rangeEnd: arbEnd,
      result: fc.constantFrom('equal' as const, 'greater' as const, 'less' as const, 'notEqual' as const),
      operand: fc.nat(6),
    },
    { ...noNull, requiredKeys: ['target', 'key', 'result', 'operand'] },
  ),
  fc.record(
    {
      target: fc.constant('value' as const),
      key: arbKey,
      rangeEnd: arbEnd,
      result: fc.constantFrom('equal' as const, 'greater' as const, 'less' as const, 'notEqual' as const),
      value: arbVal,
    },
    { ...noNull, requiredKeys: ['target', 'key', 'result', 'value'] },
  ),
)

const arbTxn: fc.Arbitrary<TxnRequest> = fc.letrec<{ txn: TxnRequest; op: RequestOp }>((tie) => ({
  txn: fc.record(
    {
      compare: fc.array(arbCompare, { maxLength: 2 }),
      success: fc.array(tie('op'), { maxLength: 3 }),
      failure: fc.array(tie('op'), { maxLength: 3 }),
    },
    noNull,
  ),
  op: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.record({ op: fc.constant('range' as const), request: arbRange }, noNull),
    fc.record({ op: fc.constant('put' as const), request: arbPut }, noNull),
    fc.record({ op: fc.constant('deleteRange' as const), request: arbDelete }, noNull),
    fc.record({ op: fc.constant('txn' as const), request: tie('txn') }, noNull),
  ),
})).txn

type Step =
  | { f: 'range'; r: RangeRequest }
  | { f: 'put'; r: PutRequest }
  | { f: 'delete'; r: DeleteRangeRequest }
  | { f: 'txn'; r: TxnRequest }
  | { f: 'compact'; rev: number }
  | { f: 'events'; rev: number; key: Uint8Array; end: Uint8Array | undefined }
  | { f: 'lease'; lease: number }

const arbStep: fc.Arbitrary<Step> = fc.oneof(
  { arbitrary: fc.record({ f: fc.constant('put' as const), r: arbPut }, noNull), weight: 4 },
  { arbitrary: fc.record({ f: fc.constant('delete' as const), r: arbDelete }, noNull), weight: 2 },
  { arbitrary: fc.record({ f: fc.constant('txn' as const), r: arbTxn }, noNull), weight: 3 },
  { arbitrary: fc.record({ f: fc.constant('range' as const), r: arbRange }, noNull), weight: 3 },
  { arbitrary: fc.record({ f: fc.constant('compact' as const), rev: arbRev }, noNull), weight: 2 },
  {
    arbitrary: fc.record(
      { f: fc.constant('events' as const), rev: arbRev, key: arbKey, end: arbEnd },
      noNull,
    ),
    weight: 1,
  },
  { arbitrary: fc.record({ f: fc.constant('lease' as const), lease: arbLease }, noNull), weight: 1 },
)

function run(s: MvccStore | ModelStore, step: Step): unknown {
  switch (step.f) {
    case 'range':
      return s.range(step.r)
    case 'put':
      return s.put(step.r)
    case 'delete':
      return s.deleteRange(step.r)
    case 'txn':
      return s.txn(step.r)
    case 'compact':
      return s.compact(step.rev)
    case 'events':
      return s.eventsSince(step.rev, step.key, step.end)
    case 'lease':
      return [s.keysOfLease(step.lease), s.deleteByLease(step.lease)]
  }
}

describe('mvcc store against the reference model', () => {
  it('answers every operation as the model does', () => {
    fc.assert(
      fc.property(fc.array(arbStep, { maxLength: 60, size: 'medium' }), (steps) => {
        const store = new MvccStore()
        const model = new ModelStore()
        for (const [i, step] of steps.entries()) {
          assert.deepStrictEqual(run(store, step), run(model, step), `step ${i}: ${step.f}`)
          store.checkInvariants()
          assert.equal(store.revision, model.revision)
        }
      }),
      { numRuns: 300 },
    )
  })

  it('answers the same after a snapshot round trip, and snapshots deterministically', () => {
    fc.assert(
      fc.property(
        fc.array(arbStep, { maxLength: 30 }),
        fc.array(arbStep, { maxLength: 10 }),
        (before, after) => {
          const store = new MvccStore()
          for (const step of before) run(store, step)
          const bytes = encodeStore(store)
          const copy = decodeStore(bytes)
          assert.deepStrictEqual(encodeStore(copy), bytes)
          for (const step of after) assert.deepStrictEqual(run(copy, step), run(store, step))
        },
      ),
      { numRuns: 150 },
    )
  })
})
