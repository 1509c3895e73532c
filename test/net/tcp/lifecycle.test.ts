import assert from 'node:assert/strict'
import { createServer } from 'node:net'
import { describe, it } from 'node:test'
import { nodeId } from '../../../src/core/ids.js'
import { silentLogger } from '../../../src/core/logger.js'
import type { RaftMessage } from '../../../src/engines/raft/messages.js'
import { TcpTransport, type TcpTransportConfig } from '../../../src/net/tcp/index.js'
import { CLUSTER, heartbeat, LOCAL, raftCodec } from './harness.js'

const config = (over: Partial<TcpTransportConfig<RaftMessage>> = {}): TcpTransportConfig<RaftMessage> => ({
  clusterId: CLUSTER,
  selfId: nodeId(1),
  listen: { host: LOCAL, port: 0 },
  peers: new Map([[nodeId(2), { host: LOCAL, port: 1 }]]),
  codec: raftCodec,
  onMessage: () => {},
  log: silentLogger,
  ...over,
})

/** portIsFree says whether something can listen on the port now. */
async function portIsFree(port: number): Promise<boolean> {
  const probe = createServer()
  return new Promise((resolve) => {
    probe.once('error', () => resolve(false))
    probe.listen(port, LOCAL, () => probe.close(() => resolve(true)))
  })
}

/** freePort finds a port nothing listens on (for a moment: good enough on a test machine). */
async function freePort(): Promise<number> {
  const probe = createServer()
  await new Promise<void>((r) => probe.listen(0, LOCAL, r))
  const { port } = probe.address() as { port: number }
  await new Promise((r) => probe.close(r))
  return port
}

describe('net/tcp: lifecycle', () => {
  it('validates its config', () => {
    assert.throws(() => new TcpTransport(config({ clusterId: 'xyz' })), /16 hex digits/)
    assert.throws(() => new TcpTransport(config({ options: { frameBytesMax: 10 } })), /frameBytesMax/)
    assert.throws(
      () => new TcpTransport(config({ options: { dialBackoffMinMs: 100, dialBackoffMaxMs: 10 } })),
      /dialBackoffMaxMs/,
    )
    assert.throws(() => new TcpTransport(config({ peers: new Map([[nodeId(2), { host: LOCAL, port: 0 }]]) })))
  })

  it('listens only where told, and close is idempotent and frees the port', async () => {
    const t = new TcpTransport(config())
    await t.start()
    const { host, port } = t.address()
    assert.equal(host, LOCAL)
    assert.notEqual(port, 0)
    assert.equal(await portIsFree(port), false)
    await Promise.all([t.close(), t.close()])
    await t.close()
    assert.equal(await portIsFree(port), true)
    // After close, sending is harmless: dropped and counted.
    t.send([heartbeat(nodeId(1), nodeId(2), 1)])
    assert.equal(t.stats().perPeer['2']!.droppedMsgs, 1)
  })

  it('closes cleanly before start and while start is still binding', async () => {
    await new TcpTransport(config()).close()
    const port = await freePort()
    const t = new TcpTransport(config({ listen: { host: LOCAL, port } }))
    const started = t.start()
    const closed = t.close()
    await started
    await closed
    assert.equal(await portIsFree(port), true)
  })

  it('rejects start when the port is taken, and still closes', async () => {
    const first = new TcpTransport(config())
    await first.start()
    try {
      const second = new TcpTransport(config({ listen: first.address() }))
      await assert.rejects(second.start(), /EADDRINUSE/)
      await second.close()
    } finally {
      await first.close()
    }
  })
})
