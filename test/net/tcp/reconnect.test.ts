import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import type { NodeId } from '../../../src/core/ids.js'
import {
  closeAll,
  connectedTo,
  heartbeat,
  peersOf,
  RawPeer,
  startCluster,
  startNode,
  type TestNode,
  waitFor,
} from './harness.js'

const beats = (from: NodeId, to: NodeId, first: number, count: number) =>
  [...Array(count).keys()].map((i) => heartbeat(from, to, first + i))

describe('net/tcp: reconnect and membership', () => {
  const open: TestNode[] = []
  after(() => closeAll(open))

  it('reconnects after the acceptor restarts on the same port; later messages arrive', async () => {
    const [a, b] = (await startCluster(2)) as [TestNode, TestNode]
    open.push(a, b)
    a.transport.send(beats(a.id, b.id, 0, 5))
    await waitFor(() => b.got.length === 5, 'first messages')
    const port = b.address().port
    await b.transport.close()
    await waitFor(() => !connectedTo(a, b.id), 'the dialer to notice')
    // Sent while the acceptor is down: they wait in the dialer's queue.
    a.transport.send(beats(a.id, b.id, 100, 5))
    assert.ok(a.transport.stats().perPeer[String(b.id)]!.queuedBytes > 0)
    const b2 = await startNode({ id: 2, port, peers: new Map([[a.id, a.address()]]) })
    open.push(b2)
    await waitFor(() => connectedTo(a, b2.id) && connectedTo(b2, a.id), 'the reconnect')
    await waitFor(() => b2.got.length === 5, 'the queued messages')
    assert.deepStrictEqual(b2.got, beats(a.id, b.id, 100, 5))
    a.transport.send(beats(a.id, b.id, 200, 3))
    b2.transport.send(beats(b2.id, a.id, 300, 3))
    await waitFor(() => b2.got.length === 8 && a.got.length === 3, 'messages after the reconnect')
    assert.deepStrictEqual(a.got, beats(b2.id, a.id, 300, 3))
    assert.equal(a.transport.stats().perPeer[String(b.id)]!.reconnects, 1)
    assert.ok(a.log.lines.some((l) => l.level === 'info' && /lost the connection with peer 2/.test(l.msg)))
  })

  it('the acceptor takes the restarted dialer’s new connection', async () => {
    const [a, b] = (await startCluster(2)) as [TestNode, TestNode]
    open.push(a, b)
    await waitFor(() => connectedTo(b, a.id), 'first connection')
    await a.transport.close()
    // Once the acceptor has noticed, its messages wait for the dialer to come back.
    await waitFor(() => !connectedTo(b, a.id), 'the acceptor to notice')
    b.transport.send(beats(b.id, a.id, 0, 4))
    const a2 = await startNode({ id: 1, peers: new Map([[b.id, b.address()]]) })
    open.push(a2)
    b.transport.setPeers(new Map([[a.id, a2.address()]]))
    await waitFor(() => a2.got.length === 4, 'messages to the restarted dialer')
    assert.equal(b.transport.stats().perPeer[String(a.id)]!.reconnects, 1)
  })

  it('a newer connection from a peer replaces the older one', async () => {
    const b = await startNode({ id: 2 })
    open.push(b)
    b.transport.setPeers(new Map([[1 as NodeId, { host: '127.0.0.1', port: 1 }]]))
    const stale = await RawPeer.connect(b.address())
    const reply = await stale.handshake(1, 2)
    assert.equal(reply.refusal, undefined)
    await waitFor(() => connectedTo(b, 1 as NodeId), 'the raw connection')
    const a = await startNode({ id: 1, peers: new Map([[b.id, b.address()]]) })
    open.push(a)
    await stale.closed
    b.transport.send(beats(b.id, a.id, 0, 2))
    await waitFor(() => a.got.length === 2, 'messages on the new connection')
  })

  it('setPeers connects to added members, forgets removed ones and follows a moved one', async () => {
    const [a, b] = (await startCluster(2)) as [TestNode, TestNode]
    open.push(a, b)
    const c = await startNode({ id: 3 })
    open.push(c)
    const all = [a, b, c]
    for (const n of all) n.transport.setPeers(peersOf(all, n.id))
    await waitFor(() => connectedTo(a, c.id) && connectedTo(b, c.id), 'the new member')
    a.transport.send(beats(a.id, c.id, 0, 1))
    b.transport.send(beats(b.id, c.id, 0, 1))
    await waitFor(() => c.got.length === 2, 'messages to the new member')

    // a forgets c: its connection goes and its messages for c are dropped as unknown.
    a.transport.setPeers(peersOf([a, b], a.id))
    await waitFor(() => !connectedTo(c, a.id), 'c to see a go')
    a.transport.send(beats(a.id, c.id, 1, 1))
    assert.equal(a.transport.stats().droppedUnknownMsgs, 1)
    assert.equal(a.transport.stats().perPeer[String(c.id)], undefined)

    // b moves: a restarted b listens elsewhere, and a follows once told.
    await b.transport.close()
    const b2 = await startNode({ id: 2, peers: peersOf([a, c], b.id) })
    open.push(b2)
    a.transport.setPeers(new Map([[b.id, b2.address()]]))
    a.transport.send(beats(a.id, b.id, 50, 2))
    await waitFor(() => b2.got.length === 2, 'messages at the new address')
  })
})
