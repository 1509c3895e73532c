import { assert } from '../../core/assert.js'
import { DeadlineHeap } from './deadline-heap.js'
import { type Lease, type LeaseError, leaseError } from './types.js'

/** LeaseClockConfig: timings in milliseconds of host time. */
export interface LeaseClockConfig {
  /**
   * retryMs is how long a proposed expiry stays in flight before expired() offers the lease
   * again, in case the proposal was lost (etcd's expiredLeaseRetryInterval, 3 s). ≥ 1.
   */
  readonly retryMs?: number
}

export const RETRY_MS_DEFAULT = 3000

/** Renewed is a successful keep-alive: the lease's TTL, and whether a checkpoint must be cleared. */
export interface Renewed {
  readonly ttl: number
  /**
   * clearCheckpoint says the lease had a checkpointed remaining TTL, which the host must reset
   * by proposing checkpoint(id, 0), as etcd's Renew does; else a later leader would start the
   * lease from the stale remainder.
   */
  readonly clearCheckpoint: boolean
}

/**
 * LeaseClock is the leader-local half of etcd's lessor (its "primary" state): it alone decides
 * when leases expire, with deadlines in host milliseconds passed in as `nowMs` (this folder
 * reads no clock). It is not replicated: expiry reaches the replicas as a revoke command that
 * the host proposes for each id expired() returns. A follower's clock is demoted and holds
 * nothing; promote() rebuilds it from the replicated LeaseTable with every lease given a fresh
 * deadline, so a leader change can extend a lease but never end it early.
 *
 * The host keeps it in step with the log: onGranted / onRevoked after applying grant / revoke.
 * Every operation costs O(log n) in the number of leases (promote: O(n log n)).
 */
export class LeaseClock {
  readonly retryMs: number
  private primary = false
  /** Invariant: empty unless primary; holds exactly the leases the table held at promote, plus grants, minus revokes. */
  private readonly ttls = new Map<number, number>()
  /** Invariant: one deadline per lease in ttls (for an in-flight lease: when to offer it again). */
  private readonly deadlines = new DeadlineHeap()
  /** inFlight: leases expired() returned whose revoke is not applied yet. Invariant: ⊆ ttls. */
  private readonly inFlight = new Set<number>()
  /** checkpointed: leases promoted from a checkpointed remaining TTL and not renewed since. */
  private readonly checkpointed = new Set<number>()

  constructor(config: LeaseClockConfig = {}) {
    this.retryMs = config.retryMs ?? RETRY_MS_DEFAULT
    if (!Number.isSafeInteger(this.retryMs) || this.retryMs < 1)
      throw new RangeError(`retryMs must be a positive integer, got ${this.retryMs}`)
  }

  get isPrimary(): boolean {
    return this.primary
  }

  /**
   * promote makes this the primary clock, as etcd's lessor.Promote on becoming leader: every
   * lease of `leases` (the table's) is due at nowMs + its TTL + extendMs, the TTL being the
   * checkpointed remainder if any, else the granted TTL. etcd passes the election timeout as
   * `extend`; 0 is the brief's "fresh full TTL". Previous deadlines and in-flight revokes are
   * forgotten: they belonged to an older term.
   */
  promote(nowMs: number, leases: Iterable<Lease>, extendMs = 0): void {
    checkTime(nowMs)
    assert(Number.isSafeInteger(extendMs) && extendMs >= 0, () => `promote: bad extendMs ${extendMs}`)
    this.demote()
    this.primary = true
    for (const l of leases) {
      this.ttls.set(l.id, l.grantedTtl)
      const ttl = l.remainingTtl > 0 ? l.remainingTtl : l.grantedTtl
      if (l.remainingTtl > 0) this.checkpointed.add(l.id)
      this.deadlines.set(l.id, nowMs + ttl * 1000 + extendMs)
    }
  }

  /** demote forgets every deadline (etcd's lessor.Demote): a follower never expires leases. */
  demote(): void {
    this.primary = false
    this.ttls.clear()
    this.deadlines.clear()
    this.inFlight.clear()
    this.checkpointed.clear()
  }

