import { BinaryReader, BinaryWriter } from '../core/codec.js'

/**
 * Commands, queries and results of the register KV (register-kv.ts): a map of string keys to
 * string values with get / put / compare-and-set / delete — the model the simulator's workloads
 * and the linearizability checker's `kv` model speak. Encoded with the core codec; decoding
 * untrusted bytes fails with CodecError, never with a wrong command.
 */
export type KvCommand =
  | { readonly f: 'put'; readonly key: string; readonly value: string }
  /** cas: set `value` if the key holds `expected` (null: the key must be absent). */
  | { readonly f: 'cas'; readonly key: string; readonly expected: string | null; readonly value: string }
  | { readonly f: 'delete'; readonly key: string }

export interface KvQuery {
  readonly f: 'get'
  readonly key: string
}

const PUT = 1
const CAS = 2
const DELETE = 3
const GET = 4

function writeOptional(w: BinaryWriter, s: string | null): void {
  w.bool(s !== null)
  if (s !== null) w.string(s)
}

function readOptional(r: BinaryReader): string | null {
  return r.bool() ? r.string() : null
}

export function encodeKvCommand(c: KvCommand): Uint8Array {
  const w = new BinaryWriter(32 + c.key.length)
  switch (c.f) {
    case 'put':
      return w.u8(PUT).string(c.key).string(c.value).finish()
    case 'cas':
      w.u8(CAS).string(c.key)
      writeOptional(w, c.expected)
      return w.string(c.value).finish()
    case 'delete':
      return w.u8(DELETE).string(c.key).finish()
  }
}

export function decodeKvCommand(b: Uint8Array): KvCommand {
  const r = new BinaryReader(b)
  const op = r.u8()
  let c: KvCommand
  if (op === PUT) c = { f: 'put', key: r.string(), value: r.string() }
  else if (op === CAS) c = { f: 'cas', key: r.string(), expected: readOptional(r), value: r.string() }
  else if (op === DELETE) c = { f: 'delete', key: r.string() }
  else throw new RangeError(`kv: unknown command ${op}`)
  r.expectEnd('kv command')
  return c
}

export function encodeKvQuery(q: KvQuery): Uint8Array {
  return new BinaryWriter(16 + q.key.length).u8(GET).string(q.key).finish()
}

export function decodeKvQuery(b: Uint8Array): KvQuery {
  const r = new BinaryReader(b)
  if (r.u8() !== GET) throw new RangeError('kv: unknown query')
  const q: KvQuery = { f: 'get', key: r.string() }
  r.expectEnd('kv query')
  return q
}

/** A result is a value or null: get's value, cas's and delete's success as "true"/"false". */
export function encodeKvResult(v: string | null): Uint8Array {
  const w = new BinaryWriter(8 + (v?.length ?? 0))
  writeOptional(w, v)
  return w.finish()
}

export function decodeKvResult(b: Uint8Array): string | null {
  const r = new BinaryReader(b)
  const v = readOptional(r)
  r.expectEnd('kv result')
  return v
}
