import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { MvccStore } from '../../../src/kv/mvcc/store.js'
import type { Compare, RequestOp } from '../../../src/kv/mvcc/types.js'
import { b, errorOf, str, value, view } from './helpers.js'

// Reference: etcd server/etcdserver/txn/txn.go (applyCompare, compareToPath, checkTxn) and
// api/v3rpc/key.go (checkIntervals) for duplicate keys; etcd.io/docs/v3.5/learning/api "Transaction".

const DUP = 'etcdserver: duplicate key given in txn request'
const put = (k: string, v = 'v'): RequestOp => ({ op: 'put', request: { key: b(k), value: b(v) } })
const del = (k: string, end?: string): RequestOp => ({
  op: 'deleteRange',
  request: end === undefined ? { key: b(k) } : { key: b(k), rangeEnd: b(end) },
})
const get = (k: string): RequestOp => ({ op: 'range', request: { key: b(k) } })
const version = (k: string, result: Compare['result'], operand: number, end?: string): Compare =>
  end === undefined
    ? { target: 'version', key: b(k), result, operand }
    : { target: 'version', key: b(k), rangeEnd: b(end), result, operand }
const valueIs = (k: string, result: Compare['result'], v: string): Compare => ({
  target: 'value',
  key: b(k),
  result,
  value: b(v),
})

