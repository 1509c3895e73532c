import {
  type BinaryReader,
  type BinaryWriter,
  CodecError,
  decodeExactly,
  encodeWith,
} from '../../core/codec.js'
import { readTtl } from './commands.js'
import type { LeaseTable } from './table.js'
import { LEASE_ID_MAX, type Lease } from './types.js'

/** SNAPSHOT_VERSION leads every lease snapshot, so a later format can be told apart. */
const SNAPSHOT_VERSION = 1

interface TableState {
  readonly nextId: number
  readonly leases: readonly Lease[]
}

function writeState(w: BinaryWriter, s: TableState): void {
  w.u8(SNAPSHOT_VERSION).uvarint(s.nextId).uvarint(s.leases.length)
  for (const l of s.leases) w.uvarint(l.id).uvarint(l.grantedTtl).uvarint(l.remainingTtl)
}

/**
 * readState reads and validates a snapshot: ids strictly ascending in [1, LEASE_ID_MAX], TTLs
 * within the maximum, nextId ≥ 1, at most `leasesMax` leases. Anything else is CodecError, so a
 * restored table always satisfies LeaseTable's invariants.
 */
function readState(r: BinaryReader, leasesMax: number): TableState {
  const version = r.u8()
  if (version !== SNAPSHOT_VERSION) throw new CodecError(`lease snapshot: unknown version ${version}`)
  const nextId = r.uvarint()
  if (nextId < 1) throw new CodecError('lease snapshot: nextId 0')
  const n = r.uvarint()
  if (n > leasesMax) throw new CodecError(`lease snapshot: ${n} leases exceed ${leasesMax}`)
  const leases: Lease[] = []
  let prev = 0
  for (let i = 0; i < n; i++) {
    const id = r.uvarint()
    if (id <= prev || id > LEASE_ID_MAX) throw new CodecError(`lease snapshot: lease id ${id} out of order`)
    prev = id
    leases.push({ id, grantedTtl: readTtl(r, 'granted ttl'), remainingTtl: readTtl(r, 'remaining ttl') })
  }
  return { nextId, leases }
}

/** encodeLeaseTable serializes a table's state; equal tables encode to equal bytes. */
export const encodeLeaseTable = (t: LeaseTable): Uint8Array => encodeWith(writeState, t.state())

/** restoreLeaseTable replaces `t`'s contents with the snapshot `b`; garbage throws CodecError, leaving `t` unchanged. */
export function restoreLeaseTable(t: LeaseTable, b: Uint8Array): LeaseTable {
  const s = decodeExactly((r) => readState(r, t.leasesMax), b, 'lease snapshot')
  return t.restore(s.nextId, s.leases)
}
