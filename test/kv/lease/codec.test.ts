import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { BinaryWriter, CodecError } from '../../../src/core/codec.js'
import {
  CHECKPOINTS_MAX,
  decodeLeaseCommand,
  encodeLeaseCommand,
  type LeaseCommand,
} from '../../../src/kv/lease/commands.js'
import { encodeLeaseTable, restoreLeaseTable } from '../../../src/kv/lease/snapshot.js'
import { LeaseTable } from '../../../src/kv/lease/table.js'
import { LEASE_ID_MAX, MAX_LEASE_TTL_SECONDS } from '../../../src/kv/lease/types.js'

const noNull = { noNullPrototype: true } as const
const id = fc.oneof(fc.nat(1000), fc.constant(LEASE_ID_MAX))
const ttl = fc.oneof(fc.nat(100), fc.constant(MAX_LEASE_TTL_SECONDS))
const arbCommand: fc.Arbitrary<LeaseCommand> = fc.oneof(
  fc.record({ type: fc.constant('grant' as const), id, ttl }, noNull),
  fc.record({ type: fc.constant('revoke' as const), id }, noNull),
  fc.record(
    {
      type: fc.constant('checkpoint' as const),
      checkpoints: fc.array(fc.record({ id, remainingTtl: ttl }, noNull), { maxLength: 5 }),
    },
    noNull,
  ),
)
const newTable = () => new LeaseTable({ electionTicks: 10, heartbeatMs: 100 })
const bytes = (...b: number[]) => Uint8Array.from(b)

describe('lease command codec', () => {
  it('round trips every command', () => {
    fc.assert(
      fc.property(arbCommand, (c) => {
        assert.deepEqual(decodeLeaseCommand(encodeLeaseCommand(c)), c)
      }),
    )
  })
  it('garbage either throws CodecError or decodes to a command that re-encodes to the same bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 24 }), (b) => {
        let c: LeaseCommand
        try {
          c = decodeLeaseCommand(b)
        } catch (e) {
          assert.ok(e instanceof CodecError, `not a CodecError: ${e}`)
          return
        }
        assert.deepEqual(encodeLeaseCommand(c), b)
      }),
      { numRuns: 2000 },
    )
  })
  const bad: [string, Uint8Array][] = [
    ['empty', bytes()],
    ['unknown tag', bytes(3, 1)],
    ['truncated grant', bytes(0, 1)],
    ['trailing bytes', bytes(1, 5, 0)],
    ['non-canonical varint', bytes(1, 0x85, 0x00)],
    [
      'checkpoint remaining ttl above the maximum',
      new BinaryWriter()
        .u8(2)
        .uvarint(1)
        .uvarint(1)
        .uvarint(MAX_LEASE_TTL_SECONDS + 1)
        .finish(),
    ],
    [
      'too many checkpoints',
      new BinaryWriter()
        .u8(2)
        .uvarint(CHECKPOINTS_MAX + 1)
        .finish(),
    ],
    ['id above 2^53', bytes(1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f)],
  ]
  for (const [name, b] of bad)
    it(`rejects ${name}`, () => assert.throws(() => decodeLeaseCommand(b), CodecError))
})

describe('lease table snapshot', () => {
  it('round trips a table built by random grants, revokes and checkpoints', () => {
    fc.assert(
      fc.property(fc.array(arbCommand, { minLength: 5, maxLength: 30, size: 'max' }), (cmds) => {
        const t = newTable()
        for (const c of cmds) {
          if (c.type === 'grant') t.grant(c.id, c.ttl)
          else if (c.type === 'revoke') t.revoke(c.id)
          else for (const cp of c.checkpoints) t.checkpoint(cp.id, cp.remainingTtl)
        }
        const b = encodeLeaseTable(t)
        const u = restoreLeaseTable(newTable(), b)
        assert.deepEqual(u.state(), t.state())
        assert.deepEqual(encodeLeaseTable(u), b)
        // The restored table goes on picking the same ids.
        assert.deepEqual(u.grant(0, 5), t.grant(0, 5))
      }),
    )
  })
  const lease = (w: BinaryWriter, i: number, g = 5, r = 0) => w.uvarint(i).uvarint(g).uvarint(r)
  const bad: [string, Uint8Array][] = [
    ['empty', bytes()],
    ['unknown version', bytes(2, 1, 0)],
    ['nextId 0', bytes(1, 0, 0)],
    ['lease id 0', lease(new BinaryWriter().u8(1).uvarint(1).uvarint(1), 0).finish()],
    ['ids out of order', lease(lease(new BinaryWriter().u8(1).uvarint(1).uvarint(2), 5), 3).finish()],
    ['duplicate ids', lease(lease(new BinaryWriter().u8(1).uvarint(1).uvarint(2), 5), 5).finish()],
    [
      'ttl above the maximum',
      lease(new BinaryWriter().u8(1).uvarint(1).uvarint(1), 1, MAX_LEASE_TTL_SECONDS + 1).finish(),
    ],
    ['truncated lease', bytes(1, 1, 1, 4)],
    ['trailing bytes', bytes(1, 1, 0, 0)],
  ]
  for (const [name, b] of bad)
    it(`rejects ${name} and leaves the table unchanged`, () => {
      const t = newTable()
      t.grant(9, 9)
      const before = encodeLeaseTable(t)
      assert.throws(() => restoreLeaseTable(t, b), CodecError)
      assert.deepEqual(encodeLeaseTable(t), before)
    })
  it('rejects more leases than leasesMax', () => {
    const t = new LeaseTable({ electionTicks: 10, heartbeatMs: 100, leasesMax: 1 })
    const b = lease(lease(new BinaryWriter().u8(1).uvarint(1).uvarint(2), 1), 2).finish()
    assert.throws(() => restoreLeaseTable(t, b), CodecError)
  })
})
