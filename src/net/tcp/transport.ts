import { createServer, type Server, type Socket } from 'node:net'
import { assert } from '../../core/assert.js'
import type { NodeId } from '../../core/ids.js'
import type { PeerMessage } from '../../engines/engine.js'
import type { Transport } from '../transport.js'
import { acceptConnection } from './acceptor.js'
import { COUNT_BYTES_MAX, encodeMessage } from './batch.js'
import type { Connection } from './connection.js'
import type { TransportContext } from './context.js'
import {
  checkAddress,
  formatAddress,
  memberName,
  type PeerAddress,
  parseClusterId,
  resolveOptions,
  type TcpTransportConfig,
} from './options.js'
import { PeerLink, type PeerStats } from './peer-link.js'

/**
 * HANDSHAKES_PENDING_MAX bounds inbound connections that have not finished their handshake; more
 * are closed at once, so a flood of idle connections costs a bounded amount of memory and timers.
 */
export const HANDSHAKES_PENDING_MAX = 64

export interface TcpTransportStats {
  /** perPeer is keyed by the peer's id in decimal. */
  perPeer: Record<string, PeerStats>
  refusedHandshakes: number
  badFrames: number
  droppedUnknownMsgs: number
}

/**
 * TcpTransport is the real Transport (net/transport.ts): messages travel between members over TCP
 * as length-prefixed frames, each a batch of messages (frame.ts, batch.ts).
 *
 * One connection per pair of members, used both ways: the member with the smaller NodeId dials
 * and keeps the connection up (reconnecting with exponential backoff and jitter), the other only
 * accepts. Every connection opens with a handshake (handshake.ts) that checks the cluster id and
 * both member ids, so a node of another cluster or a stranger is refused, and says why on both
 * sides. Until a peer is connected its messages wait in a queue bounded by queueBytesMax.
 *
 * Delivery is best effort, as the contract allows: messages in a socket when it dies are lost,
 * and the engines retry. Nothing a peer sends — garbage, oversized or truncated frames, messages
 * that do not decode or are not from it to us — can throw out of here: the connection is closed,
 * logged and counted, and the node goes on serving the others. The transport listens only on
 * `listen`; it never binds anything else.
 */
export class TcpTransport<M extends PeerMessage> implements Transport<M> {
  private readonly ctx: TransportContext<M>
  private readonly links = new Map<NodeId, PeerLink<M>>()
  private readonly pending = new Set<Connection>()
  private server: Server | undefined
  /** listening settles when start()'s listen does; close() waits for it before closing the server. */
  private listening: Promise<void> | undefined
  private closing: Promise<void> | undefined

  /** The constructor validates the config (throwing RangeError) but opens nothing; see start(). */
  constructor(private readonly cfg: TcpTransportConfig<M>) {
    const clusterIdBytes = parseClusterId(cfg.clusterId)
    checkAddress(cfg.listen, 'listen address', true)
    this.ctx = {
      selfId: cfg.selfId,
      clusterId: Buffer.from(clusterIdBytes).toString('hex'),
      clusterIdBytes,
      codec: cfg.codec,
      onMessage: cfg.onMessage,
      log: cfg.log,
      options: resolveOptions(cfg.options),
      counters: { refusedHandshakes: 0, badFrames: 0, droppedUnknownMsgs: 0 },
    }
    this.setPeers(cfg.peers)
  }

