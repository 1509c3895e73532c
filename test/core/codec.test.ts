import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { BinaryReader, BinaryWriter, CodecError } from '../../src/core/codec.js'

/** A field the schema-driven tests write and read: the codec's primitives, one each. */
type Field =
  | { readonly kind: 'u8'; readonly v: number }
  | { readonly kind: 'bool'; readonly v: boolean }
  | { readonly kind: 'u32'; readonly v: number }
  | { readonly kind: 'uvarint'; readonly v: number }
  | { readonly kind: 'bytes'; readonly v: Uint8Array }
  | { readonly kind: 'string'; readonly v: string }

const arbUvarint = fc.oneof(
  fc.maxSafeNat(),
  fc.nat(300),
  fc.constantFrom(0, 127, 128, 2 ** 31, 2 ** 32, 2 ** 49 - 1, 2 ** 49, Number.MAX_SAFE_INTEGER),
)

const noNull = { noNullPrototype: true } as const

const arbField: fc.Arbitrary<Field> = fc.oneof(
  fc.record({ kind: fc.constant('u8' as const), v: fc.integer({ min: 0, max: 255 }) }, noNull),
  fc.record({ kind: fc.constant('bool' as const), v: fc.boolean() }, noNull),
  fc.record({ kind: fc.constant('u32' as const), v: fc.integer({ min: 0, max: 2 ** 32 - 1 }) }, noNull),
  fc.record({ kind: fc.constant('uvarint' as const), v: arbUvarint }, noNull),
  fc.record({ kind: fc.constant('bytes' as const), v: fc.uint8Array({ maxLength: 40 }) }, noNull),
  fc.record(
    { kind: fc.constant('string' as const), v: fc.string({ unit: 'binary', maxLength: 20 }) },
    noNull,
  ),
)

function writeField(w: BinaryWriter, f: Field): void {
  switch (f.kind) {
    case 'u8':
      w.u8(f.v)
      return
    case 'bool':
      w.bool(f.v)
      return
    case 'u32':
      w.u32(f.v)
      return
    case 'uvarint':
      w.uvarint(f.v)
      return
    case 'bytes':
      w.bytes(f.v)
      return
    case 'string':
      w.string(f.v)
      return
  }
}

function readField(r: BinaryReader, kind: Field['kind']): Field {
  switch (kind) {
    case 'u8':
      return { kind, v: r.u8() }
    case 'bool':
      return { kind, v: r.bool() }
    case 'u32':
      return { kind, v: r.u32() }
    case 'uvarint':
      return { kind, v: r.uvarint() }
    case 'bytes':
      return { kind, v: r.bytes() }
    case 'string':
      return { kind, v: r.string() }
  }
}

function encode(fields: readonly Field[]): Uint8Array {
  // A tiny initial capacity makes every test exercise the writer's growth.
  const w = new BinaryWriter(1)
  for (const f of fields) writeField(w, f)
  return w.finish()
}

function decode(b: Uint8Array, kinds: readonly Field['kind'][]): Field[] {
  const r = new BinaryReader(b)
  const out = kinds.map((k) => readField(r, k))
  r.expectEnd('fields')
  return out
}

/** onlyCodecError runs f and fails unless it returns or throws a CodecError. */
function onlyCodecError(f: () => unknown): void {
  try {
    f()
  } catch (e) {
    if (!(e instanceof CodecError)) throw new Error(`threw a non-CodecError: ${String(e)}`, { cause: e })
  }
}

const uvarintBytes = (v: number) => new BinaryWriter().uvarint(v).finish()

