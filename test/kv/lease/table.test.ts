import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { AssertionFailure } from '../../../src/core/assert.js'
import { applyLeaseCommand } from '../../../src/kv/lease/commands.js'
import { LeaseTable } from '../../../src/kv/lease/table.js'
import {
  isLeaseError,
  LEASE_ERROR_MESSAGES,
  LEASE_ID_MAX,
  type Lease,
  type LeaseError,
  MAX_LEASE_TTL_SECONDS,
  minLeaseTtlSeconds,
} from '../../../src/kv/lease/types.js'

/** etcd's defaults: --heartbeat-interval 100 ms, --election-timeout 1000 ms = 10 ticks. */
const ETCD_DEFAULT = { electionTicks: 10, heartbeatMs: 100 }
const newTable = (leasesMax?: number) =>
  new LeaseTable({ ...ETCD_DEFAULT, ...(leasesMax ? { leasesMax } : {}) })

function ok<T>(v: T | LeaseError): T {
  assert.ok(!isLeaseError(v), `unexpected error ${JSON.stringify(v)}`)
  return v as T
}

function err(v: unknown): string {
  assert.ok(isLeaseError(v), `expected an error, got ${JSON.stringify(v)}`)
  return v.message
}

describe('minLeaseTtlSeconds', () => {
  // Reference: etcd server/etcdserver/server.go, NewServer:
  //   minTTL := time.Duration((3*cfg.ElectionTicks)/2) * heartbeat
  //   MinLeaseTTL: int64(math.Ceil(minTTL.Seconds()))
  const cases: [number, number, number][] = [
    [10, 100, 2], // etcd defaults: 15 ticks * 100 ms = 1.5 s -> 2 s
    [5, 100, 1], // (15/2 = 7 ticks) * 100 ms = 0.7 s -> 1 s
    [1, 100, 1], // (3/2 = 1 tick) * 100 ms = 0.1 s -> 1 s: integer division before the multiply
    [20, 100, 3], // 30 ticks * 100 ms = 3 s exactly
    [10, 500, 8], // 15 * 500 ms = 7.5 s -> 8 s
    [3, 1000, 4], // (9/2 = 4 ticks) * 1 s = 4 s
  ]
  for (const [electionTicks, heartbeatMs, want] of cases) {
    it(`electionTicks=${electionTicks} heartbeatMs=${heartbeatMs} -> ${want}s`, () => {
      assert.equal(minLeaseTtlSeconds({ electionTicks, heartbeatMs }), want)
    })
  }
  it('rejects nonsense timing at construction', () => {
    assert.throws(() => new LeaseTable({ electionTicks: 0, heartbeatMs: 100 }), RangeError)
    assert.throws(() => new LeaseTable({ electionTicks: 10, heartbeatMs: 1.5 }), RangeError)
    assert.throws(() => newTable(-1), RangeError)
  })
})

