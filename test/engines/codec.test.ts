import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { BinaryReader, BinaryWriter, CodecError } from '../../src/core/codec.js'
import type { Index, NodeId, Term } from '../../src/core/ids.js'
import {
  decodeEntry,
  decodeMemberChange,
  decodeSnapshot,
  encodeEntry,
  encodeMemberChange,
  encodeSnapshot,
  entryBytes,
  readHardState,
  readMembership,
  snapshotBytes,
  writeHardState,
  writeMembership,
} from '../../src/engines/codec.js'
import type { HardState, Membership } from '../../src/engines/engine.js'
import {
  arbEntry,
  arbHardState,
  arbMemberChange,
  arbMembership,
  arbMutation,
  arbSnapshot,
  decodeOrCodecError,
  mutate,
} from './arbitraries.js'

/** A codec under test: encode, and a decoder that must consume exactly the input. */
interface Codec<T> {
  readonly name: string
  readonly arb: fc.Arbitrary<T>
  encode(v: T): Uint8Array
  decode(b: Uint8Array): T
}

function exact<T>(write: (w: BinaryWriter, v: T) => void, read: (r: BinaryReader) => T, what: string) {
  return {
    encode(v: T): Uint8Array {
      const w = new BinaryWriter()
      write(w, v)
      return w.finish()
    },
    decode(b: Uint8Array): T {
      const r = new BinaryReader(b)
      const v = read(r)
      r.expectEnd(what)
      return v
    },
  }
}

const codecs: Codec<unknown>[] = [
  { name: 'Entry', arb: arbEntry, encode: encodeEntry, decode: decodeEntry },
  { name: 'Snapshot', arb: arbSnapshot, encode: encodeSnapshot, decode: decodeSnapshot },
  { name: 'MemberChange', arb: arbMemberChange, encode: encodeMemberChange, decode: decodeMemberChange },
  { name: 'HardState', arb: arbHardState, ...exact(writeHardState, readHardState, 'hard state') },
  { name: 'Membership', arb: arbMembership, ...exact(writeMembership, readMembership, 'membership') },
] as Codec<unknown>[]

for (const c of codecs) {
  describe(`engines/codec ${c.name}`, () => {
    it('round-trips every value', () => {
      fc.assert(fc.property(c.arb, (v) => assert.deepStrictEqual(c.decode(c.encode(v)), v)))
    })

    it('rejects every truncation of a valid encoding with CodecError', () => {
      fc.assert(
        fc.property(c.arb, (v) => {
          const b = c.encode(v)
          for (let n = 0; n < b.length; n++) assert.throws(() => c.decode(b.subarray(0, n)), CodecError)
        }),
        { numRuns: 50 },
      )
    })

    it('rejects trailing bytes with CodecError', () => {
      fc.assert(
        fc.property(c.arb, fc.uint8Array({ minLength: 1, maxLength: 3 }), (v, extra) => {
          const b = c.encode(v)
          const longer = new Uint8Array(b.length + extra.length)
          longer.set(b)
          longer.set(extra, b.length)
          assert.throws(() => c.decode(longer), CodecError)
        }),
      )
    })

    // A successful decode of garbage must be the one value that encodes to exactly these bytes:
    // that is "never a wrong value" (no lenient parsing, no two encodings of one value).
    it('decodes random bytes only to CodecError or to the value that encodes to them', () => {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 64 }), (b) => {
          const v = decodeOrCodecError(() => c.decode(b))
          if (!(v instanceof CodecError)) assert.deepStrictEqual(c.encode(v), b)
        }),
        { numRuns: 300 },
      )
    })

    it('decodes mutated encodings only to CodecError or to the value that encodes to them', () => {
      fc.assert(
        fc.property(c.arb, arbMutation, (v, m) => {
          const b = mutate(c.encode(v), m)
          const got = decodeOrCodecError(() => c.decode(b))
          if (!(got instanceof CodecError)) assert.deepStrictEqual(c.encode(got), b)
        }),
        { numRuns: 300 },
      )
    })
  })
}

describe('engines/codec sizes', () => {
  it('entryBytes and snapshotBytes are the exact encoded sizes', () => {
    fc.assert(fc.property(arbEntry, (e) => assert.equal(entryBytes(e), encodeEntry(e).length)))
    fc.assert(fc.property(arbSnapshot, (s) => assert.equal(snapshotBytes(s), encodeSnapshot(s).length)))
  })
})

describe('engines/codec validation', () => {
  const t = (n: number) => n as Term
  const i = (n: number) => n as Index
  const id = (n: number) => n as NodeId
  const bytes = (...b: number[]) => Uint8Array.from(b)

  it('rejects an unknown entry type', () => {
    // term 1, index 1, type 2 (only 0 normal and 1 config exist), empty data
    assert.throws(() => decodeEntry(bytes(1, 1, 2, 0)), {
      name: 'CodecError',
      message: /unknown entry type 2/,
    })
  })

  it('rejects node id 0 in a membership but accepts it as a vote (NO_NODE)', () => {
    assert.throws(() => decodeSnapshot(bytes(1, 1, 1, 0, 0, 0, 0, 0, 0)), {
      name: 'CodecError',
      message: /node id/,
    })
    const h: HardState = { term: t(3), vote: id(0), commit: i(2) }
    assert.deepStrictEqual(exact(writeHardState, readHardState, 'hs').decode(bytes(3, 0, 2)), h)
  })

  it('rejects a duplicate member', () => {
    const m: Membership = {
      voters: [id(1), id(1)],
      votersOutgoing: [],
      learners: [],
      learnersNext: [],
      autoLeave: false,
    }
    const b = exact(writeMembership, readMembership, 'membership').encode(m)
    assert.throws(() => exact(writeMembership, readMembership, 'm').decode(b), /duplicate node 1/)
  })

  it('rejects unknown member change ops and transitions, and bad flags', () => {
    assert.throws(() => decodeMemberChange(bytes(1, 3, 1, 0, 0)), /unknown member change op 3/)
    assert.throws(() => decodeMemberChange(bytes(0, 4, 0)), /unknown member change transition 4/)
    assert.throws(() => decodeMemberChange(bytes(0, 0, 2)), /bad boolean/)
    assert.throws(() => decodeMemberChange(bytes(1, 0, 0, 0, 0)), /member change node/)
  })

  it('keeps absent optional fields absent and present ones present', () => {
    assert.deepStrictEqual(decodeMemberChange(encodeMemberChange({ changes: [] })), { changes: [] })
    const full = {
      changes: [{ op: 'remove' as const, node: id(7) }],
      transition: 'auto' as const,
      context: bytes(),
    }
    assert.deepStrictEqual(decodeMemberChange(encodeMemberChange(full)), full)
  })

  it('rejects a forged element count before looping over it', () => {
    // 2^53 - 1 changes claimed in a 9-byte buffer.
    const w = new BinaryWriter().uvarint(Number.MAX_SAFE_INTEGER)
    assert.throws(() => decodeMemberChange(w.finish()), /exceeds/)
  })

  it('rejects a term beyond the safe integers', () => {
    // Eight varint groups of 0x7f: 2^56 - 1.
    assert.throws(
      () => decodeEntry(bytes(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 1, 0, 0)),
      CodecError,
    )
  })
})
