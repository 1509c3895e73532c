import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { LeaseClock } from '../../../src/kv/lease/clock.js'
import { LeaseTable } from '../../../src/kv/lease/table.js'
import { isLeaseError, LEASE_ERROR_MESSAGES } from '../../../src/kv/lease/types.js'

const newTable = () => new LeaseTable({ electionTicks: 10, heartbeatMs: 100 }) // min TTL 2 s
const S = 1000

describe('LeaseClock', () => {
  it('a follower decides nothing: no deadlines, renew is ErrNotPrimary', () => {
    // Reference: etcd lessor.go (*lessor).Renew: `if !le.isPrimary() { return -1, ErrNotPrimary }`.
    const c = new LeaseClock()
    c.onGranted(1, 10, 0)
    assert.deepEqual(c.expired(10 ** 9, 10), [])
    assert.equal(c.remainingTtl(1, 0), undefined)
    assert.equal((c.renew(1, 0) as { message: string }).message, LEASE_ERROR_MESSAGES.notPrimary)
  })
  it('promote gives every lease a fresh deadline, from a checkpoint if one was taken', () => {
    // Reference: lessor.go (*lessor).Promote -> l.refresh(extend), which starts from
    // l.getRemainingTTL(): the checkpointed remainder if > 0, else the granted TTL.
    const t = newTable()
    t.grant(1, 10)
    t.grant(2, 60)
    t.checkpoint(2, 5)
    const c = new LeaseClock()
    c.promote(50 * S, t.list())
    assert.equal(c.remainingTtl(1, 50 * S), 10)
    assert.equal(c.remainingTtl(2, 50 * S), 5)
    assert.equal(c.remainingTtl(1, 55 * S + 1), 4, 'truncated to whole seconds')
    c.promote(100 * S, t.list(), 1 * S)
    assert.equal(c.remainingMs(1, 100 * S), 11 * S, 'extend (etcd: the election timeout) is added')
  })
  it('renew restarts the full TTL and asks to clear a checkpoint once', () => {
    const t = newTable()
    t.grant(2, 60)
    t.checkpoint(2, 5)
    const c = new LeaseClock()
    c.promote(0, t.list())
    assert.deepEqual(c.renew(2, 1 * S), { ttl: 60, clearCheckpoint: true })
    assert.deepEqual(c.renew(2, 2 * S), { ttl: 60, clearCheckpoint: false })
    assert.equal(c.remainingTtl(2, 2 * S), 60)
  })
  it('a lease whose deadline passed cannot be renewed: its expiry is decided', () => {
    // Reference: lessor.go (*lessor).Renew: `if l.expired() { ... return -1, ErrLeaseNotFound }`.
    const c = new LeaseClock()
    c.promote(0, [{ id: 1, grantedTtl: 2, remainingTtl: 0 }])
    assert.equal(isLeaseError(c.renew(1, 2 * S)), true)
    assert.equal(c.remainingTtl(1, 3 * S), 0)
    assert.equal((c.renew(9, 0) as { message: string }).message, LEASE_ERROR_MESSAGES.leaseNotFound)
  })
  it('expired returns due leases oldest first, ties by id, bounded by max, each once until retry', () => {
    const c = new LeaseClock({ retryMs: 3 * S })
    c.promote(0, [])
    c.onGranted(5, 2, 0)
    c.onGranted(4, 2, 0)
    c.onGranted(3, 3, 0)
    c.onGranted(1, 10, 0)
    assert.deepEqual(c.expired(1999, 10), [])
    assert.deepEqual(c.expired(3 * S, 2), [4, 5])
    assert.deepEqual(c.expired(3 * S, 10), [3], 'in-flight ones are not proposed twice')
    c.onRevoked(4)
    assert.deepEqual(
      c.expired(6 * S, 10),
      [3, 5],
      'a revoke not applied within retryMs is offered again (same deadline: by id)',
    )
    c.demote()
    c.promote(7 * S, [{ id: 3, grantedTtl: 3, remainingTtl: 0 }])
    assert.deepEqual(c.expired(7 * S, 10), [], 'a new leader starts every lease afresh')
    assert.equal(c.nextDeadlineMs(), 10 * S)
    c.checkInvariants()
  })
})

/** Model is the dumb reference: an array scanned linearly. */
interface Entry {
  id: number
  ttl: number
  due: number
  inFlight: boolean
  cp: boolean
}

class Model {
  primary = false
  entries: Entry[] = []
  constructor(readonly retryMs: number) {}
  find = (id: number) => this.entries.find((e) => e.id === id)
  promote(now: number, leases: { id: number; grantedTtl: number; remainingTtl: number }[], extend: number) {
    this.primary = true
    this.entries = leases.map((l) => ({
      id: l.id,
      ttl: l.grantedTtl,
      due: now + (l.remainingTtl > 0 ? l.remainingTtl : l.grantedTtl) * S + extend,
      inFlight: false,
      cp: l.remainingTtl > 0,
    }))
  }
  renew(id: number, now: number) {
    if (!this.primary) return 'notPrimary'
    const e = this.find(id)
    if (e === undefined || e.inFlight || e.due <= now) return 'leaseNotFound'
    e.due = now + e.ttl * S
    const clearCheckpoint = e.cp
    e.cp = false
    return { ttl: e.ttl, clearCheckpoint }
  }
  remainingTtl(id: number, now: number) {
    const e = this.find(id)
    if (e === undefined) return undefined
    return e.inFlight ? 0 : Math.floor(Math.max(0, e.due - now) / S)
  }
  expired(now: number, max: number) {
    const due = this.entries.filter((e) => e.due <= now).sort((a, b) => a.due - b.due || a.id - b.id)
    const out = due.slice(0, max)
    for (const e of out) {
      e.inFlight = true
      e.due = now + this.retryMs
    }
    return out.map((e) => e.id)
  }
}

