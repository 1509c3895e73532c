/**
 * Lease types shared by the replicated LeaseTable and the leader-local LeaseClock.
 * Semantics follow etcd v3's lessor (server/lease/lessor.go); see DESIGN.md.
 */

/** NO_LEASE (0) is etcd's NoLease: as a grant id it asks the table to pick one. */
export const NO_LEASE = 0

/** LEASE_ID_MAX keeps ids safe integers, so they survive the codec and JS arithmetic (< 2^53). */
export const LEASE_ID_MAX = Number.MAX_SAFE_INTEGER

/** MAX_LEASE_TTL_SECONDS is etcd's MaxLeaseTTL (lessor.go: 9,000,000,000 s, about 285 years). */
export const MAX_LEASE_TTL_SECONDS = 9_000_000_000

/** Lease is what every replica knows of a lease. */
export interface Lease {
  readonly id: number
  /** grantedTtl is the TTL in seconds after the minimum-TTL raise (etcd's `ttl`). */
  readonly grantedTtl: number
  /**
   * remainingTtl is the last checkpointed remaining TTL in seconds, 0 when none (etcd's
   * `remainingTTL`): a new leader starts the lease from it instead of from grantedTtl.
   */
  readonly remainingTtl: number
}

export const LEASE_ERROR_MESSAGES = {
  leaseExists: 'etcdserver: lease already exists',
  leaseNotFound: 'etcdserver: requested lease not found',
  ttlTooLarge: 'etcdserver: too large lease TTL',
  notPrimary: 'not a primary lessor',
  leasesFull: 'etcdserver: too many leases',
} as const

export type LeaseErrorCode = keyof typeof LEASE_ERROR_MESSAGES

/** LeaseError is an operating error: the request is refused and nothing changed. */
export interface LeaseError {
  readonly code: LeaseErrorCode
  readonly message: string
}

export const leaseError = (code: LeaseErrorCode): LeaseError => ({
  code,
  message: LEASE_ERROR_MESSAGES[code],
})

/** isLeaseError tells a LeaseError from a successful result. */
export function isLeaseError(v: unknown): v is LeaseError {
  return typeof v === 'object' && v !== null && 'code' in v && 'message' in v
}

/** Timing is the raft timing the minimum TTL derives from. */
export interface LeaseTiming {
  /** electionTicks is raft's election timeout in heartbeat ticks (etcd --election-timeout / --heartbeat-interval). */
  readonly electionTicks: number
  /** heartbeatMs is the length of one tick in milliseconds (etcd --heartbeat-interval). */
  readonly heartbeatMs: number
}

/**
 * minLeaseTtlSeconds is etcd's minimum lease TTL: server/etcdserver/server.go computes
 * `minTTL := time.Duration((3*cfg.ElectionTicks)/2) * heartbeat` and passes
 * `MinLeaseTTL: int64(math.Ceil(minTTL.Seconds()))` to the lessor; the integer division comes
 * first. A lease shorter than that could expire during a leader election.
 */
export function minLeaseTtlSeconds(t: LeaseTiming): number {
  if (!Number.isSafeInteger(t.electionTicks) || t.electionTicks < 1)
    throw new RangeError(`electionTicks must be a positive integer, got ${t.electionTicks}`)
  if (!Number.isSafeInteger(t.heartbeatMs) || t.heartbeatMs < 1)
    throw new RangeError(`heartbeatMs must be a positive integer, got ${t.heartbeatMs}`)
  return Math.ceil((Math.floor((3 * t.electionTicks) / 2) * t.heartbeatMs) / 1000)
}