  /** onGranted follows an applied grant of `id` with granted `ttl` seconds (no-op on a follower). */
  onGranted(id: number, ttl: number, nowMs: number): void {
    checkTime(nowMs)
    if (!this.primary) return
    assert(!this.ttls.has(id), () => `onGranted: lease ${id} already tracked`)
    this.ttls.set(id, ttl)
    this.deadlines.set(id, nowMs + ttl * 1000)
  }

  /** onRevoked follows an applied revoke of `id` (by a client or by expiry); unknown ids are ignored. */
  onRevoked(id: number): void {
    this.ttls.delete(id)
    this.deadlines.remove(id)
    this.inFlight.delete(id)
    this.checkpointed.delete(id)
  }

  /**
   * renew is a keep-alive (etcd's lessor.Renew): the lease is due again at nowMs + its granted
   * TTL, which is returned. Refuses: a follower → notPrimary (the host forwards to the leader);
   * an unknown lease, or one whose deadline has passed or whose revoke is in flight →
   * leaseNotFound, since its expiry is decided already.
   */
  renew(id: number, nowMs: number): Renewed | LeaseError {
    checkTime(nowMs)
    if (!this.primary) return leaseError('notPrimary')
    const ttl = this.ttls.get(id)
    const due = this.deadlines.get(id)
    if (ttl === undefined || due === undefined || this.inFlight.has(id) || due <= nowMs)
      return leaseError('leaseNotFound')
    this.deadlines.set(id, nowMs + ttl * 1000)
    const clearCheckpoint = this.checkpointed.delete(id)
    return { ttl, clearCheckpoint }
  }

  /**
   * remainingMs is how long lease `id` has left at nowMs, 0 once its deadline passed or its revoke
   * is in flight; undefined on a follower or for an unknown lease.
   */
  remainingMs(id: number, nowMs: number): number | undefined {
    checkTime(nowMs)
    const due = this.deadlines.get(id)
    if (due === undefined) return undefined
    return this.inFlight.has(id) ? 0 : Math.max(0, due - nowMs)
  }

  /**
   * remainingTtl is remainingMs in whole seconds, truncated as etcd's LeaseTimeToLive does
   * (`int64(l.Remaining().Seconds())`), but never negative.
   */
  remainingTtl(id: number, nowMs: number): number | undefined {
    const ms = this.remainingMs(id, nowMs)
    return ms === undefined ? undefined : Math.floor(ms / 1000)
  }

  /**
   * expired returns up to `max` leases whose deadline is ≤ nowMs, earliest deadline first (ties by
   * id), for the host to propose as revoke commands. Each is then in flight: not returned again
   * until retryMs has passed without its revoke being applied (a lost proposal), and dropped by
   * onRevoked or demote. Empty on a follower.
   */
  expired(nowMs: number, max: number): number[] {
    checkTime(nowMs)
    assert(Number.isSafeInteger(max) && max >= 0, () => `expired: bad max ${max}`)
    const out: number[] = []
    for (let top = this.deadlines.peek(); top !== undefined && top.atMs <= nowMs && out.length < max; ) {
      out.push(top.id)
      this.inFlight.add(top.id)
      this.deadlines.set(top.id, nowMs + this.retryMs)
      top = this.deadlines.peek()
    }
    return out
  }

  /** nextDeadlineMs is when expired() will next have something to return, for the host's timer. */
  nextDeadlineMs(): number | undefined {
    return this.deadlines.peek()?.atMs
  }

  /** checkInvariants asserts the field invariants. O(n), for tests. */
  checkInvariants(): void {
    this.deadlines.checkInvariants()
    assert(this.primary || this.ttls.size === 0, 'a follower clock tracks leases')
    assert(this.deadlines.size === this.ttls.size, 'deadlines and ttls disagree')
    for (const id of this.ttls.keys())
      assert(this.deadlines.get(id) !== undefined, () => `no deadline for ${id}`)
    for (const id of this.inFlight) assert(this.ttls.has(id), () => `in-flight ${id} untracked`)
    for (const id of this.checkpointed) assert(this.ttls.has(id), () => `checkpointed ${id} untracked`)
  }
}

function checkTime(nowMs: number): void {
  assert(Number.isSafeInteger(nowMs) && nowMs >= 0, () => `bad time ${nowMs}`)
}
