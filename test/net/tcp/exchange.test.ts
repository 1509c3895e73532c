import assert from 'node:assert/strict'
import { createServer } from 'node:net'
import { after, describe, it } from 'node:test'
import type { NodeId } from '../../../src/core/ids.js'
import type { RaftMessage } from '../../../src/engines/raft/messages.js'
import {
  append,
  closeAll,
  connectedTo,
  heartbeat,
  LOCAL,
  startCluster,
  startNode,
  type TestNode,
  waitFor,
} from './harness.js'

/** burst is `count` messages from `from` to `to`: heartbeats and appends, alternating. */
function burst(from: NodeId, to: NodeId, count: number, dataBytes = 16): RaftMessage[] {
  return [...Array(count).keys()].map((i) =>
    i % 2 === 0 ? heartbeat(from, to, i) : append(from, to, i + 1, dataBytes),
  )
}

const fromTo = (node: TestNode, from: NodeId) => node.got.filter((m) => m.from === from)

describe('net/tcp: exchange', () => {
  const open: TestNode[] = []
  after(() => closeAll(open))

  it('two members exchange raft messages both ways, in order, batched into fewer frames', async () => {
    const [n1, n2] = await startCluster(2)
    open.push(n1!, n2!)
    const a = n1!
    const b = n2!
    // Sent before the connection is up: they wait in the queue.
    const ab = burst(a.id, b.id, 200)
    const ba = burst(b.id, a.id, 150)
    a.transport.send(ab)
    b.transport.send(ba)
    await waitFor(() => b.got.length === ab.length && a.got.length === ba.length, 'both bursts')
    assert.deepStrictEqual(b.got, ab)
    assert.deepStrictEqual(a.got, ba)
    for (const [node, peer, count] of [
      [a, b.id, ab.length],
      [b, a.id, ba.length],
    ] as const) {
      const s = node.transport.stats().perPeer[String(peer)]!
      assert.equal(s.connected, true)
      assert.equal(s.sentMsgs, count)
      assert.equal(s.droppedMsgs, 0)
      assert.equal(s.queuedBytes, 0)
      assert.ok(s.sentFrames >= 1 && s.sentFrames < s.sentMsgs / 10, `${s.sentFrames} frames for ${count}`)
    }
  })

  it('three members exchange messages over one connection per pair', async () => {
    const nodes = await startCluster(3)
    open.push(...nodes)
    await waitFor(() => nodes.every((n) => nodes.every((p) => p === n || connectedTo(n, p.id))), 'full mesh')
    const sent = new Map<string, RaftMessage[]>()
    for (const from of nodes) {
      for (const to of nodes) {
        if (from === to) continue
        const ms = burst(from.id, to.id, 40)
        sent.set(`${from.id}->${to.id}`, ms)
        from.transport.send(ms)
      }
    }
    await waitFor(() => nodes.every((n) => n.got.length === 80), 'every burst')
    for (const to of nodes)
      for (const from of nodes)
        if (from !== to) assert.deepStrictEqual(fromTo(to, from.id), sent.get(`${from.id}->${to.id}`))
    for (const n of nodes) {
      for (const s of Object.values(n.transport.stats().perPeer)) assert.equal(s.reconnects, 0)
    }
  })

  it('the member with the larger id never dials: its messages ride the smaller one’s connection', async () => {
    // n2 is told that n1 lives at a spy listener; n2 must never connect there.
    let spyConnections = 0
    const spy = createServer((s) => {
      spyConnections++
      s.destroy()
    })
    await new Promise<void>((r) => spy.listen(0, LOCAL, r))
    try {
      const n2 = await startNode({ id: 2 })
      open.push(n2)
      const spyPort = (spy.address() as { port: number }).port
      n2.transport.setPeers(new Map([[1 as NodeId, { host: LOCAL, port: spyPort }]]))
      const n1 = await startNode({ id: 1, peers: new Map([[n2.id, n2.address()]]) })
      open.push(n1)
      const ms = burst(n2.id, n1.id, 20)
      n2.transport.send(ms)
      await waitFor(() => n1.got.length === ms.length, 'n2 -> n1 messages')
      assert.deepStrictEqual(n1.got, ms)
      assert.equal(spyConnections, 0)
    } finally {
      await new Promise((r) => spy.close(r))
    }
  })

  it('splits a batch larger than frameBytesMax into several frames', async () => {
    const frameBytesMax = 4096
    const [a, b] = await startCluster(2, { frameBytesMax })
    open.push(a!, b!)
    const ms = [...Array(100).keys()].map((i) => append(a!.id, b!.id, i + 1, 300))
    a!.transport.send(ms)
    await waitFor(() => b!.got.length === ms.length, 'the large burst')
    assert.deepStrictEqual(b!.got, ms)
    const s = a!.transport.stats().perPeer[String(b!.id)]!
    // 100 messages of ~310 bytes need at least 8 frames of 4 KiB, and batching keeps it near that.
    assert.ok(s.sentFrames >= 8 && s.sentFrames <= 20, `${s.sentFrames} frames`)
  })

  it('drops and counts messages for unknown destinations and messages larger than a frame', async () => {
    const [a, b] = await startCluster(2, { frameBytesMax: 2048 })
    open.push(a!, b!)
    a!.transport.send([
      heartbeat(a!.id, 9 as NodeId, 1),
      append(a!.id, b!.id, 1, 4000),
      heartbeat(a!.id, b!.id, 2),
    ])
    await waitFor(() => b!.got.length === 1, 'the one deliverable message')
    const stats = a!.transport.stats()
    assert.equal(stats.droppedUnknownMsgs, 1)
    assert.equal(stats.perPeer[String(b!.id)]!.droppedMsgs, 1)
    assert.ok(a!.log.lines.some((l) => l.level === 'warn' && /does not fit in a frame/.test(l.msg)))
    assert.notEqual(a!.address().port, 0, 'address() reports the bound port')
  })
})
