import { connect } from 'node:net'
import type { NodeId } from '../../core/ids.js'
import type { PeerMessage } from '../../engines/engine.js'
import { Connection } from './connection.js'
import type { TransportContext } from './context.js'
import { encodeFrame } from './frame.js'
import { decodeReply, describeRefusal, encodeHello, HANDSHAKE_BYTES_MAX } from './handshake.js'
import { formatAddress, memberName, type PeerAddress } from './options.js'

/** Dial is a dial in progress; cancel abandons it (its callback is then never called). */
export interface Dial {
  cancel(): void
}

/**
 * dialPeer connects to `peer` at `address` and runs the dialer's half of the handshake: send a
 * Hello, wait for the Reply. `done` is called exactly once (unless cancelled): with the open
 * connection, its frame limit raised to frameBytesMax, or with undefined when the connection
 * failed, timed out or was refused. A refusal is logged at error level with the reason the peer
 * gave, told from our side; plain connection failures are routine while a peer is down and are
 * logged at debug level.
 */
export function dialPeer<M extends PeerMessage>(
  ctx: TransportContext<M>,
  peer: NodeId,
  address: PeerAddress,
  done: (conn: Connection | undefined) => void,
): Dial {
  const { log, options } = ctx
  const at = formatAddress(address)
  const name = memberName(peer)
  const conn = new Connection(connect({ host: address.host, port: address.port }), HANDSHAKE_BYTES_MAX, at)
  let settled = false
  const settle = (c: Connection | undefined): void => {
    if (settled) return
    settled = true
    clearTimeout(timer)
    done(c)
  }
  const timer = setTimeout(() => {
    log.warn({ peer: name, address: at }, `handshake with peer ${name} at ${at} timed out`)
    conn.close('handshake timeout')
  }, options.handshakeTimeoutMs)
  conn.onClose = (info) => {
    if (info.badInput) ctx.counters.badFrames++
    log.debug({ peer: name, address: at, why: info.why }, `dial to peer ${name} at ${at} failed: ${info.why}`)
    settle(undefined)
  }
  conn.onFrame = (payload) => {
    let reply: ReturnType<typeof decodeReply>
    try {
      reply = decodeReply(payload)
    } catch (e) {
      const why = e instanceof Error ? e.message : String(e)
      log.error({ peer: name, address: at, why }, `peer ${name} at ${at} sent a bad handshake reply: ${why}`)
      conn.close(`bad handshake reply: ${why}`, true)
      return
    }
    if (reply.refusal !== undefined) {
      const why = describeRefusal(reply, ctx)
      log.error(
        { peer: name, address: at, refusal: reply.refusal, detail: reply.detail },
        `peer ${name} refused us: ${why}`,
      )
      conn.close(`refused: ${why}`)
      return
    }
    if (reply.from !== peer || reply.clusterId !== ctx.clusterId) {
      const why = `it answered as member ${memberName(reply.from)} of cluster ${reply.clusterId}`
      log.error({ peer: name, address: at, why }, `peer ${name} at ${at} is not who we dialed: ${why}`)
      conn.close(why)
      return
    }
    conn.setFrameLimit(options.frameBytesMax)
    settle(conn)
  }
  conn.write(encodeFrame([encodeHello(ctx.clusterIdBytes, ctx.selfId, peer)]))
  return {
    cancel: () => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      conn.close('dial cancelled')
    },
  }
}
