import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { nodeId } from '../../../src/core/ids.js'
import { encodeRaftMessage } from '../../../src/engines/raft/wire.js'
import {
  append,
  closeAll,
  connectedTo,
  RawPeer,
  sleep,
  startNode,
  type TestNode,
  waitFor,
} from './harness.js'

describe('net/tcp: backpressure', () => {
  const open: TestNode[] = []
  const raws: RawPeer[] = []
  after(async () => {
    for (const r of raws) r.destroy()
    await closeAll(open)
  })

  it('bounds the queue for a peer that stops reading, counts the drops, and recovers when it reads', async () => {
    const queueBytesMax = 256 * 1024
    const frameBytesMax = 64 * 1024
    const n1 = nodeId(1)
    const b = await startNode({ id: 2, options: { queueBytesMax, frameBytesMax } })
    open.push(b)
    b.transport.setPeers(new Map([[n1, { host: '127.0.0.1', port: 1 }]]))
    const reader = await RawPeer.connect(b.address())
    raws.push(reader)
    assert.equal((await reader.handshake(1, 2)).refusal, undefined)
    await waitFor(() => connectedTo(b, n1), 'the raw peer’s connection')
    reader.socket.pause() // from now on the kernel buffers fill, then the socket, then our queue

    // Every message has the same size, so bytes account for messages exactly.
    const msg = append(b.id, n1, 1, 1000)
    const batch = Array(256).fill(msg)
    let sentTotal = 0
    let rounds = 0
    let stalledRounds = 0
    let lastSent = -1
    const peerStats = () => b.transport.stats().perPeer['1']!
    // Push up to 200 MB at a peer that reads nothing; stop once the writer has been stalled a while.
    for (; rounds < 800 && stalledRounds < 10; rounds++) {
      b.transport.send(batch)
      sentTotal += batch.length
      await sleep(2)
      const s = peerStats()
      assert.ok(s.queuedBytes <= queueBytesMax, `queue ${s.queuedBytes} > ${queueBytesMax}`)
      // The socket holds at most one frame beyond its high-water mark (16 KiB by default).
      assert.ok(s.bufferedBytes <= frameBytesMax + 16 * 1024 + 8, `socket buffer ${s.bufferedBytes}`)
      stalledRounds = s.sentMsgs === lastSent && s.droppedMsgs > 0 ? stalledRounds + 1 : 0
      lastSent = s.sentMsgs
    }
    const stalled = peerStats()
    assert.ok(stalledRounds >= 10, `the writer never stalled in ${rounds} rounds`)
    assert.ok(stalled.droppedMsgs > 0)
    const queuedMsgs = stalled.queuedBytes / encodeRaftMessage(msg).length
    assert.equal(stalled.sentMsgs + stalled.droppedMsgs + queuedMsgs, sentTotal)
    assert.ok(
      b.log.lines.some((l) => l.level === 'warn' && /dropping messages for peer 1: queue full/.test(l.msg)),
    )

    // The peer reads again: the queue drains through the same connection.
    reader.socket.resume()
    await waitFor(() => peerStats().queuedBytes === 0, 'the queue to drain', 10_000)
    assert.equal(peerStats().connected, true)
    assert.equal(peerStats().sentMsgs + peerStats().droppedMsgs, sentTotal)
  })
})
