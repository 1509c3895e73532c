import { BinaryReader, BinaryWriter } from '../../core/codec.js'
import { readCount } from '../../engines/codec.js'

/**
 * Batches: the payload of every data frame is `uvarint count` followed by `count` messages back to
 * back, each as the MessageCodec writes it (the layout of raft's encodeRaftMessages). Messages
 * are encoded when they are sent, so the queue holds bytes and its bound is a bound on memory.
 */

/** COUNT_BYTES_MAX: room kept for the count in front of a batch (the longest uvarint). */
export const COUNT_BYTES_MAX = 8

/**
 * OutboundQueue holds one peer's encoded messages until a connection takes them.
 * Invariant: bytes === the sum of the queued messages' lengths <= queueBytesMax.
 */
export class OutboundQueue {
  private items: Uint8Array[] = []
  /** head: index of the oldest queued item; the array is compacted when half of it is consumed. */
  private head = 0
  private bytesQueued = 0

  constructor(readonly queueBytesMax: number) {}

  get bytes(): number {
    return this.bytesQueued
  }

  get length(): number {
    return this.items.length - this.head
  }

  /** tryPush queues `m` unless that would exceed queueBytesMax; says whether it did. */
  tryPush(m: Uint8Array): boolean {
    if (this.bytesQueued + m.length > this.queueBytesMax) return false
    this.items.push(m)
    this.bytesQueued += m.length
    return true
  }

  /**
   * takeBatch removes the oldest messages that fit in one frame of `frameBytesMax` and returns
   * the frame's payload parts (count first) and how many messages it holds. Every queued message
   * fits in a frame on its own (send checks), so a non-empty queue always yields a message.
   */
  takeBatch(frameBytesMax: number): { parts: Uint8Array[]; count: number } {
    const parts: Uint8Array[] = [new Uint8Array(0)]
    let size = COUNT_BYTES_MAX
    while (this.head < this.items.length) {
      const m = this.items[this.head] as Uint8Array
      if (parts.length > 1 && size + m.length > frameBytesMax) break
      parts.push(m)
      size += m.length
      this.head++
      this.bytesQueued -= m.length
    }
    const count = parts.length - 1
    parts[0] = new BinaryWriter(COUNT_BYTES_MAX).uvarint(count).finish()
    this.compact()
    return { parts, count }
  }

  /** clear drops every queued message and returns how many there were. */
  clear(): number {
    const n = this.length
    this.items = []
    this.head = 0
    this.bytesQueued = 0
    return n
  }

  private compact(): void {
    if (this.head === this.items.length) {
      this.items = []
      this.head = 0
    } else if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head)
      this.head = 0
    }
  }
}

/**
 * encodeMessage returns one message's bytes, as the codec writes them. The writer grows by
 * doubling, so its buffer can be up to twice the message; past a quarter of slack the bytes are
 * copied out, so that the bytes a queue counts are close to the memory it holds.
 */
export function encodeMessage<M>(write: (w: BinaryWriter, m: M) => void, m: M): Uint8Array {
  const w = new BinaryWriter(64)
  write(w, m)
  const b = w.finish()
  return b.byteLength * 4 < b.buffer.byteLength * 3 ? b.slice() : b
}

/** decodeBatch reads a whole data frame; malformed input (trailing bytes too) throws CodecError. */
export function decodeBatch<M>(read: (r: BinaryReader) => M, payload: Uint8Array): M[] {
  const r = new BinaryReader(payload)
  const n = readCount(r, 'batch')
  const out: M[] = []
  for (let i = 0; i < n; i++) out.push(read(r))
  r.expectEnd('batch')
  return out
}
