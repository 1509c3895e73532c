import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { MvccStore } from '../../../src/kv/mvcc/store.js'
import type { RangeRequest } from '../../../src/kv/mvcc/types.js'
import { b, errorOf, value, view } from './helpers.js'

// Reference: etcd API docs, "KV API guarantees" and "Revisions" (etcd.io/docs/v3.5/learning/api),
// and etcd's server/mvcc/kvstore_txn.go for revision bumping and compaction errors.

const COMPACTED = 'mvcc: required revision has been compacted'
const FUTURE = 'mvcc: required revision is a future revision'

function seeded(): MvccStore {
  const s = new MvccStore()
  for (const [k, v] of [
    ['a', '1'],
    ['b', '22'],
    ['ba', '3'],
    ['c', '4'],
  ] as const)
    value(s.put({ key: b(k), value: b(v) }))
  return s // revisions 2..5
}

const keys = (s: MvccStore, r: RangeRequest): string[] =>
  value(s.range(r)).kvs.map((kv) => view(kv) as string)

describe('mvcc store: put', () => {
  it('starts at revision 1 and the first write makes it 2', () => {
    const s = new MvccStore()
    assert.equal(s.revision, 1)
    const res = value(s.put({ key: b('k'), value: b('v') }))
    assert.equal(res.revision, 2)
    assert.deepEqual(keys(s, { key: b('k') }), ['k=v c2 m2 v1 l0'])
  })

  it('bumps version and mod revision, keeps create revision, returns prev_kv', () => {
    const s = new MvccStore()
    value(s.put({ key: b('k'), value: b('v1') }))
    const res = value(s.put({ key: b('k'), value: b('v2'), prevKv: true, lease: 7 }))
    assert.equal(view(res.prevKv), 'k=v1 c2 m2 v1 l0')
    assert.deepEqual(keys(s, { key: b('k') }), ['k=v2 c2 m3 v2 l7'])
  })

  it('ignore_value and ignore_lease keep what the key holds, and need the key', () => {
    const s = new MvccStore()
    assert.equal(
      errorOf(s.put({ key: b('k'), value: b(''), ignoreValue: true })),
      'etcdserver: key not found',
    )
    assert.equal(
      errorOf(s.put({ key: b('k'), value: b(''), ignoreLease: true })),
      'etcdserver: key not found',
    )
    assert.equal(s.revision, 1)
    value(s.put({ key: b('k'), value: b('v'), lease: 5 }))
    value(s.put({ key: b('k'), value: b(''), ignoreValue: true, lease: 6 }))
    assert.deepEqual(keys(s, { key: b('k') }), ['k=v c2 m3 v2 l6'])
    value(s.put({ key: b('k'), value: b('w'), ignoreLease: true }))
    assert.deepEqual(keys(s, { key: b('k') }), ['k=w c2 m4 v3 l6'])
  })

  it('refuses an empty key, a value with ignore_value and a lease with ignore_lease', () => {
    const s = new MvccStore()
    assert.equal(errorOf(s.put({ key: b(''), value: b('v') })), 'etcdserver: key is not provided')
    value(s.put({ key: b('k'), value: b('v') }))
    assert.equal(
      errorOf(s.put({ key: b('k'), value: b('x'), ignoreValue: true })),
      'etcdserver: value is provided',
    )
    assert.equal(
      errorOf(s.put({ key: b('k'), value: b(''), ignoreLease: true, lease: 3 })),
      'etcdserver: lease is provided',
    )
  })
})

