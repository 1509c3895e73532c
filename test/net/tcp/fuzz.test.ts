import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import fc from 'fast-check'
import { nodeId } from '../../../src/core/ids.js'
import { encodeRaftMessages } from '../../../src/engines/raft/wire.js'
import { encodeFrame } from '../../../src/net/tcp/frame.js'
import {
  closeAll,
  closesWithin,
  connectedTo,
  heartbeat,
  LOCAL,
  RawPeer,
  startNode,
  type TestNode,
  waitFor,
} from './harness.js'

/**
 * Hostile input at the listener: random bytes as a connection's first bytes, random frames and
 * bytes after a valid handshake, an oversized length, a truncated frame, messages with the wrong
 * endpoints. Each must close only its own connection (logged and counted) while a legitimate
 * peer's connection carries on, and nothing may escape as an uncaught exception.
 *
 * The node under test is member 3: member 1 is a real transport, member 2 is played by raw sockets.
 */

const SEED = 20_240_611
const RUNS = 100
const FRAME_BYTES_MAX = 64 * 1024
const n1 = nodeId(1)
const n2 = nodeId(2)

describe('net/tcp: fuzz', () => {
  let target: TestNode
  let legit: TestNode
  const uncaught: unknown[] = []
  const onUncaught = (e: unknown) => uncaught.push(e)

  before(async () => {
    process.on('uncaughtException', onUncaught)
    target = await startNode({ id: 3, options: { frameBytesMax: FRAME_BYTES_MAX, handshakeTimeoutMs: 300 } })
    legit = await startNode({ id: 1, peers: new Map([[target.id, target.address()]]) })
    target.transport.setPeers(
      new Map([
        [n1, legit.address()],
        [n2, { host: LOCAL, port: 1 }],
      ]),
    )
    await waitFor(() => connectedTo(target, n1), 'the legitimate peer')
  })

  after(async () => {
    if (process.env.SYNOD_TCP_FUZZ_LOG) for (const l of target.log.lines) console.log(l.level, l.msg)
    await closeAll([target, legit])
    process.off('uncaughtException', onUncaught)
  })

  /** poke opens a raw connection (handshaken as member 2 if asked), writes, half-closes, and waits. */
  async function poke(bytes: Uint8Array, handshake: boolean): Promise<void> {
    const raw = await RawPeer.connect(target.address())
    try {
      if (handshake) assert.equal((await raw.handshake(2, 3)).refusal, undefined)
      raw.write(bytes)
      raw.end()
      assert.equal(await closesWithin(raw, 2_000), true, 'the target closes the connection')
    } finally {
      raw.destroy()
    }
  }

  const bytes = fc.uint8Array({ minLength: 1, maxLength: 300 })

  it('survives random bytes and random frames as the first bytes of a connection', async () => {
    await fc.assert(
      fc.asyncProperty(bytes, fc.boolean(), (b, framed) => poke(framed ? encodeFrame([b]) : b, false)),
      { seed: SEED, numRuns: RUNS },
    )
  })

  it('survives random bytes and random frames after a valid handshake', async () => {
    await fc.assert(
      fc.asyncProperty(bytes, fc.boolean(), (b, framed) => poke(framed ? encodeFrame([b]) : b, true)),
      { seed: SEED + 1, numRuns: RUNS },
    )
  })

  it('closes a connection whose frame is larger than frameBytesMax without waiting for it', async () => {
    const before = target.transport.stats().badFrames
    const raw = await RawPeer.connect(target.address())
    assert.equal((await raw.handshake(2, 3)).refusal, undefined)
    const header = Buffer.alloc(4)
    header.writeUInt32LE(FRAME_BYTES_MAX + 1)
    raw.write(header)
    assert.equal(await closesWithin(raw, 2_000), true)
    assert.equal(target.transport.stats().badFrames, before + 1)
    assert.ok(target.log.lines.some((l) => l.level === 'warn' && /exceeds the limit/.test(l.msg)))
  })

  it('logs a frame truncated by the peer closing', async () => {
    const raw = await RawPeer.connect(target.address())
    assert.equal((await raw.handshake(2, 3)).refusal, undefined)
    raw.write(encodeFrame([encodeRaftMessages([heartbeat(n2, target.id, 1)])]).subarray(0, 7))
    raw.end()
    await raw.closed
    await waitFor(
      () => target.log.lines.some((l) => l.level === 'warn' && /truncated frame/.test(l.msg)),
      'the truncation warning',
    )
  })

  it('closes a connection that carries messages with the wrong endpoints', async () => {
    for (const m of [heartbeat(n2, nodeId(7), 1), heartbeat(n1, target.id, 1)]) {
      const raw = await RawPeer.connect(target.address())
      assert.equal((await raw.handshake(2, 3)).refusal, undefined)
      raw.write(encodeFrame([encodeRaftMessages([m])]))
      assert.equal(await closesWithin(raw, 2_000), true)
    }
    assert.ok(target.log.lines.some((l) => /message from 2 to 7 on the connection of peer 2/.test(l.msg)))
    assert.ok(target.log.lines.some((l) => /message from 1 to 3 on the connection of peer 2/.test(l.msg)))
    assert.ok(!target.got.some((m) => m.to !== target.id))
  })

  it('still serves the legitimate peer, and nothing escaped', async () => {
    assert.equal(target.transport.stats().perPeer['1']!.reconnects, 0)
    legit.transport.send([heartbeat(n1, target.id, 42)])
    target.transport.send([heartbeat(target.id, n1, 43)])
    await waitFor(() => legit.got.length === 1 && target.got.some((m) => m.from === n1), 'the exchange')
    assert.deepStrictEqual(uncaught, [])
    assert.ok(target.transport.stats().badFrames >= RUNS, `${target.transport.stats().badFrames} bad frames`)
  })
})
