import { uniformInt } from 'pure-rand/distribution/uniformInt'
import { xoroshiro128plus, xoroshiro128plusFromState } from 'pure-rand/generator/xoroshiro128plus'
import type { RandomGenerator } from 'pure-rand/types/RandomGenerator'

/**
 * Rng is the only source of randomness a pure core may use. It is passed in at construction,
 * so a run is reproducible from its seed (TigerBeetle's prng, FoundationDB's deterministicRandom).
 */
export interface Rng {
  /** int returns a uniformly chosen integer in [lo, hi], both included. */
  int(lo: number, hi: number): number
  /** float returns a uniformly chosen number in [0, 1). */
  float(): number
  /** chance returns true with probability p. */
  chance(p: number): boolean
  /** pick returns a uniformly chosen element of a non-empty array. */
  pick<T>(items: readonly T[]): T
  /** shuffle returns a new array with the items in a uniformly random order. */
  shuffle<T>(items: readonly T[]): T[]
  /** fork returns an independent generator seeded from this one, for a sub-component. */
  fork(): Rng
}

const FLOAT_STEPS = 2 ** 31
const WARM_UP_STEPS = 16

class SeededRng implements Rng {
  constructor(private readonly gen: RandomGenerator) {}

  int(lo: number, hi: number): number {
    if (!(Number.isSafeInteger(lo) && Number.isSafeInteger(hi) && lo <= hi)) {
      throw new RangeError(`rng.int: bad range [${lo}, ${hi}]`)
    }
    return uniformInt(this.gen, lo, hi)
  }

  float(): number {
    return uniformInt(this.gen, 0, FLOAT_STEPS - 1) / FLOAT_STEPS
  }

  chance(p: number): boolean {
    return p > 0 && (p >= 1 || this.float() < p)
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('rng.pick: empty array')
    return items[this.int(0, items.length - 1)] as T
  }

  shuffle<T>(items: readonly T[]): T[] {
    const out = items.slice()
    for (let i = out.length - 1; i > 0; i--) {
      const j = this.int(0, i)
      const tmp = out[i] as T
      out[i] = out[j] as T
      out[j] = tmp
    }
    return out
  }

  fork(): Rng {
    return new SeededRng(xoroshiro128plus(this.int(0, 0x7fffffff)))
  }
}

/**
 * seededRng returns a deterministic generator: the same seed gives the same sequence everywhere,
 * and distinct safe-integer seeds give distinct generators (the whole seed becomes the state).
 */
export function seededRng(seed: number): Rng {
  if (!Number.isSafeInteger(seed)) throw new RangeError(`seed must be an integer, got ${seed}`)
  const lo = seed >>> 0
  const hi = Math.floor(seed / 2 ** 32) | 0
  // Two halves of the seed spread over the 128-bit state; the constant keeps the state non-zero.
  const gen = xoroshiro128plusFromState([hi, lo, hi ^ 0x6a09e667, lo ^ 0xbb67ae85])
  // A state with few set bits gives poorly mixed first outputs; run the generator in first.
  for (let i = 0; i < WARM_UP_STEPS; i++) gen.next()
  return new SeededRng(gen)
}