describe('mvcc store: range', () => {
  it('reads one key, a prefix, everything from a key, and all keys', () => {
    const s = seeded()
    assert.deepEqual(keys(s, { key: b('b') }), ['b=22 c3 m3 v1 l0'])
    assert.deepEqual(keys(s, { key: b('b'), rangeEnd: b('c') }).length, 2)
    assert.deepEqual(
      keys(s, { key: b('b'), rangeEnd: b('\0') }).map((k) => k[0]),
      ['b', 'b', 'c'],
    )
    assert.equal(keys(s, { key: b('\0'), rangeEnd: b('\0') }).length, 4)
    assert.deepEqual(keys(s, { key: b('c'), rangeEnd: b('a') }), [], 'range_end <= key is empty')
    assert.equal(value(s.range({ key: b('zz') })).count, 0)
  })

  it('counts before the limit and says more', () => {
    const s = seeded()
    const r = value(s.range({ key: b('a'), rangeEnd: b('z'), limit: 2 }))
    assert.deepEqual([r.kvs.length, r.count, r.more, r.revision], [2, 4, true, 5])
    const all = value(s.range({ key: b('a'), rangeEnd: b('z'), limit: 4 }))
    assert.equal(all.more, false)
    const count = value(s.range({ key: b('a'), rangeEnd: b('z'), countOnly: true }))
    assert.deepEqual([count.kvs.length, count.count], [0, 4])
  })

  it('sorts by a target (ascending by default), and keys_only blanks values', () => {
    const s = seeded()
    const byValue = keys(s, { key: b('a'), rangeEnd: b('z'), sortTarget: 'value', sortOrder: 'descend' })
    assert.deepEqual(
      byValue.map((k) => k.split(' ')[0]),
      ['c=4', 'ba=3', 'b=22', 'a=1'],
    )
    const byMod = keys(s, { key: b('a'), rangeEnd: b('z'), sortTarget: 'mod' })
    assert.deepEqual(
      byMod.map((k) => k[0]),
      ['a', 'b', 'b', 'c'],
    )
    const only = value(s.range({ key: b('a'), keysOnly: true }))
    assert.equal(only.kvs[0]?.value.length, 0)
  })

  it('filters on mod and create revisions after counting', () => {
    const s = seeded()
    const r = value(s.range({ key: b('a'), rangeEnd: b('z'), minModRevision: 3, maxModRevision: 4 }))
    assert.deepEqual(
      r.kvs.map((kv) => kv.modRevision),
      [3, 4],
    )
    assert.equal(r.count, 4)
    assert.equal(value(s.range({ key: b('a'), rangeEnd: b('z'), maxCreateRevision: 2 })).kvs.length, 1)
  })

  it('reads the past, and refuses compacted and future revisions', () => {
    const s = seeded()
    value(s.put({ key: b('a'), value: b('new') }))
    assert.deepEqual(keys(s, { key: b('a'), revision: 5 }), ['a=1 c2 m2 v1 l0'])
    assert.deepEqual(keys(s, { key: b('c'), revision: 4 }), [])
    assert.equal(
      value(s.range({ key: b('a'), revision: 5 })).revision,
      6,
      'header revision is the current one',
    )
    assert.equal(errorOf(s.range({ key: b('a'), revision: 7 })), FUTURE)
    value(s.compact(4))
    assert.equal(errorOf(s.range({ key: b('a'), revision: 3 })), COMPACTED)
    assert.deepEqual(keys(s, { key: b('b'), revision: 4 }), ['b=22 c3 m3 v1 l0'])
  })
})

describe('mvcc store: delete range', () => {
  it('deletes, returns prev kvs, and a recreated key starts a new generation', () => {
    const s = seeded()
    const d = value(s.deleteRange({ key: b('b'), rangeEnd: b('c'), prevKv: true }))
    assert.deepEqual([d.deleted, d.revision, d.prevKvs.length], [2, 6, 2])
    value(s.put({ key: b('b'), value: b('again') }))
    assert.deepEqual(keys(s, { key: b('b') }), ['b=again c7 m7 v1 l0'])
  })

  it('does not bump the revision when it deletes nothing', () => {
    const s = seeded()
    const d = value(s.deleteRange({ key: b('x') }))
    assert.deepEqual([d.deleted, d.revision, s.revision], [0, 5, 5])
  })
})

describe('mvcc store: compact', () => {
  it('keeps the versions live at the compacted revision, and refuses old or future revisions', () => {
    const s = seeded()
    value(s.put({ key: b('a'), value: b('x') })) // 6
    value(s.deleteRange({ key: b('c') })) // 7
    value(s.compact(7))
    s.checkInvariants()
    assert.deepEqual(keys(s, { key: b('\0'), rangeEnd: b('\0'), revision: 7 }).length, 3)
    assert.equal(errorOf(s.compact(7)), COMPACTED)
    assert.equal(errorOf(s.compact(8)), FUTURE)
    assert.equal(errorOf(s.range({ key: b('a'), revision: 6 })), COMPACTED)
  })
})

describe('mvcc store: leases', () => {
  it('lists and deletes the keys of a lease as one revision', () => {
    const s = new MvccStore()
    value(s.put({ key: b('x'), value: b('1'), lease: 9 }))
    value(s.put({ key: b('y'), value: b('2'), lease: 9 }))
    value(s.put({ key: b('z'), value: b('3'), lease: 8 }))
    value(s.put({ key: b('y'), value: b('2') })) // detached from lease 9
    assert.deepEqual(s.keysOfLease(9), [b('x')])
    const d = s.deleteByLease(9)
    assert.deepEqual([d.deleted, d.revision], [1, 6])
    assert.deepEqual([s.deleteByLease(9).revision, s.revision], [6, 6])
  })
})