describe('core/codec', () => {
  it('round-trips uvarints over all safe integers, 0 and 2^53 - 1 included', () => {
    for (const v of [0, Number.MAX_SAFE_INTEGER]) assert.equal(new BinaryReader(uvarintBytes(v)).uvarint(), v)
    fc.assert(
      fc.property(arbUvarint, (v) => {
        const b = uvarintBytes(v)
        assert.ok(b.length <= 8)
        const r = new BinaryReader(b)
        assert.equal(r.uvarint(), v)
        r.expectEnd('uvarint')
      }),
      { numRuns: 500 },
    )
  })

  it('encodes uvarints as LEB128', () => {
    assert.deepStrictEqual(uvarintBytes(0), Uint8Array.of(0))
    assert.deepStrictEqual(uvarintBytes(127), Uint8Array.of(0x7f))
    assert.deepStrictEqual(uvarintBytes(128), Uint8Array.of(0x80, 0x01))
    assert.deepStrictEqual(uvarintBytes(300), Uint8Array.of(0xac, 0x02))
    assert.equal(uvarintBytes(Number.MAX_SAFE_INTEGER).length, 8)
  })

  it('refuses to write what it cannot read back', () => {
    for (const v of [-1, 0.5, 2 ** 53, Number.NaN])
      assert.throws(() => new BinaryWriter().uvarint(v), RangeError)
  })

  it('round-trips any sequence of fields', () => {
    fc.assert(
      fc.property(fc.array(arbField, { maxLength: 12 }), (fields) => {
        const got = decode(
          encode(fields),
          fields.map((f) => f.kind),
        )
        assert.deepStrictEqual(got, fields)
      }),
    )
  })

  it('rejects every truncation with CodecError', () => {
    fc.assert(
      fc.property(fc.array(arbField, { minLength: 1, maxLength: 6 }), (fields) => {
        const b = encode(fields)
        const kinds = fields.map((f) => f.kind)
        for (let n = 0; n < b.length; n++) assert.throws(() => decode(b.subarray(0, n), kinds), CodecError)
      }),
      { numRuns: 100 },
    )
  })

  it('fails on random garbage only with CodecError', () => {
    const kinds = fc.array(
      fc.constantFrom<Field['kind']>('u8', 'bool', 'u32', 'uvarint', 'bytes', 'string'),
      { maxLength: 8 },
    )
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), kinds, (b, ks) => onlyCodecError(() => decode(b, ks))),
      { numRuns: 1000 },
    )
  })

  it('rejects non-canonical uvarints (a redundant zero group)', () => {
    assert.throws(() => new BinaryReader(Uint8Array.of(0x80, 0x00)).uvarint(), /non-canonical/)
    fc.assert(
      fc.property(arbUvarint, fc.nat(2), (v, extraGroups) => {
        // Set the continuation bit on the last byte and append zero groups: same value, longer form.
        const b = Array.from(uvarintBytes(v))
        b[b.length - 1]! |= 0x80
        for (let i = 0; i < extraGroups; i++) b.push(0x80)
        b.push(0x00)
        assert.throws(() => new BinaryReader(Uint8Array.from(b)).uvarint(), CodecError)
      }),
    )
  })

  it('rejects uvarints beyond 2^53 - 1 and longer than 8 bytes', () => {
    // 2^53 exactly: seven 0x80 groups then 0x10 (bit 53 is bit 4 of the eighth group).
    const twoTo53 = Uint8Array.of(0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x10)
    assert.throws(() => new BinaryReader(twoTo53).uvarint(), /overflows/)
    assert.throws(() => new BinaryReader(new Uint8Array(9).fill(0x81)).uvarint(), /longer than/)
  })

  it('rejects booleans other than 0 and 1, and invalid UTF-8', () => {
    assert.throws(() => new BinaryReader(Uint8Array.of(2)).bool(), /bad boolean/)
    assert.throws(() => new BinaryReader(Uint8Array.of(2, 0xc3, 0x28)).string(), /UTF-8/)
  })

  it('rejects trailing bytes', () => {
    const r = new BinaryReader(Uint8Array.of(1, 2))
    r.u8()
    assert.throws(() => r.expectEnd('x'), /1 unexpected trailing bytes/)
  })

  it('reads from a view into a larger buffer without straying outside it', () => {
    const big = Uint8Array.of(9, 9, 4, 3, 2, 1, 0, 9, 9)
    const r = new BinaryReader(big.subarray(2, 7))
    assert.equal(r.u32(), 0x01020304)
    assert.equal(r.u8(), 0)
    assert.throws(() => r.u8(), CodecError)
  })
})
