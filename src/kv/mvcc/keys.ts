/**
 * Keys inside the store are "byte strings": one UTF-16 code unit per byte (0..255). JavaScript
 * compares such strings code unit by code unit, which is exactly the byte-wise order etcd uses,
 * so a sorted array of them is the key index and Map lookups need no custom hashing.
 */
export type KeyString = string & { readonly __keyString: true }

const CHUNK = 8192

/** keyString encodes bytes as a byte string (see the file comment). */
export function keyString(b: Uint8Array): KeyString {
  let s = ''
  for (let i = 0; i < b.length; i += CHUNK) s += String.fromCharCode(...b.subarray(i, i + CHUNK))
  return s as KeyString
}

/** keyBytes is keyString's inverse. */
export function keyBytes(s: KeyString): Uint8Array {
  const out = new Uint8Array(s.length)
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i)
  return out
}

/**
 * KeySpan is the half-open interval [start, end) of byte strings a request names.
 * Invariant: end === null means unbounded above.
 */
export interface KeySpan {
  readonly start: KeyString
  readonly end: KeyString | null
}

/**
 * spanOf maps etcd's (key, range_end) to a span: an absent or empty rangeEnd names the single key
 * (the next byte string after `key` is key + "\0"); a rangeEnd of one zero byte names every key
 * >= key; any other rangeEnd is the exclusive upper bound (empty when rangeEnd <= key).
 */
export function spanOf(key: Uint8Array, rangeEnd?: Uint8Array): KeySpan {
  const start = keyString(key)
  if (rangeEnd === undefined || rangeEnd.length === 0) return { start, end: `${start}\0` as KeyString }
  if (rangeEnd.length === 1 && rangeEnd[0] === 0) return { start, end: null }
  return { start, end: keyString(rangeEnd) }
}

/** inSpan says whether `k` lies in `span`. */
export const inSpan = (span: KeySpan, k: KeyString): boolean =>
  k >= span.start && (span.end === null || k < span.end)

/** lowerBound returns the first index i of the sorted `keys` with keys[i] >= k (keys.length if none). */
export function lowerBound(keys: readonly string[], k: string): number {
  let lo = 0
  let hi = keys.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if ((keys[mid] as string) < k) lo = mid + 1
    else hi = mid
  }
  return lo
}

/** keysInSpan returns the keys of the sorted `keys` that lie in `span`, in order. */
export function keysInSpan(keys: readonly KeyString[], span: KeySpan): KeyString[] {
  const out: KeyString[] = []
  for (let i = lowerBound(keys, span.start); i < keys.length; i++) {
    const k = keys[i] as KeyString
    if (span.end !== null && k >= span.end) break
    out.push(k)
  }
  return out
}

/** compareBytes orders byte arrays as etcd (Go's bytes.Compare) does: -1, 0 or 1. */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) {
    const d = (a[i] as number) - (b[i] as number)
    if (d !== 0) return d < 0 ? -1 : 1
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1
}
