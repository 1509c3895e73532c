import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { BinaryReader, BinaryWriter, CodecError } from '../../../src/core/codec.js'
import type { Index, NodeId, Term } from '../../../src/core/ids.js'
import { RAFT_MESSAGE_TYPES, type RaftMessage } from '../../../src/engines/raft/messages.js'
import {
  decodeRaftMessage,
  decodeRaftMessages,
  encodeRaftMessage,
  encodeRaftMessages,
  raftMessageBytes,
  readRaftMessage,
  writeRaftMessage,
} from '../../../src/engines/raft/wire.js'
import {
  arbMutation,
  arbRaftMessage,
  arbRaftMessageByType,
  decodeOrCodecError,
  mutate,
} from '../arbitraries.js'

describe('raft/wire', () => {
  it('has an arbitrary for every message type', () => {
    assert.deepStrictEqual(Object.keys(arbRaftMessageByType).sort(), [...RAFT_MESSAGE_TYPES].sort())
  })

  for (const [type, arb] of Object.entries(arbRaftMessageByType)) {
    it(`round-trips ${type}, at exactly raftMessageBytes bytes`, () => {
      fc.assert(
        fc.property(arb, (m) => {
          const b = encodeRaftMessage(m)
          assert.equal(b.length, raftMessageBytes(m))
          assert.deepStrictEqual(decodeRaftMessage(b), m)
        }),
        { numRuns: 60 },
      )
    })
  }

  it('rejects every truncation with CodecError', () => {
    fc.assert(
      fc.property(arbRaftMessage, (m) => {
        const b = encodeRaftMessage(m)
        for (let n = 0; n < b.length; n++)
          assert.throws(() => decodeRaftMessage(b.subarray(0, n)), CodecError)
      }),
      { numRuns: 150 },
    )
  })

  it('rejects trailing bytes with CodecError', () => {
    fc.assert(
      fc.property(arbRaftMessage, fc.integer({ min: 0, max: 255 }), (m, extra) => {
        const b = encodeRaftMessage(m)
        assert.throws(() => decodeRaftMessage(Uint8Array.from([...b, extra])), CodecError)
      }),
    )
  })

  it('decodes random bytes only to CodecError or to the message that encodes to them', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 48 }), (b) => {
        const m = decodeOrCodecError(() => decodeRaftMessage(b))
        if (!(m instanceof CodecError)) assert.deepStrictEqual(encodeRaftMessage(m), b)
      }),
      { numRuns: 1000 },
    )
  })

  it('decodes mutated encodings only to CodecError or to the message that encodes to them', () => {
    fc.assert(
      fc.property(arbRaftMessage, arbMutation, (m, mut) => {
        const b = mutate(encodeRaftMessage(m), mut)
        const got = decodeOrCodecError(() => decodeRaftMessage(b))
        if (!(got instanceof CodecError)) assert.deepStrictEqual(encodeRaftMessage(got), b)
      }),
      { numRuns: 500 },
    )
  })

  it('carries a batch of messages in one frame', () => {
    fc.assert(
      fc.property(fc.array(arbRaftMessage, { maxLength: 6 }), (ms) => {
        assert.deepStrictEqual(decodeRaftMessages(encodeRaftMessages(ms)), ms)
        // The streaming pair reads back what was written, message by message.
        const w = new BinaryWriter()
        for (const m of ms) writeRaftMessage(w, m)
        const r = new BinaryReader(w.finish())
        for (const m of ms) assert.deepStrictEqual(readRaftMessage(r), m)
        r.expectEnd('batch')
      }),
      { numRuns: 50 },
    )
  })

  // Reference: Raft §5.3 — AppendEntries carries the entries immediately following prevLogIndex.
  it('refuses a MsgApp whose entries do not follow prevIndex, on both sides', () => {
    const t = 1 as Term
    const app = (indexes: number[]): RaftMessage => ({
      type: 'MsgApp',
      from: 1 as NodeId,
      to: 2 as NodeId,
      term: t,
      prevIndex: 4 as Index,
      prevTerm: t,
      commit: 0 as Index,
      entries: indexes.map((i) => ({ term: t, index: i as Index, type: 'normal', data: new Uint8Array() })),
    })
    assert.throws(() => encodeRaftMessage(app([5, 7])), /entry 1 has index 7, want 6/)
    // Hand-build the same bad message by patching a good one's second index (last byte but one).
    const good = encodeRaftMessage(app([5, 6]))
    const bad = Uint8Array.from(good)
    bad[bad.length - 3] = 7
    assert.throws(() => decodeRaftMessage(bad), { name: 'CodecError', message: /want 6/ })
  })

  it('rejects an unknown type byte and a sender of 0', () => {
    assert.throws(
      () => decodeRaftMessage(Uint8Array.from([RAFT_MESSAGE_TYPES.length, 1, 2, 1])),
      /unknown raft/,
    )
    const timeoutNow = RAFT_MESSAGE_TYPES.indexOf('MsgTimeoutNow')
    assert.throws(() => decodeRaftMessage(Uint8Array.from([timeoutNow, 0, 2, 1])), /sender/)
    assert.deepEqual(decodeRaftMessage(Uint8Array.from([timeoutNow, 1, 2, 3])), {
      type: 'MsgTimeoutNow',
      from: 1,
      to: 2,
      term: 3,
    })
  })
})