  /** start listens on the configured address, then dials the peers this member dials. */
  async start(): Promise<void> {
    assert(this.server === undefined && this.closing === undefined, 'TcpTransport.start: started or closed')
    const server = createServer((socket) => this.accept(socket))
    this.server = server
    this.listening = new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen({ host: this.cfg.listen.host, port: this.cfg.listen.port }, () => {
        server.off('error', reject)
        resolve()
      })
    })
    await this.listening
    // close() ran while we were binding: it closes the server once the listen settles.
    if (this.closing !== undefined) return
    server.on('error', (err) =>
      this.ctx.log.error({ err: err.message }, `peer listener error: ${err.message}`),
    )
    this.ctx.log.info(
      {
        listen: formatAddress(this.address()),
        selfId: memberName(this.ctx.selfId),
        clusterId: this.ctx.clusterId,
      },
      `listening for peers on ${formatAddress(this.address())}`,
    )
    for (const link of this.links.values()) link.start()
  }

  /** address is where the transport listens: the bound port once started (port 0 resolved). */
  address(): PeerAddress {
    const a = this.server?.address()
    if (a !== null && typeof a === 'object') return { host: a.address, port: a.port }
    return this.cfg.listen
  }

  /**
   * send encodes each message and queues it for its destination; it never blocks. A message for
   * a destination that is not a peer, one larger than a frame, or one that finds its peer's queue
   * full is dropped and counted. Messages must come from this node, and the codec must be able
   * to encode them: a failure of either is a programmer error and throws.
   */
  send(messages: readonly M[]): void {
    const frameBytesMax = this.ctx.options.frameBytesMax
    for (const m of messages) {
      assert(
        m.from === this.ctx.selfId,
        () => `node ${memberName(this.ctx.selfId)} sends a message from ${memberName(m.from)}`,
      )
      const link = this.links.get(m.to)
      if (link === undefined) {
        this.ctx.counters.droppedUnknownMsgs++
        continue
      }
      const bytes = encodeMessage((w, v: M) => this.ctx.codec.write(w, v), m)
      if (bytes.length + COUNT_BYTES_MAX > frameBytesMax) {
        link.drop(
          `a message of ${bytes.length} bytes does not fit in a frame (frameBytesMax ${frameBytesMax})`,
        )
        continue
      }
      link.enqueue(bytes)
    }
  }

  /**
   * setPeers replaces the membership: removed peers lose their queue and connection, new ones
   * are dialed (if this side dials), and a dialed peer whose address changed is redialed.
   */
  setPeers(peers: ReadonlyMap<NodeId, PeerAddress>): void {
    if (this.closing !== undefined) return
    for (const [id, link] of this.links) {
      if (peers.has(id)) continue
      link.close()
      this.links.delete(id)
      this.ctx.log.info({ peer: memberName(id) }, `peer ${memberName(id)} removed`)
    }
    for (const [id, address] of peers) {
      if (id === this.ctx.selfId) continue
      checkAddress(address, `address of peer ${memberName(id)}`, false)
      const link = this.links.get(id)
      if (link !== undefined) {
        link.setAddress(address)
        continue
      }
      const added = new PeerLink(this.ctx, id, address)
      this.links.set(id, added)
      if (this.server?.listening) added.start()
    }
  }

  stats(): TcpTransportStats {
    const perPeer: Record<string, PeerStats> = {}
    for (const [id, link] of this.links) perPeer[String(id)] = link.stats()
    return { perPeer, ...this.ctx.counters }
  }

  /** close stops listening, closes every connection and clears every timer; it is idempotent. */
  close(): Promise<void> {
    this.closing ??= this.shutdown()
    return this.closing
  }

  private async shutdown(): Promise<void> {
    for (const link of this.links.values()) link.close()
    for (const conn of [...this.pending]) conn.close('transport closed')
    // A listen still in progress may finish, so that its server can be closed.
    await this.listening?.catch(() => {})
    const server = this.server
    if (server?.listening) await new Promise<void>((resolve) => server.close(() => resolve()))
  }

  private accept(socket: Socket): void {
    if (this.closing !== undefined || this.pending.size >= HANDSHAKES_PENDING_MAX) {
      // Without an 'error' listener a reset from the peer would be an uncaught exception.
      socket.on('error', () => {})
      socket.destroy()
      if (this.closing === undefined)
        this.ctx.log.warn(
          { remote: socket.remoteAddress, pendingMax: HANDSHAKES_PENDING_MAX },
          `refused a connection from ${socket.remoteAddress}: ${HANDSHAKES_PENDING_MAX} handshakes pending`,
        )
      return
    }
    acceptConnection(
      this.ctx,
      socket,
      this.pending,
      (id) => this.links.has(id),
      (id, conn) => {
        const link = this.links.get(id)
        if (link === undefined) conn.close('peer removed during handshake')
        else link.adopt(conn)
      },
    )
  }
}