type Op =
  | { op: 'grant'; ttl: number }
  | { op: 'revoke' | 'renew'; pick: number }
  | { op: 'checkpoint'; pick: number; remaining: number }
  | { op: 'promote'; extend: number }
  | { op: 'demote' }
  | { op: 'advance'; ms: number }
  | { op: 'expire'; max: number; apply: boolean }

const noNull = { noNullPrototype: true } as const
/** arbOp weighs the draw so histories hold several leases, keep-alives and expiries. */
const arbOp: fc.Arbitrary<Op> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ op: fc.constant('grant' as const), ttl: fc.nat(12) }, noNull) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('revoke' as const), pick: fc.nat(8) }, noNull) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('renew' as const), pick: fc.nat(8) }, noNull) },
  {
    weight: 1,
    arbitrary: fc.record(
      { op: fc.constant('checkpoint' as const), pick: fc.nat(8), remaining: fc.nat(8) },
      noNull,
    ),
  },
  {
    weight: 2,
    arbitrary: fc.record(
      { op: fc.constant('promote' as const), extend: fc.constantFrom(0, 500, 1000) },
      noNull,
    ),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('demote' as const) }, noNull) },
  {
    weight: 4,
    arbitrary: fc.record(
      { op: fc.constant('advance' as const), ms: fc.oneof(fc.nat(3000), fc.constant(1000)) },
      noNull,
    ),
  },
  {
    weight: 3,
    arbitrary: fc.record({ op: fc.constant('expire' as const), max: fc.nat(4), apply: fc.boolean() }, noNull),
  },
)

/** Run drives the real table + clock and the Model through the same history, comparing them. */
class Run {
  readonly table = newTable()
  readonly clock: LeaseClock
  readonly model: Model
  now = 1_000_000

  constructor(
    retryMs: number,
    readonly seen: Record<'expired' | 'renewed' | 'promoted', number>,
  ) {
    this.clock = new LeaseClock({ retryMs })
    this.model = new Model(retryMs)
  }

  /** pickId names the pick-th lease of the table, or an unknown id past its end. */
  pickId = (pick: number): number => this.table.list()[pick]?.id ?? 1000 + pick

  /** revoke applies a revoke command as the host would: table, then clock (and the model). */
  revoke(id: number): void {
    if (isLeaseError(this.table.revoke(id))) return
    this.clock.onRevoked(id)
    this.model.entries = this.model.entries.filter((e) => e.id !== id)
  }

  grant(ttl: number): void {
    const l = this.table.grant(0, ttl)
    if (isLeaseError(l)) return
    this.clock.onGranted(l.id, l.grantedTtl, this.now)
    if (this.model.primary)
      this.model.entries.push({
        id: l.id,
        ttl: l.grantedTtl,
        due: this.now + l.grantedTtl * S,
        inFlight: false,
        cp: false,
      })
  }

  step(o: Op): void {
    const { clock, model, table, now } = this
    switch (o.op) {
      case 'grant':
        this.grant(o.ttl)
        return
      case 'revoke':
        this.revoke(this.pickId(o.pick))
        return
      case 'renew': {
        const id = this.pickId(o.pick)
        const got = clock.renew(id, now)
        assert.deepEqual(isLeaseError(got) ? got.code : got, model.renew(id, now), `renew(${id})`)
        if (!isLeaseError(got)) this.seen.renewed++
        return
      }
      case 'checkpoint':
        table.checkpoint(this.pickId(o.pick), o.remaining)
        return
      case 'promote':
        clock.promote(now, table.list(), o.extend)
        model.promote(now, table.list(), o.extend)
        this.seen.promoted += table.size
        return
      case 'demote':
        clock.demote()
        model.primary = false
        model.entries = []
        return
      case 'advance':
        this.now += o.ms
        return
      case 'expire': {
        const got = clock.expired(now, o.max)
        assert.deepEqual(got, model.expired(now, o.max), 'expired')
        this.seen.expired += got.length
        if (o.apply) for (const id of got) this.revoke(id)
        return
      }
    }
  }

  check(): void {
    this.clock.checkInvariants()
    this.table.checkInvariants()
    for (let pick = 0; pick <= this.table.size; pick++) {
      const id = this.pickId(pick)
      assert.equal(
        this.clock.remainingTtl(id, this.now),
        this.model.remainingTtl(id, this.now),
        `remainingTtl(${id})`,
      )
    }
    const next = this.model.entries.reduce((m, e) => Math.min(m, e.due), Number.POSITIVE_INFINITY)
    assert.equal(this.clock.nextDeadlineMs() ?? Number.POSITIVE_INFINITY, next, 'nextDeadlineMs')
  }
}

describe('LeaseClock against a linear reference', () => {
  it('agrees on expired(), renew() and remainingTtl() over random histories', () => {
    const seen = { expired: 0, renewed: 0, promoted: 0 }
    fc.assert(
      fc.property(
        fc.array(arbOp, { minLength: 20, maxLength: 80, size: 'max' }),
        fc.constantFrom(1, 700, 3000),
        (ops, retryMs) => {
          const run = new Run(retryMs, seen)
          for (const o of ops) {
            run.step(o)
            run.check()
          }
        },
      ),
      { numRuns: 300 },
    )
    // The generator must reach the interesting states, or agreement proves little.
    assert.ok(seen.expired > 100 && seen.renewed > 100 && seen.promoted > 100, JSON.stringify(seen))
  })
})
