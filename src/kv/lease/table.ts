import { assert } from '../../core/assert.js'
import {
  LEASE_ID_MAX,
  type Lease,
  type LeaseError,
  type LeaseTiming,
  leaseError,
  MAX_LEASE_TTL_SECONDS,
  minLeaseTtlSeconds,
  NO_LEASE,
} from './types.js'

/** LeaseTableConfig: the raft timing (for the minimum TTL) and a bound on the number of leases. */
export interface LeaseTableConfig extends LeaseTiming {
  /** leasesMax bounds the table; a grant beyond it is refused with `leasesFull`. */
  readonly leasesMax?: number
}

export const LEASES_MAX_DEFAULT = 1_000_000

/**
 * LeaseTable is the replicated half of etcd's lessor: which leases exist and their TTLs. Every
 * replica applies the same grant / revoke / checkpoint commands in log order and so holds the
 * same table. It knows no time: when a lease expires is the leader's LeaseClock's business, and
 * an expiry reaches the table as an ordinary revoke. Which keys a lease holds is the MVCC
 * store's lease index; after a successful revoke the caller deletes them with deleteByLease.
 */
export class LeaseTable {
  readonly minTtlSeconds: number
  readonly leasesMax: number
  /** Invariant: ids in [1, LEASE_ID_MAX]; grantedTtl in [minTtlSeconds, MAX]; remainingTtl ≤ MAX. */
  private readonly leases = new Map<number, Lease>()
  /** nextId is where the search for a free id starts. Invariant: 1 ≤ nextId ≤ LEASE_ID_MAX. */
  private nextId = 1

  constructor(config: LeaseTableConfig) {
    this.minTtlSeconds = minLeaseTtlSeconds(config)
    this.leasesMax = config.leasesMax ?? LEASES_MAX_DEFAULT
    if (!Number.isSafeInteger(this.leasesMax) || this.leasesMax < 1)
      throw new RangeError(`leasesMax must be a positive integer, got ${this.leasesMax}`)
  }

  get size(): number {
    return this.leases.size
  }

  /**
   * grant creates lease `id` with `ttlSeconds`, raised to minTtlSeconds as etcd's lessor.Grant
   * does (`if l.ttl < le.minLeaseTTL { l.ttl = le.minLeaseTTL }`). Id NO_LEASE asks for the next
   * free id at or after nextId (wrapping below 2^53), a pure function of the table, so every
   * replica picks the same one. Refuses: ttl > MAX_LEASE_TTL_SECONDS → ttlTooLarge; an existing
   * id → leaseExists; a full table → leasesFull.
   */
  grant(id: number, ttlSeconds: number): Lease | LeaseError {
    assert(Number.isSafeInteger(id) && id >= 0, () => `grant: bad lease id ${id}`)
    assert(Number.isSafeInteger(ttlSeconds) && ttlSeconds >= 0, () => `grant: bad ttl ${ttlSeconds}`)
    if (ttlSeconds > MAX_LEASE_TTL_SECONDS) return leaseError('ttlTooLarge')
    if (id !== NO_LEASE && this.leases.has(id)) return leaseError('leaseExists')
    if (this.leases.size >= this.leasesMax) return leaseError('leasesFull')
    const chosen = id === NO_LEASE ? this.pickFreeId() : id
    const lease: Lease = { id: chosen, grantedTtl: Math.max(ttlSeconds, this.minTtlSeconds), remainingTtl: 0 }
    this.leases.set(chosen, lease)
    if (id === NO_LEASE) this.nextId = chosen === LEASE_ID_MAX ? 1 : chosen + 1
    return lease
  }

  /** pickFreeId scans from nextId for an unused id; the table is not full, so one exists. */
  private pickFreeId(): number {
    let id = this.nextId
    while (this.leases.has(id)) id = id === LEASE_ID_MAX ? 1 : id + 1
    return id
  }

  /**
   * revoke removes lease `id` and returns it; the caller must then delete its keys (the MVCC
   * store's deleteByLease), in the same apply step. Unknown id → leaseNotFound (lessor.Revoke).
   */
  revoke(id: number): Lease | LeaseError {
    const lease = this.leases.get(id)
    if (lease === undefined) return leaseError('leaseNotFound')
    this.leases.delete(id)
    return lease
  }

  /**
   * checkpoint records a lease's remaining TTL (etcd's lessor.Checkpoint, applied from a
   * LeaseCheckpoint command): a leader elected later restarts the lease from it, so long leases
   * are not extended to their full TTL by every leader change. 0 clears it (a keep-alive did).
   * Unknown id → leaseNotFound (etcd ignores it; the host may too).
   */
  checkpoint(id: number, remainingTtl: number): Lease | LeaseError {
    assert(
      Number.isSafeInteger(remainingTtl) && remainingTtl >= 0,
      () => `checkpoint: bad ttl ${remainingTtl}`,
    )
    const lease = this.leases.get(id)
    if (lease === undefined) return leaseError('leaseNotFound')
    const next: Lease = { ...lease, remainingTtl: Math.min(remainingTtl, MAX_LEASE_TTL_SECONDS) }
    this.leases.set(id, next)
    return next
  }

  /** get returns lease `id`, or undefined. */
  get(id: number): Lease | undefined {
    return this.leases.get(id)
  }

  /** list returns every lease sorted by id (etcd's LeaseLeases). */
  list(): Lease[] {
    return [...this.leases.values()].sort((a, b) => a.id - b.id)
  }

  /** state exposes what a snapshot holds: leases by id and the id search start. */
  state(): { readonly nextId: number; readonly leases: readonly Lease[] } {
    return { nextId: this.nextId, leases: this.list() }
  }

  /**
   * restore replaces the table's contents with a snapshot's; the caller has validated it (the
   * decoder rejects what checkInvariants would). Returns the table for chaining.
   */
  restore(nextId: number, leases: readonly Lease[]): this {
    this.leases.clear()
    for (const l of leases) this.leases.set(l.id, l)
    this.nextId = nextId
    this.checkInvariants()
    return this
  }

  /** checkInvariants asserts the field invariants above. */
  checkInvariants(): void {
    assert(Number.isSafeInteger(this.nextId) && this.nextId >= 1, `bad nextId ${this.nextId}`)
    for (const [id, l] of this.leases) {
      assert(l.id === id && id >= 1 && id <= LEASE_ID_MAX, () => `bad lease id ${id}`)
      assert(l.grantedTtl <= MAX_LEASE_TTL_SECONDS, () => `lease ${id}: ttl too large`)
      assert(
        l.remainingTtl >= 0 && l.remainingTtl <= MAX_LEASE_TTL_SECONDS,
        () => `lease ${id}: bad remaining`,
      )
    }
  }
}
