/**
 * The memo of the search: which configurations (linearized set, state) have been explored or
 * are scheduled to be. Porcupine keys it on (bitset, state); two refinements here:
 *
 * - Definite and unknown operations are kept apart. A configuration that linearized a superset
 *   of unknown operations, with the same definite set and state, is dominated: unknown
 *   operations may also never take effect, so whatever completes it completes the smaller one.
 *   Lookups therefore match on (definite set, state) and test the unknown sets for inclusion.
 * - Snapshots of the definite set are compact: the words below the first incomplete one are
 *   all ones and are not stored, so an entry costs the width of the in-flight window, not the
 *   whole history (a 100k-operation single-key history would otherwise need gigabytes).
 */

/** mix32 is MurmurHash3's finaliser: a cheap bijection on 32-bit integers that spreads bits. */
export function mix32(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b)
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35)
  return (x ^ (x >>> 16)) >>> 0
}

/**
 * DefiniteSet is the set of linearized definite operations, as a bitset with an incrementally
 * maintained Zobrist hash (XOR of mix32 of each member). Invariant: every word below `low` is
 * all ones and `low`'s is not (or low == words.length); every word at or above `high` is zero.
 */
export class DefiniteSet {
  readonly words: Uint32Array
  hash = 0
  low = 0
  high = 0
  constructor(readonly size: number) {
    this.words = new Uint32Array(Math.ceil(size / 32))
  }

  add(i: number): void {
    const w = i >>> 5
    this.words[w] = (this.words[w] as number) | (1 << (i & 31))
    this.hash = (this.hash ^ mix32(i + 1)) >>> 0
    if (w >= this.high) this.high = w + 1
    while (this.low < this.words.length && this.words[this.low] === 0xffffffff) this.low++
  }

  remove(i: number): void {
    const w = i >>> 5
    this.words[w] = (this.words[w] as number) & ~(1 << (i & 31))
    this.hash = (this.hash ^ mix32(i + 1)) >>> 0
    if (w < this.low) this.low = w
    while (this.high > 0 && this.words[this.high - 1] === 0) this.high--
  }

  /** snapshot returns the words in [low, high): with `low`, a canonical form of the set. */
  snapshot(): Uint32Array {
    return this.words.slice(this.low, Math.max(this.low, this.high))
  }

  /** equals says whether this set equals the one `snapshot()` returned when low was `low`. */
  equals(low: number, snap: Uint32Array): boolean {
    if (low !== this.low || snap.length !== Math.max(0, this.high - this.low)) return false
    for (let k = 0; k < snap.length; k++) if (snap[k] !== this.words[low + k]) return false
    return true
  }
}

/**
 * UnknownSet is a persistent stack of linearized unknown operations: the search pushes and pops
 * them in LIFO order, so a snapshot is just the current node and snapshots share their tails.
 */
export class UnknownSet {
  constructor(
    readonly slot: number,
    readonly parent: UnknownSet | null,
    readonly depth: number,
  ) {}

  static push(s: UnknownSet | null, slot: number): UnknownSet {
    return new UnknownSet(slot, s, s === null ? 1 : s.depth + 1)
  }
}

const depthOf = (s: UnknownSet | null): number => (s === null ? 0 : s.depth)

/** WALK_MAX bounds the members compared by isSubset. */
const WALK_MAX = 128

/**
 * isSubset says whether every member of `a` is a member of `b`. Members below the two stacks'
 * common ancestor are shared, and no stack holds a member twice, so only the members above it
 * need comparing: typically a handful. When the stacks parted more than WALK_MAX members ago it
 * answers false without looking further: the cache then prunes less, never wrongly.
 */
export function isSubset(a: UnknownSet | null, b: UnknownSet | null): boolean {
  if (depthOf(a) > depthOf(b) || depthOf(b) - depthOf(a) > WALK_MAX) return false
  const above: number[] = []
  while (depthOf(b) > depthOf(a)) {
    above.push((b as UnknownSet).slot)
    b = (b as UnknownSet).parent
  }
  const mine: number[] = []
  while (a !== b) {
    if (mine.length === WALK_MAX) return false
    mine.push((a as UnknownSet).slot)
    above.push((b as UnknownSet).slot)
    a = (a as UnknownSet).parent
    b = (b as UnknownSet).parent
  }
  if (mine.length === 0) return true
  const theirs = new Set(above)
  return mine.every((slot) => theirs.has(slot))
}

interface CacheEntry {
  readonly low: number
  readonly words: Uint32Array
  readonly state: number
  readonly unknown: UnknownSet | null
}

/** COMPARED_MAX bounds the unknown sets compared per lookup. */
const COMPARED_MAX = 8

/** Cache maps (definite set, state id) to the unknown sets explored with them. */
export class Cache {
  private readonly buckets = new Map<number, CacheEntry[]>()
  /** size counts entries, for the report and for tests. */
  size = 0

  /**
   * visit records the configuration and returns true, or returns false without recording it
   * when an entry with the same definite set and state and a subset of its unknowns exists.
   */
  visit(set: DefiniteSet, state: number, unknown: UnknownSet | null): boolean {
    const key = (set.hash ^ mix32(state + 0x9e3779b9)) >>> 0
    let bucket = this.buckets.get(key)
    if (bucket === undefined) {
      bucket = []
      this.buckets.set(key, bucket)
    }
    // Only the latest few entries of one (set, state) are compared: skipping a comparison can
    // only cost a re-exploration, never a wrong verdict, and it bounds the cost of a step when
    // many incomparable unknown sets pile up.
    let compared = 0
    for (let k = bucket.length - 1; k >= 0 && compared < COMPARED_MAX; k--) {
      const e = bucket[k] as CacheEntry
      if (e.state !== state || !set.equals(e.low, e.words)) continue
      compared++
      if (isSubset(e.unknown, unknown)) return false
    }
    bucket.push({ low: set.low, words: set.snapshot(), state, unknown })
    this.size++
    return true
  }
}
