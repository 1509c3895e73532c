/**
 * Frames on a peer connection: `[u32 length, little-endian][payload of that many bytes]`, the
 * byte order of core/codec's u32. Lengths are checked against a limit before a byte of the payload
 * is buffered, so a forged length cannot make us allocate; the limit is read afresh for every
 * frame because it grows once the handshake is done.
 */

export const FRAME_HEADER_BYTES = 4

/** encodeFrame returns the header and `parts` as one buffer, so a frame is one socket write. */
export function encodeFrame(parts: readonly Uint8Array[]): Buffer {
  let length = 0
  for (const p of parts) length += p.length
  const out = Buffer.allocUnsafe(FRAME_HEADER_BYTES + length)
  out.writeUInt32LE(length, 0)
  let at = FRAME_HEADER_BYTES
  for (const p of parts) {
    out.set(p, at)
    at += p.length
  }
  return out
}

/** FrameError: the stream cannot be framed (oversized length); the connection must be closed. */
export class FrameError extends Error {
  override readonly name = 'FrameError'
}

/**
 * FrameDecoder cuts a byte stream into frame payloads. It keeps the received chunks in a list and
 * joins them only when a frame is complete, so a large frame arriving in many small chunks costs
 * one copy rather than one per chunk. A payload that lies within one chunk is a view of it.
 *
 * Invariant: `buffered` is the sum of the chunks' lengths minus `offset`, and stays below
 * FRAME_HEADER_BYTES + the current limit (a frame is taken as soon as it is complete).
 */
export class FrameDecoder {
  private chunks: Buffer[] = []
  /** offset: bytes of chunks[0] already consumed. */
  private offset = 0
  private buffered = 0
  /** want: the payload length of the frame being received, once its header is in. */
  private want: number | undefined

  /** `limit` returns the largest payload acceptable now. */
  constructor(private readonly limit: () => number) {}

  /** bufferedBytes counts bytes received but not yet returned as a frame (a partial frame). */
  get bufferedBytes(): number {
    return this.buffered
  }

  /**
   * push adds a chunk and hands each complete payload to `onFrame`, in order; it stops early when
   * `onFrame` returns false (the connection was closed). Throws FrameError on an oversized length.
   */
  push(chunk: Buffer, onFrame: (payload: Buffer) => boolean): void {
    if (chunk.length === 0) return
    this.chunks.push(chunk)
    this.buffered += chunk.length
    for (;;) {
      if (this.want === undefined) {
        if (this.buffered < FRAME_HEADER_BYTES) return
        const length = this.take(FRAME_HEADER_BYTES).readUInt32LE(0)
        const max = this.limit()
        if (length > max) throw new FrameError(`frame of ${length} bytes exceeds the limit of ${max}`)
        this.want = length
      }
      if (this.buffered < this.want) return
      const payload = this.take(this.want)
      this.want = undefined
      if (!onFrame(payload)) return
    }
  }

  /** take removes the next `n` buffered bytes (n <= buffered), copying only if they span chunks. */
  private take(n: number): Buffer {
    if (n === 0) return Buffer.alloc(0)
    const first = this.chunks[0] as Buffer
    let out: Buffer
    if (first.length - this.offset >= n) {
      out = first.subarray(this.offset, this.offset + n)
      this.offset += n
    } else {
      out = Buffer.allocUnsafe(n)
      let copied = 0
      while (copied < n) {
        const c = this.chunks[0] as Buffer
        const k = Math.min(n - copied, c.length - this.offset)
        c.copy(out, copied, this.offset, this.offset + k)
        copied += k
        this.offset += k
        if (this.offset === c.length) this.dropFirst()
      }
    }
    if (this.chunks.length > 0 && this.offset === (this.chunks[0] as Buffer).length) this.dropFirst()
    this.buffered -= n
    return out
  }

  private dropFirst(): void {
    this.chunks.shift()
    this.offset = 0
  }
}
