import type { NodeId } from '../../core/ids.js'
import type { PeerMessage } from '../../engines/engine.js'
import { decodeBatch, OutboundQueue } from './batch.js'
import type { CloseInfo, Connection } from './connection.js'
import type { TransportContext } from './context.js'
import { type Dial, dialPeer } from './dialer.js'
import { encodeFrame } from './frame.js'
import { memberName, type PeerAddress } from './options.js'

/** PeerStats is one peer's line in TcpTransport.stats(). */
export interface PeerStats {
  connected: boolean
  /** sentMsgs counts messages written to a connection (not necessarily received). */
  sentMsgs: number
  /** droppedMsgs counts messages refused because the queue was full or they exceed a frame. */
  droppedMsgs: number
  queuedBytes: number
  /** reconnects counts connections established after the first. */
  reconnects: number
  /** sentFrames counts data frames written; below sentMsgs when batching works. */
  sentFrames: number
  receivedMsgs: number
  /** bufferedBytes: written to the socket, not yet taken by the kernel (at most about one frame). */
  bufferedBytes: number
}

/**
 * PeerLink is everything this node keeps for one peer: the bounded queue of encoded messages, the
 * one connection of the pair, and — when this node has the smaller id, and so dials — the dialing
 * and the backoff between dials. The dialer keeps the connection up whether or not it has
 * anything to send, so that the peer can always reach us too; the acceptor waits to be dialed.
 *
 * Writing: messages queue until a flush, scheduled with setImmediate so that everything sent in
 * one turn of the event loop travels as one frame (split at frameBytesMax). A flush stops when
 * the socket asks us to wait and resumes on 'drain', so at most one frame sits in the socket's
 * buffer beyond its high-water mark; the queue's own bound does the rest.
 */
export class PeerLink<M extends PeerMessage> {
  /** name is the peer's id as logs show it. */
  readonly name: string
  private readonly queue: OutboundQueue
  private conn: Connection | undefined
  private dial: Dial | undefined
  private redialTimer: NodeJS.Timeout | undefined
  private flushImmediate: NodeJS.Immediate | undefined
  /** failures counts dials since the connection last stayed up for dialBackoffMaxMs; drives backoff. */
  private failures = 0
  private connectedAt = 0
  private established = 0
  private overflowing = false
  private closed = false
  private readonly counts = { sentMsgs: 0, droppedMsgs: 0, reconnects: 0, sentFrames: 0, receivedMsgs: 0 }

  constructor(
    private readonly ctx: TransportContext<M>,
    readonly id: NodeId,
    private address: PeerAddress,
  ) {
    this.queue = new OutboundQueue(ctx.options.queueBytesMax)
    this.name = memberName(id)
  }

  /** dials: the smaller id of a pair dials and the larger accepts, so each pair has one connection. */
  get dials(): boolean {
    return this.ctx.selfId < this.id
  }

  stats(): PeerStats {
    return {
      ...this.counts,
      connected: this.conn !== undefined,
      queuedBytes: this.queue.bytes,
      bufferedBytes: this.conn?.bufferedBytes ?? 0,
    }
  }

  /** start begins dialing if this side dials; the transport calls it once it listens. */
  start(): void {
    if (this.dials && !this.closed) this.dialNow()
  }

  /** enqueue queues one encoded message, or drops it (counted) when the queue is full. */
  enqueue(bytes: Uint8Array): void {
    if (this.closed) {
      this.counts.droppedMsgs++
      return
    }
    if (!this.queue.tryPush(bytes)) {
      this.drop(`queue full (${this.queue.bytes} of ${this.queue.queueBytesMax} bytes queued)`)
      return
    }
    // Warn again only once the queue has recovered, not on every message of a flapping overload.
    if (this.queue.bytes * 2 <= this.queue.queueBytesMax) this.overflowing = false
    this.scheduleFlush()
  }

  /** drop counts a message we will not send; the first of a run of drops is logged. */
  drop(why: string): void {
    this.counts.droppedMsgs++
    if (this.overflowing) return
    this.overflowing = true
    this.ctx.log.warn({ peer: this.name, why }, `dropping messages for peer ${this.name}: ${why}`)
  }

  /** setAddress moves the peer; a dialer drops its connection and dials the new address at once. */
  setAddress(address: PeerAddress): void {
    if (address.host === this.address.host && address.port === this.address.port) return
    this.address = address
    if (!this.dials || this.closed) return
    this.dropConnection('peer moved to a new address')
    this.cancelDial()
    this.failures = 0
    this.dialNow()
  }

  /**
   * adopt makes `conn` — just through its handshake — this pair's connection. A newer connection
   * replaces an older one: the dialer only dials when it has lost its connection, so the older one
   * is dead even if our side has not noticed yet.
   */
  adopt(conn: Connection): void {
    if (this.closed) {
      conn.close('peer removed')
      return
    }
    const old = this.conn
    this.conn = conn
    old?.close('replaced by a newer connection')
    if (this.established > 0) this.counts.reconnects++
    this.established++
    this.connectedAt = performance.now()
    conn.onFrame = (payload) => this.receive(conn, payload)
    conn.onDrain = () => this.flush()
    conn.onClose = (info) => this.lost(conn, info)
    this.ctx.log.info(
      { peer: this.name, remote: conn.remote },
      `connected to peer ${this.name} (${conn.remote})`,
    )
    this.scheduleFlush()
  }