describe('LeaseTable.grant', () => {
  // Reference: etcd server/lease/lessor.go, (*lessor).Grant.
  it('raises a TTL below the minimum to the minimum (lessor.Grant: if l.ttl < le.minLeaseTTL)', () => {
    const t = newTable()
    assert.deepEqual(ok(t.grant(7, 1)), { id: 7, grantedTtl: 2, remainingTtl: 0 })
    assert.deepEqual(ok(t.grant(8, 0)), { id: 8, grantedTtl: 2, remainingTtl: 0 })
    assert.deepEqual(ok(t.grant(9, 60)), { id: 9, grantedTtl: 60, remainingTtl: 0 })
  })
  it('refuses an existing id with ErrLeaseExists', () => {
    const t = newTable()
    ok(t.grant(7, 10))
    assert.equal(err(t.grant(7, 20)), 'etcdserver: lease already exists')
    assert.equal(t.get(7)?.grantedTtl, 10, 'the refused grant changed nothing')
  })
  it('refuses a TTL above MaxLeaseTTL with ErrLeaseTTLTooLarge, and accepts MaxLeaseTTL itself', () => {
    const t = newTable()
    assert.equal(err(t.grant(1, MAX_LEASE_TTL_SECONDS + 1)), 'etcdserver: too large lease TTL')
    assert.equal(ok(t.grant(1, MAX_LEASE_TTL_SECONDS)).grantedTtl, MAX_LEASE_TTL_SECONDS)
  })
  it('id 0 picks the next free id from the table, skipping taken ones, never reusing it soon', () => {
    const t = newTable()
    ok(t.grant(2, 5))
    assert.equal(ok(t.grant(0, 5)).id, 1)
    assert.equal(ok(t.grant(0, 5)).id, 3, 'skips 2, taken explicitly')
    ok(t.revoke(1))
    assert.equal(ok(t.grant(0, 5)).id, 4, 'a revoked id is not handed out again at once')
  })
  it('id 0 wraps below 2^53 and stays a safe integer', () => {
    const t = newTable().restore(LEASE_ID_MAX - 1, [{ id: 1, grantedTtl: 5, remainingTtl: 0 }])
    assert.equal(ok(t.grant(0, 5)).id, LEASE_ID_MAX - 1)
    assert.equal(ok(t.grant(0, 5)).id, LEASE_ID_MAX)
    assert.equal(ok(t.grant(0, 5)).id, 2, 'wrapped to 1, which is taken, so 2')
    t.checkInvariants()
  })
  it('two tables applying the same grants pick the same ids (replicas agree)', () => {
    const a = newTable()
    const b = newTable()
    for (const [id, ttl] of [
      [0, 5],
      [3, 9],
      [0, 1],
      [0, 7],
      [1, 4],
    ] as const)
      assert.deepEqual(a.grant(id, ttl), b.grant(id, ttl))
    assert.deepEqual(a.state(), b.state())
  })
  it('refuses a grant beyond leasesMax', () => {
    const t = newTable(2)
    ok(t.grant(0, 5))
    ok(t.grant(0, 5))
    assert.equal(err(t.grant(0, 5)), LEASE_ERROR_MESSAGES.leasesFull)
  })
  it('asserts on ids the codec cannot produce (programmer error)', () => {
    assert.throws(() => newTable().grant(-1, 5), AssertionFailure)
    assert.throws(() => newTable().grant(2 ** 53, 5), AssertionFailure)
  })
})

describe('LeaseTable.revoke / checkpoint / get / list', () => {
  it('revoke returns the lease so the caller can deleteByLease; unknown is ErrLeaseNotFound', () => {
    // Reference: lessor.go (*lessor).Revoke: `if l == nil { return ErrLeaseNotFound }`.
    const t = newTable()
    ok(t.grant(5, 10))
    assert.deepEqual(ok(t.revoke(5)), { id: 5, grantedTtl: 10, remainingTtl: 0 })
    assert.equal(err(t.revoke(5)), 'etcdserver: requested lease not found')
    assert.equal(t.get(5), undefined)
  })
  it('checkpoint records the remaining TTL; 0 clears it; unknown is not found', () => {
    // Reference: lessor.go (*lessor).Checkpoint sets l.remainingTTL.
    const t = newTable()
    ok(t.grant(5, 100))
    assert.equal(ok(t.checkpoint(5, 40)).remainingTtl, 40)
    assert.equal(t.get(5)?.remainingTtl, 40)
    assert.equal(ok(t.checkpoint(5, 0)).remainingTtl, 0)
    assert.equal(err(t.checkpoint(6, 1)), 'etcdserver: requested lease not found')
  })
  it('list is sorted by id; get returns {id, grantedTtl}', () => {
    const t = newTable()
    for (const id of [9, 3, 6]) ok(t.grant(id, id))
    assert.deepEqual(
      t.list().map((l) => l.id),
      [3, 6, 9],
    )
    assert.deepEqual(t.get(9), { id: 9, grantedTtl: 9, remainingTtl: 0 })
    assert.equal(t.size, 3)
  })
  it('applyLeaseCommand routes commands and skips unknown checkpoint ids', () => {
    const t = newTable()
    assert.equal((applyLeaseCommand(t, { type: 'grant', id: 0, ttl: 30 }) as Lease).id, 1)
    const cps = applyLeaseCommand(t, {
      type: 'checkpoint',
      checkpoints: [
        { id: 1, remainingTtl: 12 },
        { id: 99, remainingTtl: 3 },
      ],
    }) as Lease[]
    assert.deepEqual(cps, [{ id: 1, grantedTtl: 30, remainingTtl: 12 }])
    assert.equal(err(applyLeaseCommand(t, { type: 'revoke', id: 99 })), LEASE_ERROR_MESSAGES.leaseNotFound)
    assert.equal((applyLeaseCommand(t, { type: 'revoke', id: 1 }) as Lease).id, 1)
  })
})