describe('mvcc store: txn', () => {
  it('create-if-absent: version = 0 holds for a missing key, then fails', () => {
    const s = new MvccStore()
    const t = { compare: [version('lock', 'equal', 0)], success: [put('lock', 'me')], failure: [get('lock')] }
    const first = value(s.txn(t))
    assert.deepEqual([first.succeeded, first.revision], [true, 2])
    const second = value(s.txn(t))
    assert.deepEqual([second.succeeded, second.revision], [false, 2], 'a read-only branch keeps the revision')
    const r = second.responses[0]
    assert.ok(r?.op === 'range')
    assert.equal(view(r.response.kvs[0]), 'lock=me c2 m2 v1 l0')
  })

  it('a VALUE compare on a missing key fails whatever the operator, as in etcd', () => {
    const s = new MvccStore()
    for (const result of ['equal', 'notEqual', 'greater', 'less'] as const) {
      assert.equal(
        value(s.txn({ compare: [valueIs('nope', result, 'x')], success: [], failure: [] })).succeeded,
        false,
      )
    }
    value(s.put({ key: b('k'), value: b('b') }))
    assert.equal(
      value(s.txn({ compare: [valueIs('k', 'greater', 'a')], success: [], failure: [] })).succeeded,
      true,
    )
  })

  it('a compare over a range needs every key to satisfy it', () => {
    const s = new MvccStore()
    value(s.put({ key: b('p/1'), value: b('') }))
    value(s.put({ key: b('p/2'), value: b('') }))
    value(s.put({ key: b('p/2'), value: b('') }))
    const ok = (c: Compare) => value(s.txn({ compare: [c], success: [], failure: [] })).succeeded
    assert.equal(ok(version('p/', 'greater', 0, 'p0')), true)
    assert.equal(ok(version('p/', 'equal', 1, 'p0')), false)
    assert.equal(ok(version('q/', 'equal', 0, 'q0')), true, 'an empty range compares as a zero key-value')
  })

  it('writes all land at one revision, with sub-revision order in the feed', () => {
    const s = new MvccStore()
    value(s.put({ key: b('old'), value: b('1') }))
    const t = value(s.txn({ compare: [], success: [put('z'), put('a'), del('old'), get('a')], failure: [] }))
    assert.equal(t.revision, 3)
    const r = t.responses[3]
    assert.ok(r?.op === 'range')
    assert.equal(view(r.response.kvs[0]), 'a=v c3 m3 v1 l0', 'a range in a txn sees its earlier writes')
    const events = value(s.eventsSince(2, b('\0'), b('\0')))
    assert.deepEqual(
      events.map((e) => `${e.type} ${str(e.kv.key)}@${e.kv.modRevision}`),
      ['put z@3', 'put a@3', 'delete old@3'],
    )
    assert.equal(view(events[2]?.prevKv), 'old=1 c2 m2 v1 l0')
  })

  it('nested txn compares see the state before the outer txn', () => {
    const s = new MvccStore()
    const inner = { compare: [version('k', 'equal', 0)], success: [put('inner-saw-nothing')], failure: [] }
    const t = value(s.txn({ compare: [], success: [put('k'), { op: 'txn', request: inner }], failure: [] }))
    assert.equal(t.succeeded, true)
    assert.equal(value(s.range({ key: b('inner-saw-nothing') })).count, 1)
  })

  it('refuses a key written twice on one path, but not across then/else', () => {
    const s = new MvccStore()
    const tx = (success: RequestOp[]) => s.txn({ compare: [], success, failure: [] })
    assert.equal(errorOf(tx([put('a'), put('a')])), DUP)
    assert.equal(errorOf(tx([del('a', 'c'), put('b')])), DUP)
    assert.equal(errorOf(tx([put('b'), del('\0', '\0')])), DUP)
    const nested = { op: 'txn' as const, request: { compare: [], success: [put('a')], failure: [put('a')] } }
    value(tx([nested]))
    assert.equal(errorOf(tx([nested, put('a')])), DUP)
    assert.equal(value(tx([del('a', 'c'), del('b', 'd')])).revision, 3, 'overlapping deletes are fine')
  })

  it('lets a nested txn delete what an earlier nested txn put, as etcd checkIntervals does', () => {
    const s = new MvccStore()
    value(s.put({ key: b('k'), value: b('old') }))
    const nest = (op: RequestOp): RequestOp => ({
      op: 'txn',
      request: { compare: [], success: [op], failure: [] },
    })
    const t = value(s.txn({ compare: [], success: [nest(put('k', 'new')), nest(del('k'))], failure: [] }))
    assert.equal(t.revision, 3)
    assert.equal(value(s.range({ key: b('k') })).count, 0)
    const events = value(s.eventsSince(2, b('k')))
    assert.deepEqual(
      events.map((e) => `${e.type} ${view(e.kv)} prev ${view(e.prevKv)}`),
      ['put k=new c2 m3 v2 l0 prev k=old c2 m2 v1 l0', 'delete k= c0 m3 v0 l0 prev k=old c2 m2 v1 l0'],
      'prev_kv is the version at mod_revision - 1, as etcd watch reports it',
    )
    s.checkInvariants()
  })

  it('checks the chosen branch against the state before it runs', () => {
    const s = new MvccStore()
    const missing = { op: 'put' as const, request: { key: b('m'), value: b(''), ignoreValue: true } }
    assert.equal(
      errorOf(s.txn({ compare: [], success: [put('a'), missing], failure: [] })),
      'etcdserver: key not found',
    )
    assert.equal(s.revision, 1, 'nothing of a refused txn is applied')
    value(s.txn({ compare: [version('x', 'equal', 1)], success: [missing], failure: [] }))
    const future = { op: 'range' as const, request: { key: b('a'), revision: 2 } }
    assert.equal(
      errorOf(s.txn({ compare: [], success: [future], failure: [] })),
      'mvcc: required revision is a future revision',
    )
  })

  it('refuses more ops than txnOpsMax', () => {
    const s = new MvccStore(2)
    const err = errorOf(s.txn({ compare: [], success: [put('a'), put('b'), put('c')], failure: [] }))
    assert.equal(err, 'etcdserver: too many operations in txn request')
  })
})

describe('mvcc store: change feed', () => {
  it('returns puts and deletes after a revision, with prev kvs, and refuses compacted ones', () => {
    const s = new MvccStore()
    value(s.put({ key: b('a'), value: b('1') })) // 2
    value(s.put({ key: b('a'), value: b('2') })) // 3
    value(s.put({ key: b('b'), value: b('1') })) // 4
    value(s.deleteRange({ key: b('a') })) // 5
    const events = value(s.eventsSince(2, b('a')))
    assert.deepEqual(
      events.map((e) => [e.type, e.kv.modRevision, view(e.prevKv)]),
      [
        ['put', 3, 'a=1 c2 m2 v1 l0'],
        ['delete', 5, 'a=2 c2 m3 v2 l0'],
      ],
    )
    value(s.compact(4))
    assert.equal(errorOf(s.eventsSince(3, b('a'))), 'mvcc: required revision has been compacted')
    assert.equal(value(s.eventsSince(4, b('a'), b('\0'))).length, 1)
    assert.deepEqual(value(s.eventsSince(9, b('a'))), [])
  })
})