  /** close drops the queue and the connection and stops dialing; the link is done. */
  close(): void {
    if (this.closed) return
    this.closed = true
    this.cancelDial()
    clearImmediate(this.flushImmediate)
    this.flushImmediate = undefined
    this.queue.clear()
    this.dropConnection('link closed')
  }

  /** dropConnection closes the connection quietly: the caller decides what happens next. */
  private dropConnection(why: string): void {
    const conn = this.conn
    this.conn = undefined
    conn?.close(why)
  }

  private dialNow(): void {
    this.dial = dialPeer(this.ctx, this.id, this.address, (conn) => {
      this.dial = undefined
      if (conn === undefined) this.redialLater()
      else this.adopt(conn)
    })
  }

  private cancelDial(): void {
    this.dial?.cancel()
    this.dial = undefined
    clearTimeout(this.redialTimer)
    this.redialTimer = undefined
  }

  /** redialLater waits min·2^failures ms (capped at max), times a jitter in [0.5, 1), then dials. */
  private redialLater(): void {
    if (this.closed || this.redialTimer !== undefined || this.dial !== undefined) return
    const { dialBackoffMinMs: min, dialBackoffMaxMs: max } = this.ctx.options
    const base = Math.min(max, min * 2 ** Math.min(this.failures, 30))
    this.failures++
    const delay = Math.max(1, Math.round(base * (0.5 + Math.random() / 2)))
    this.redialTimer = setTimeout(() => {
      this.redialTimer = undefined
      this.dialNow()
    }, delay)
  }

  private lost(conn: Connection, info: CloseInfo): void {
    if (conn !== this.conn) return
    this.conn = undefined
    clearImmediate(this.flushImmediate)
    this.flushImmediate = undefined
    const fields = { peer: this.name, remote: conn.remote, why: info.why }
    if (info.badInput) {
      this.ctx.counters.badFrames++
      this.ctx.log.warn(fields, `closed the connection with peer ${this.name} (${conn.remote}): ${info.why}`)
    } else {
      this.ctx.log.info(fields, `lost the connection with peer ${this.name} (${conn.remote}): ${info.why}`)
    }
    if (performance.now() - this.connectedAt >= this.ctx.options.dialBackoffMaxMs) this.failures = 0
    if (this.dials) this.redialLater()
  }

  private scheduleFlush(): void {
    if (this.flushImmediate !== undefined || this.conn === undefined) return
    this.flushImmediate = setImmediate(() => {
      this.flushImmediate = undefined
      this.flush()
    })
  }

  /** flush writes queued messages as frames until the queue is empty or the socket is full. */
  private flush(): void {
    const conn = this.conn
    if (conn === undefined) return
    while (this.queue.length > 0 && !conn.blocked && !conn.isClosed) {
      const { parts, count } = this.queue.takeBatch(this.ctx.options.frameBytesMax)
      conn.write(encodeFrame(parts))
      this.counts.sentFrames++
      this.counts.sentMsgs += count
    }
  }

  /**
   * receive decodes one data frame as a whole and checks every message is from this peer to us
   * before delivering any; a frame that fails either check closes the connection (the dialer
   * will reconnect), since a stream that carried one bad frame cannot be trusted to be in sync.
   */
  private receive(conn: Connection, payload: Uint8Array): void {
    let msgs: M[]
    try {
      msgs = decodeBatch((r) => this.ctx.codec.read(r), ownedBytes(payload))
    } catch (e) {
      conn.close(`undecodable frame: ${e instanceof Error ? e.message : String(e)}`, true)
      return
    }
    const self = this.ctx.selfId
    const stray = msgs.find((m) => m.from !== this.id || m.to !== self)
    if (stray !== undefined) {
      conn.close(
        `message from ${memberName(stray.from)} to ${memberName(stray.to)} on the connection of peer ${this.name}`,
        true,
      )
      return
    }
    this.counts.receivedMsgs += msgs.length
    for (const m of msgs) {
      if (conn !== this.conn) return
      this.ctx.onMessage(m)
    }
  }
}

/**
 * ownedBytes returns the payload as a plain Uint8Array that decoded messages may keep views into.
 * A payload that is a small part of a big buffer (a socket chunk, Buffer's shared pool) is copied,
 * because an entry kept in the log would otherwise pin the whole chunk in memory.
 */
function ownedBytes(payload: Uint8Array): Uint8Array {
  if (payload.byteLength * 2 >= payload.buffer.byteLength)
    return new Uint8Array(payload.buffer, payload.byteOffset, payload.byteLength)
  const copy = new Uint8Array(payload.byteLength)
  copy.set(payload)
  return copy
}
