import type { Socket } from 'node:net'
import { FrameDecoder, FrameError } from './frame.js'

/** CloseInfo says why a connection ended; `badInput` marks the peer's fault (garbage, truncation). */
export interface CloseInfo {
  readonly why: string
  readonly badInput: boolean
}

/**
 * KEEPALIVE_DELAY_MS: TCP keepalive probes start after this much silence, so a peer that vanished
 * without a FIN (power loss, a cable pulled) is noticed even when neither side has anything to say.
 */
const KEEPALIVE_DELAY_MS = 10_000

/**
 * Connection is one framed peer socket, from its first byte to its close. It owns every listener
 * on the socket — 'error' included, so a peer's fault never becomes an uncaught exception — and
 * reports the end exactly once through onClose, whether the peer or we ended it.
 *
 * The owner swaps the handlers as the connection moves from handshake to data, and raises the
 * frame limit at the same moment; both are looked up per frame, so a data frame that arrives in
 * the same chunk as the handshake is judged by the data rules.
 */
export class Connection {
  /** remote is the peer's address as the socket reports it, for logs. */
  readonly remote: string
  onFrame: (payload: Buffer) => void = () => {}
  onDrain: () => void = () => {}
  onClose: (info: CloseInfo) => void = () => {}
  private readonly decoder: FrameDecoder
  private closed = false
  /** reading is false once we ended our side; later input is ignored. */
  private reading = true
  /** blocked is true from a write() that returned false until the socket's 'drain'. */
  private blockedOnDrain = false
  private lastError: string | undefined

  /** `remote` names the peer in logs; by default the socket's remote address (known for accepted sockets). */
  constructor(
    private readonly socket: Socket,
    private frameLimit: number,
    remote?: string,
  ) {
    this.remote = remote ?? `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`
    this.decoder = new FrameDecoder(() => this.frameLimit)
    socket.setNoDelay(true)
    socket.setKeepAlive(true, KEEPALIVE_DELAY_MS)
    socket.on('data', (chunk: Buffer) => this.receive(chunk))
    socket.on('drain', () => {
      this.blockedOnDrain = false
      if (!this.closed) this.onDrain()
    })
    socket.on('error', (err: Error) => {
      // 'close' always follows 'error'; remember the cause for the close report.
      this.lastError = err.message
    })
    socket.on('end', () => {
      const partial = this.decoder.bufferedBytes
      if (partial > 0 && this.reading)
        this.finish({ why: `peer closed mid-frame (${partial} bytes of a truncated frame)`, badInput: true })
    })
    socket.on('close', () => {
      const why =
        this.lastError === undefined ? 'peer closed the connection' : `socket error: ${this.lastError}`
      this.finish({ why, badInput: false })
    })
  }

  get isClosed(): boolean {
    return this.closed
  }

  /** blocked says whether the socket asked us to wait for 'drain' before writing more. */
  get blocked(): boolean {
    return this.blockedOnDrain
  }

  /** bufferedBytes counts bytes written to the socket but not yet handed to the kernel. */
  get bufferedBytes(): number {
    return this.closed ? 0 : this.socket.writableLength
  }

  setFrameLimit(bytes: number): void {
    this.frameLimit = bytes
  }

  /** write sends one whole frame; it returns false when the caller should wait for onDrain. */
  write(frame: Uint8Array): boolean {
    if (this.closed) return false
    if (!this.socket.write(frame)) this.blockedOnDrain = true
    return !this.blockedOnDrain
  }

  /**
   * endAfter sends a last frame, half-closes, and ignores whatever arrives afterwards; the
   * connection closes when the peer closes its side (or the owner's timer closes it).
   */
  endAfter(frame: Uint8Array): void {
    if (this.closed) return
    this.reading = false
    this.socket.end(frame)
  }

  /** close destroys the socket at once and reports `why` through onClose (if not closed already). */
  close(why: string, badInput = false): void {
    this.finish({ why, badInput })
  }

  private finish(info: CloseInfo): void {
    if (this.closed) return
    this.closed = true
    this.reading = false
    this.socket.destroy()
    this.onClose(info)
  }

  private receive(chunk: Buffer): void {
    if (!this.reading) return
    try {
      this.decoder.push(chunk, (payload) => {
        this.onFrame(payload)
        return this.reading
      })
    } catch (e) {
      if (!(e instanceof FrameError)) throw e
      this.finish({ why: e.message, badInput: true })
    }
  }
}
