import { assertNever } from '../../core/assert.js'
import {
  type BinaryReader,
  type BinaryWriter,
  CodecError,
  decodeExactly,
  encodeWith,
} from '../../core/codec.js'
import type { LeaseTable } from './table.js'
import { isLeaseError, type Lease, type LeaseError, MAX_LEASE_TTL_SECONDS } from './types.js'

/** LeaseCheckpoint is one lease's remaining TTL in seconds (etcd's pb.LeaseCheckpoint). */
export interface LeaseCheckpoint {
  readonly id: number
  readonly remainingTtl: number
}

/**
 * LeaseCommand is what the log carries for leases, in the style of mvcc/commands.ts:
 * grant (id NO_LEASE: the table picks), revoke (a client's LeaseRevoke or a leader's expiry,
 * indistinguishable once proposed), checkpoint (etcd's LeaseCheckpointRequest, a batch).
 * Garbage throws CodecError.
 */
export type LeaseCommand =
  | { readonly type: 'grant'; readonly id: number; readonly ttl: number }
  | { readonly type: 'revoke'; readonly id: number }
  | { readonly type: 'checkpoint'; readonly checkpoints: readonly LeaseCheckpoint[] }

/** CHECKPOINTS_MAX bounds a checkpoint batch (etcd's maxLeaseCheckpointBatchSize). */
export const CHECKPOINTS_MAX = 1000

const COMMAND_TAGS = ['grant', 'revoke', 'checkpoint'] as const

/** readTtl reads a TTL in seconds, which may not exceed MAX_LEASE_TTL_SECONDS. */
export function readTtl(r: BinaryReader, what: string): number {
  const ttl = r.uvarint()
  if (ttl > MAX_LEASE_TTL_SECONDS)
    throw new CodecError(`lease: ${what} ${ttl} exceeds ${MAX_LEASE_TTL_SECONDS}`)
  return ttl
}

function writeCommand(w: BinaryWriter, c: LeaseCommand): void {
  w.u8(COMMAND_TAGS.indexOf(c.type))
  switch (c.type) {
    case 'grant':
      w.uvarint(c.id).uvarint(c.ttl)
      return
    case 'revoke':
      w.uvarint(c.id)
      return
    case 'checkpoint':
      w.uvarint(c.checkpoints.length)
      for (const cp of c.checkpoints) w.uvarint(cp.id).uvarint(cp.remainingTtl)
      return
    default:
      assertNever(c, 'lease command')
  }
}

function readCommand(r: BinaryReader): LeaseCommand {
  const t = r.u8()
  const type = COMMAND_TAGS[t]
  if (type === undefined) throw new CodecError(`lease: unknown command ${t}`)
  if (type === 'grant') return { type, id: r.uvarint(), ttl: r.uvarint() }
  if (type === 'revoke') return { type, id: r.uvarint() }
  const n = r.uvarint()
  if (n > CHECKPOINTS_MAX) throw new CodecError(`lease: ${n} checkpoints exceed ${CHECKPOINTS_MAX}`)
  const checkpoints: LeaseCheckpoint[] = []
  for (let i = 0; i < n; i++) checkpoints.push({ id: r.uvarint(), remainingTtl: readTtl(r, 'remaining ttl') })
  return { type, checkpoints }
}

export const encodeLeaseCommand = (c: LeaseCommand): Uint8Array => encodeWith(writeCommand, c)
export const decodeLeaseCommand = (b: Uint8Array): LeaseCommand =>
  decodeExactly(readCommand, b, 'lease command')

/**
 * applyLeaseCommand applies one decoded command to the table and returns what it did: the
 * granted or revoked lease, the checkpointed leases (unknown ids skipped, as etcd does), or the
 * refusal. A grant's ttl above the maximum is refused by the table, not the decoder, so the
 * client sees etcd's error. The host deletes a revoked lease's keys and tells the LeaseClock.
 */
export function applyLeaseCommand(t: LeaseTable, c: LeaseCommand): Lease | readonly Lease[] | LeaseError {
  switch (c.type) {
    case 'grant':
      return t.grant(c.id, c.ttl)
    case 'revoke':
      return t.revoke(c.id)
    case 'checkpoint': {
      const done: Lease[] = []
      for (const cp of c.checkpoints) {
        const l = t.checkpoint(cp.id, cp.remainingTtl)
        if (!isLeaseError(l)) done.push(l)
      }
      return done
    }
    default:
      return assertNever(c, 'lease command')
  }
}
