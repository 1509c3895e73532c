/**
 * The binary codec's primitives: a growable writer and a bounds-checked reader. Integers are
 * unsigned LEB128 varints (safe integers only), byte strings are length-prefixed. Readers never
 * trust input: a truncated, overlong or malformed buffer throws CodecError, which hosts turn into
 * a clear rejection of the frame or record — never a crash, never a silent misread.
 */
export class CodecError extends Error {
  override readonly name = 'CodecError'
}

const INITIAL_CAPACITY = 256
const textEncoder = new TextEncoder()
const textDecoder = new TextDecoder('utf-8', { fatal: true })

export class BinaryWriter {
  private buf: Uint8Array
  private view: DataView
  private pos = 0

  constructor(capacity = INITIAL_CAPACITY) {
    this.buf = new Uint8Array(capacity)
    this.view = new DataView(this.buf.buffer)
  }

  get length(): number {
    return this.pos
  }

  private reserve(n: number): void {
    if (this.pos + n <= this.buf.length) return
    let cap = this.buf.length * 2
    while (cap < this.pos + n) cap *= 2
    const next = new Uint8Array(cap)
    next.set(this.buf.subarray(0, this.pos))
    this.buf = next
    this.view = new DataView(next.buffer)
  }

  u8(v: number): this {
    this.reserve(1)
    this.buf[this.pos++] = v & 0xff
    return this
  }

  bool(v: boolean): this {
    return this.u8(v ? 1 : 0)
  }

  /** u32 writes a fixed-width little-endian 32-bit unsigned integer (checksums, lengths in frames). */
  u32(v: number): this {
    this.reserve(4)
    this.view.setUint32(this.pos, v >>> 0, true)
    this.pos += 4
    return this
  }

  /** uvarint writes a non-negative safe integer in LEB128. */
  uvarint(v: number): this {
    if (!Number.isSafeInteger(v) || v < 0)
      throw new RangeError(`uvarint: ${v} is not a non-negative safe integer`)
    this.reserve(8)
    while (v >= 0x80) {
      this.buf[this.pos++] = (v % 0x80) | 0x80
      v = Math.floor(v / 0x80)
    }
    this.buf[this.pos++] = v
    return this
  }

  /** bytes writes a length-prefixed byte string. */
  bytes(b: Uint8Array): this {
    this.uvarint(b.length)
    return this.raw(b)
  }

  /** raw writes bytes with no length prefix. */
  raw(b: Uint8Array): this {
    this.reserve(b.length)
    this.buf.set(b, this.pos)
    this.pos += b.length
    return this
  }

  string(s: string): this {
    return this.bytes(textEncoder.encode(s))
  }

  /** finish returns the bytes written so far (a view; the writer must not be used afterwards). */
  finish(): Uint8Array {
    return this.buf.subarray(0, this.pos)
  }
}

/** The longest LEB128 encoding of a safe integer (53 bits -> 8 groups of 7). */
const UVARINT_BYTES_MAX = 8

export class BinaryReader {
  private pos = 0
  private readonly view: DataView

  constructor(private readonly buf: Uint8Array) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength)
  }

  get offset(): number {
    return this.pos
  }

  get remaining(): number {
    return this.buf.length - this.pos
  }

  private need(n: number, what: string): void {
    if (this.pos + n > this.buf.length) {
      throw new CodecError(
        `truncated input: ${what} needs ${n} bytes at offset ${this.pos}, ${this.remaining} left`,
      )
    }
  }

  u8(): number {
    this.need(1, 'u8')
    return this.buf[this.pos++] as number
  }

  bool(): boolean {
    const v = this.u8()
    if (v > 1) throw new CodecError(`bad boolean ${v} at offset ${this.pos - 1}`)
    return v === 1
  }

  u32(): number {
    this.need(4, 'u32')
    const v = this.view.getUint32(this.pos, true)
    this.pos += 4
    return v
  }

  uvarint(): number {
    let result = 0
    let scale = 1
    for (let i = 0; i < UVARINT_BYTES_MAX; i++) {
      this.need(1, 'uvarint')
      const b = this.buf[this.pos++] as number
      result += (b & 0x7f) * scale
      if ((b & 0x80) === 0) {
        if (!Number.isSafeInteger(result)) throw new CodecError(`uvarint overflows at offset ${this.pos}`)
        if (i > 0 && b === 0) throw new CodecError(`non-canonical uvarint at offset ${this.pos}`)
        return result
      }
      scale *= 0x80
    }
    throw new CodecError(`uvarint longer than ${UVARINT_BYTES_MAX} bytes at offset ${this.pos}`)
  }

  /** bytes reads a length-prefixed byte string; the result is a view into the input. */
  bytes(): Uint8Array {
    const n = this.uvarint()
    return this.raw(n)
  }

  raw(n: number): Uint8Array {
    this.need(n, 'bytes')
    const out = this.buf.subarray(this.pos, this.pos + n)
    this.pos += n
    return out
  }

  string(): string {
    const b = this.bytes()
    try {
      return textDecoder.decode(b)
    } catch {
      throw new CodecError(`invalid UTF-8 string ending at offset ${this.pos}`)
    }
  }

  /** expectEnd throws unless every byte was consumed: trailing garbage is malformed input. */
  expectEnd(what: string): void {
    if (this.remaining !== 0) throw new CodecError(`${what}: ${this.remaining} unexpected trailing bytes`)
  }
}

/** decodeExactly reads one value that must fill `b` exactly: trailing bytes are malformed input. */
export function decodeExactly<T>(read: (r: BinaryReader) => T, b: Uint8Array, what: string): T {
  const r = new BinaryReader(b)
  const v = read(r)
  r.expectEnd(what)
  return v
}

/** encodeWith encodes one value with its writer function (capacity: a size hint). */
export function encodeWith<T>(write: (w: BinaryWriter, v: T) => void, v: T, capacity?: number): Uint8Array {
  const w = new BinaryWriter(capacity)
  write(w, v)
  return w.finish()
}
