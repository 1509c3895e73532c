import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { CodecError } from '../../../src/core/codec.js'
import { type NodeId, nodeId, type Term } from '../../../src/core/ids.js'
import { readRaftMessage, writeRaftMessage } from '../../../src/engines/raft/wire.js'
import { COUNT_BYTES_MAX, decodeBatch, encodeMessage, OutboundQueue } from '../../../src/net/tcp/batch.js'
import { encodeFrame, FrameDecoder, FrameError } from '../../../src/net/tcp/frame.js'
import {
  decodeHello,
  decodeReply,
  describeRefusal,
  encodeHello,
  encodeReply,
  type Hello,
  judgeHello,
  PROTOCOL_VERSION,
} from '../../../src/net/tcp/handshake.js'
import { arbRaftMessage } from '../../engines/arbitraries.js'

/** The transport's byte formats on their own: frames, batches and the handshake. */

const SEED = 7_411
const CLUSTER = '5e1ec7ed0000c0de'
const OTHER_CLUSTER = 'baadf00d00000001'

/** cut splits `b` at the given fractions of its length. */
function cut(b: Buffer, fractions: readonly number[]): Buffer[] {
  const points = [...new Set(fractions.map((f) => Math.floor(f * b.length)))].sort((x, y) => x - y)
  const out: Buffer[] = []
  let at = 0
  for (const p of [...points, b.length]) {
    out.push(b.subarray(at, p))
    at = p
  }
  return out
}

describe('net/tcp: frames', () => {
  it('decodes frames however the stream is cut into chunks', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 200 }), { maxLength: 8 }),
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 12 }),
        (payloads, fractions) => {
          const stream = Buffer.concat(payloads.map((p) => encodeFrame([p])))
          const decoder = new FrameDecoder(() => 200)
          const got: Uint8Array[] = []
          for (const chunk of cut(stream, fractions))
            decoder.push(chunk, (p) => {
              got.push(Uint8Array.from(p))
              return true
            })
          assert.deepStrictEqual(got, payloads)
          assert.equal(decoder.bufferedBytes, 0)
        },
      ),
      { seed: SEED },
    )
  })

  it('rejects an oversized length as soon as the header is in', () => {
    const header = Buffer.alloc(4)
    header.writeUInt32LE(1025)
    const decoder = new FrameDecoder(() => 1024)
    assert.throws(() => decoder.push(header, () => true), FrameError)
  })

  it('stops handing out frames once the consumer says so', () => {
    const decoder = new FrameDecoder(() => 100)
    let n = 0
    decoder.push(Buffer.concat([encodeFrame([Uint8Array.of(1)]), encodeFrame([Uint8Array.of(2)])]), () => {
      n++
      return false
    })
    assert.equal(n, 1)
  })
})

describe('net/tcp: batches', () => {
  it('a batch decodes to the messages queued, in order', () => {
    fc.assert(
      fc.property(fc.array(arbRaftMessage, { maxLength: 10 }), (ms) => {
        const q = new OutboundQueue(1 << 30)
        for (const m of ms) assert.ok(q.tryPush(encodeMessage(writeRaftMessage, m)))
        const { parts, count } = q.takeBatch(1 << 30)
        assert.equal(count, ms.length)
        assert.equal(q.bytes, 0)
        assert.deepStrictEqual(decodeBatch(readRaftMessage, new Uint8Array(Buffer.concat(parts))), ms)
      }),
      { seed: SEED },
    )
  })

  it('holds at most queueBytesMax, and every batch fits in a frame', () => {
    const m = encodeMessage(writeRaftMessage, {
      type: 'MsgHeartbeatResp',
      from: nodeId(1),
      to: nodeId(2),
      term: 1 as Term,
      readSeq: 1,
    })
    const q = new OutboundQueue(10 * m.length)
    let pushed = 0
    while (q.tryPush(m)) pushed++
    assert.equal(pushed, 10)
    assert.equal(q.bytes, 10 * m.length)
    const frameBytesMax = COUNT_BYTES_MAX + 3 * m.length
    const sizes: number[] = []
    while (q.length > 0) {
      const { parts, count } = q.takeBatch(frameBytesMax)
      assert.ok(parts.reduce((n, p) => n + p.length, 0) <= frameBytesMax)
      sizes.push(count)
    }
    assert.deepStrictEqual(sizes, [3, 3, 3, 1])
  })

  it('rejects trailing bytes and forged counts', () => {
    // An empty batch is well-formed (count 0); a count beyond the bytes left is not.
    assert.deepStrictEqual(decodeBatch(readRaftMessage, Uint8Array.of(0)), [])
    assert.throws(() => decodeBatch(readRaftMessage, Buffer.from([0, 0])), CodecError)
    assert.throws(() => decodeBatch(readRaftMessage, Buffer.from([100, 1, 2])), CodecError)
  })
})

describe('net/tcp: handshake', () => {
  const cid = Buffer.from(CLUSTER, 'hex')

  it('round-trips a Hello and a Reply', () => {
    const hello = decodeHello(encodeHello(cid, nodeId(1), nodeId(2)))
    assert.deepStrictEqual(hello, { version: PROTOCOL_VERSION, clusterId: CLUSTER, from: 1, to: 2 })
    const reply = decodeReply(encodeReply(cid, nodeId(2), 'cluster', 'why'))
    assert.deepStrictEqual(reply, {
      version: PROTOCOL_VERSION,
      clusterId: CLUSTER,
      from: 2,
      refusal: 'cluster',
      detail: 'why',
    })
    assert.equal(decodeReply(encodeReply(cid, nodeId(2), undefined, '')).refusal, undefined)
  })

  it('rejects what is not a Hello', () => {
    const hello = encodeHello(cid, nodeId(1), nodeId(2))
    assert.throws(() => decodeHello(Buffer.from('GET / HTTP/1.1\r\n')), /bad magic/)
    assert.throws(() => decodeHello(hello.subarray(0, hello.length - 1)), CodecError)
    assert.throws(() => decodeHello(Buffer.concat([hello, Buffer.of(0)])), CodecError)
    assert.throws(() => decodeHello(encodeReply(cid, nodeId(2), undefined, '')), /kind/)
  })

  it('judges a Hello as the acceptor must', () => {
    const self = { clusterId: CLUSTER, selfId: nodeId(5), isPeer: (id: NodeId) => id === 3 || id === 7 }
    const h = (over: Partial<Hello>): Hello => ({
      version: PROTOCOL_VERSION,
      clusterId: CLUSTER,
      from: nodeId(3),
      to: nodeId(5),
      ...over,
    })
    const table: [Partial<Hello>, string | undefined][] = [
      [{}, undefined],
      [{ version: 2 }, 'version'],
      [{ clusterId: OTHER_CLUSTER }, 'cluster'],
      [{ to: nodeId(6) }, 'wrong-member'],
      [{ from: nodeId(4) }, 'unknown-member'],
      [{ from: nodeId(7) }, 'wrong-direction'],
    ]
    for (const [over, want] of table)
      assert.equal(judgeHello(h(over), self)?.refusal, want, JSON.stringify(over))
  })

  it('tells a refusal from the dialer’s side', () => {
    const reply = decodeReply(encodeReply(Buffer.from(OTHER_CLUSTER, 'hex'), nodeId(2), 'cluster', ''))
    assert.equal(
      describeRefusal(reply, { clusterId: CLUSTER, selfId: nodeId(1) }),
      `cluster id mismatch (ours ${CLUSTER}, theirs ${OTHER_CLUSTER})`,
    )
  })
})
