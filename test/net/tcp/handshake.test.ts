import assert from 'node:assert/strict'
import { createServer, type Socket } from 'node:net'
import { after, describe, it } from 'node:test'
import type { NodeId } from '../../../src/core/ids.js'
import type { LogLine } from '../../../src/core/logger.js'
import {
  CLUSTER,
  closeAll,
  closesWithin,
  connectedTo,
  heartbeat,
  LOCAL,
  OTHER_CLUSTER,
  RawPeer,
  startNode,
  type TestNode,
  waitFor,
} from './harness.js'

const find = (lines: readonly LogLine[], level: LogLine['level'], re: RegExp) =>
  lines.find((l) => l.level === level && re.test(l.msg))

describe('net/tcp: handshake', () => {
  const open: TestNode[] = []
  after(() => closeAll(open))

  it('refuses a member of another cluster, and both sides say why', async () => {
    const b = await startNode({ id: 2, peers: new Map([[1 as NodeId, { host: LOCAL, port: 1 }]]) })
    const a = await startNode({ id: 1, clusterId: OTHER_CLUSTER, peers: new Map([[b.id, b.address()]]) })
    open.push(a, b)
    await waitFor(() => b.transport.stats().refusedHandshakes >= 1, 'the refusal')
    await waitFor(() => find(a.log.lines, 'error', /refused us/) !== undefined, 'the dialer’s log')
    const theirs = find(b.log.lines, 'warn', /refused peer connection/)!
    assert.match(theirs.msg, /from 127\.0\.0\.1:\d+/)
    assert.match(theirs.msg, new RegExp(`cluster ${OTHER_CLUSTER}, member 1`))
    assert.match(theirs.msg, new RegExp(`cluster id mismatch \\(ours ${CLUSTER}, theirs ${OTHER_CLUSTER}\\)`))
    const ours = find(a.log.lines, 'error', /refused us/)!
    assert.equal(
      ours.msg,
      `peer 2 refused us: cluster id mismatch (ours ${OTHER_CLUSTER}, theirs ${CLUSTER})`,
    )
    assert.equal(connectedTo(a, b.id), false)
    assert.equal(connectedTo(b, a.id), false)
  })

  it('refuses an unknown member, and both sides say why', async () => {
    const b = await startNode({ id: 9, peers: new Map([[1 as NodeId, { host: LOCAL, port: 1 }]]) })
    const a = await startNode({ id: 5, peers: new Map([[b.id, b.address()]]) })
    open.push(a, b)
    await waitFor(() => find(a.log.lines, 'error', /refused us/) !== undefined, 'the dialer’s log')
    assert.match(find(b.log.lines, 'warn', /refused peer connection/)!.msg, /member 5 is not a known peer/)
    assert.equal(
      find(a.log.lines, 'error', /refused us/)!.msg,
      'peer 9 refused us: we (member 5) are not among its peers',
    )
    // Refused dialers keep trying, with backoff: the refusal is repeated, not a crash or a hot loop.
    await waitFor(() => b.transport.stats().refusedHandshakes >= 2, 'a second attempt')
    assert.ok(b.transport.stats().refusedHandshakes < 50)
  })

  it('refuses a dial to the wrong member and a dial from the larger id', async () => {
    const b = await startNode({ id: 2, peers: new Map([[3 as NodeId, { host: LOCAL, port: 1 }]]) })
    open.push(b)
    const wrongMember = await RawPeer.connect(b.address())
    assert.equal((await wrongMember.handshake(3, 7)).refusal, 'wrong-member')
    const wrongWay = await RawPeer.connect(b.address())
    assert.equal((await wrongWay.handshake(3, 2)).refusal, 'wrong-direction')
    wrongMember.destroy()
    wrongWay.destroy()
    assert.equal(b.transport.stats().refusedHandshakes, 2)
  })

  it('closes a connection that never completes its handshake, on either side', async () => {
    const options = { handshakeTimeoutMs: 150 }
    const b = await startNode({ id: 2, options, peers: new Map([[1 as NodeId, { host: LOCAL, port: 1 }]]) })
    open.push(b)
    const silent = await RawPeer.connect(b.address())
    assert.equal(await closesWithin(silent, 2_000), true)
    assert.ok(find(b.log.lines, 'warn', /handshake from 127\.0\.0\.1:\d+ timed out/))

    // A listener that accepts and never answers: the dialer gives up and tries again.
    const accepted: Socket[] = []
    const mute = createServer((s) => accepted.push(s))
    await new Promise<void>((r) => mute.listen(0, LOCAL, r))
    try {
      const port = (mute.address() as { port: number }).port
      const a = await startNode({ id: 1, options, peers: new Map([[5 as NodeId, { host: LOCAL, port }]]) })
      open.push(a)
      await waitFor(() => accepted.length >= 2, 'a redial after the timeout')
      assert.ok(find(a.log.lines, 'warn', /handshake with peer 5 at 127\.0\.0\.1:\d+ timed out/))
      a.transport.send([heartbeat(a.id, 5 as NodeId, 1)])
      assert.ok(a.transport.stats().perPeer['5']!.queuedBytes > 0)
    } finally {
      for (const s of accepted) s.destroy()
      await new Promise((r) => mute.close(r))
    }
  })
})
