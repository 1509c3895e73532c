import assert from 'node:assert/strict'
import type { KeyValue, Outcome } from '../../../src/kv/mvcc/types.js'

/** b encodes a test key or value as bytes (keys here are short latin-1 strings). */
export const b = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0))

/** str decodes bytes written by b. */
export const str = (u: Uint8Array): string => String.fromCharCode(...u)

/** value returns an Outcome's value, failing the test with its error otherwise. */
export function value<T>(o: Outcome<T>): T {
  if (!o.ok) assert.fail(`unexpected error: ${o.error.message}`)
  return o.value
}

/** errorOf returns an Outcome's error message, failing the test if it succeeded. */
export function errorOf<T>(o: Outcome<T>): string {
  if (o.ok) assert.fail('expected an error')
  return o.error.message
}

/** view shows a key-value compactly: "key=value c2 m3 v2 l0". */
export const view = (kv: KeyValue | undefined): string | undefined =>
  kv === undefined
    ? undefined
    : `${str(kv.key)}=${str(kv.value)} c${kv.createRevision} m${kv.modRevision} v${kv.version} l${kv.lease}`
