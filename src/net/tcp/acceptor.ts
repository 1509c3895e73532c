import type { Socket } from 'node:net'
import type { NodeId } from '../../core/ids.js'
import type { PeerMessage } from '../../engines/engine.js'
import { Connection } from './connection.js'
import type { TransportContext } from './context.js'
import { encodeFrame } from './frame.js'
import { decodeHello, encodeReply, HANDSHAKE_BYTES_MAX, type Hello, judgeHello } from './handshake.js'
import { memberName } from './options.js'

/**
 * acceptConnection runs the acceptor's half of the handshake on a socket the listener took. The
 * connection sits in `pending` until it is handed to `adopt` (an accepted Hello) or closes. A Hello
 * we refuse gets a Reply naming the reason, then we half-close and wait, at most the handshake
 * timeout, for the dialer to hang up — so the reason reaches it before the connection drops.
 *
 * Every refusal is logged at warn level with the remote address and the cluster and member the
 * dialer claimed; input that is not a Hello at all counts as a bad frame.
 */
export function acceptConnection<M extends PeerMessage>(
  ctx: TransportContext<M>,
  socket: Socket,
  pending: Set<Connection>,
  isPeer: (id: NodeId) => boolean,
  adopt: (peer: NodeId, conn: Connection) => void,
): void {
  const { log, options } = ctx
  const conn = new Connection(socket, HANDSHAKE_BYTES_MAX)
  const remote = conn.remote
  pending.add(conn)
  let refused = false
  const timer = setTimeout(() => {
    if (!refused) log.warn({ remote }, `handshake from ${remote} timed out`)
    conn.close(refused ? 'refused dialer did not hang up' : 'handshake timeout')
  }, options.handshakeTimeoutMs)
  conn.onClose = (info) => {
    clearTimeout(timer)
    pending.delete(conn)
    if (!info.badInput) return
    ctx.counters.badFrames++
    log.warn({ remote, why: info.why }, `closed connection from ${remote} during handshake: ${info.why}`)
  }
  conn.onFrame = (payload) => {
    let hello: Hello
    try {
      hello = decodeHello(payload)
    } catch (e) {
      conn.close(`bad handshake: ${e instanceof Error ? e.message : String(e)}`, true)
      return
    }
    const verdict = judgeHello(hello, { clusterId: ctx.clusterId, selfId: ctx.selfId, isPeer })
    if (verdict !== undefined) {
      refused = true
      ctx.counters.refusedHandshakes++
      const claimed = `cluster ${hello.clusterId || '?'}, member ${hello.from ? memberName(hello.from) : '?'}`
      log.warn(
        {
          remote,
          clusterId: hello.clusterId,
          from: memberName(hello.from),
          to: memberName(hello.to),
          refusal: verdict.refusal,
        },
        `refused peer connection from ${remote} (${claimed}): ${verdict.why}`,
      )
      conn.endAfter(encodeFrame([encodeReply(ctx.clusterIdBytes, ctx.selfId, verdict.refusal, verdict.why)]))
      return
    }
    clearTimeout(timer)
    pending.delete(conn)
    conn.write(encodeFrame([encodeReply(ctx.clusterIdBytes, ctx.selfId, undefined, '')]))
    conn.setFrameLimit(options.frameBytesMax)
    adopt(hello.from, conn)
  }
}
