import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { type Rng, seededRng } from '../../src/core/rng.js'

/** draw takes n mixed draws, so that a test sees every method's effect on the stream. */
function draw(rng: Rng, n: number): number[] {
  const out: number[] = []
  for (let i = 0; i < n; i++) out.push(i % 2 === 0 ? rng.int(0, 1_000_000) : rng.float())
  return out
}

const arbSeed = fc.oneof(
  fc.integer(),
  fc.maxSafeInteger(),
  fc.constantFrom(0, -1, 2 ** 32, Number.MAX_SAFE_INTEGER),
)

describe('core/rng', () => {
  it('gives the same sequence for the same seed', () => {
    fc.assert(
      fc.property(arbSeed, (seed) =>
        assert.deepStrictEqual(draw(seededRng(seed), 20), draw(seededRng(seed), 20)),
      ),
    )
  })

  it('gives different sequences for different seeds in [0, 2^32)', () => {
    // Not a law for every pair, but 20 draws of 10^6 values colliding would be a broken seeding.
    // Only [0, 2^32) is checked: seededRng folds a safe integer into the generator's 32-bit seed,
    // so wider seeds must collide somewhere, and today's fold makes -1 and 0 (and 2^32 + 1 and 0)
    // collide — worth knowing when a simulator derives seeds by arithmetic.
    const seed32 = fc.integer({ min: 0, max: 2 ** 32 - 1 })
    fc.assert(
      fc.property(seed32, seed32, (a, b) => {
        fc.pre(a !== b)
        assert.notDeepStrictEqual(draw(seededRng(a), 20), draw(seededRng(b), 20))
      }),
    )
  })

  it('keeps int within [lo, hi] and float within [0, 1)', () => {
    fc.assert(
      fc.property(arbSeed, fc.integer({ min: -1e12, max: 1e12 }), fc.nat(1000), (seed, lo, width) => {
        const rng = seededRng(seed)
        for (let i = 0; i < 20; i++) {
          const v = rng.int(lo, lo + width)
          assert.ok(
            Number.isSafeInteger(v) && v >= lo && v <= lo + width,
            `${v} not in [${lo}, ${lo + width}]`,
          )
          const f = rng.float()
          assert.ok(f >= 0 && f < 1, `float ${f}`)
        }
      }),
    )
  })

  it('covers a small range roughly uniformly', () => {
    const rng = seededRng(42)
    const counts = [0, 0, 0, 0, 0, 0]
    const n = 60_000
    for (let i = 0; i < n; i++) counts[rng.int(0, 5)]! += 1
    // Chi-square with 5 degrees of freedom; 20.5 is the 0.999 quantile.
    const chi = counts.reduce((s, c) => s + (c - n / 6) ** 2 / (n / 6), 0)
    assert.ok(chi < 20.5, `chi-square ${chi} for ${counts}`)
  })

  it('answers chance(0) false and chance(1) true', () => {
    const rng = seededRng(7)
    for (let i = 0; i < 100; i++) {
      assert.equal(rng.chance(0), false)
      assert.equal(rng.chance(1), true)
    }
  })

  it('rejects bad ranges, empty picks and unsafe seeds', () => {
    const rng = seededRng(1)
    assert.throws(() => rng.int(2, 1), RangeError)
    assert.throws(() => rng.int(0, 0.5), RangeError)
    assert.throws(() => rng.pick([]), RangeError)
    assert.throws(() => seededRng(1.5), RangeError)
  })

  it('forks a generator whose use does not disturb the parent', () => {
    fc.assert(
      fc.property(arbSeed, fc.nat(50), (seed, childDraws) => {
        const a = seededRng(seed)
        const b = seededRng(seed)
        const childA = a.fork()
        const childB = b.fork()
        // Same parent state gives the same child.
        assert.deepStrictEqual(draw(childA, 10), draw(childB, 10))
        draw(childA, childDraws)
        // However much the child drew, the parents continue alike.
        assert.deepStrictEqual(draw(a, 10), draw(b, 10))
      }),
    )
  })

  it('forks a generator with its own sequence', () => {
    fc.assert(
      fc.property(arbSeed, (seed) => {
        const parent = seededRng(seed)
        const child = parent.fork()
        const sibling = parent.fork()
        const p = draw(parent, 20)
        assert.notDeepStrictEqual(draw(child, 20), p)
        assert.notDeepStrictEqual(draw(sibling, 20), draw(seededRng(seed).fork(), 20))
      }),
    )
  })

  it('shuffles into a permutation and leaves the input alone', () => {
    fc.assert(
      fc.property(arbSeed, fc.array(fc.integer(), { maxLength: 30 }), (seed, items) => {
        const before = items.slice()
        const out = seededRng(seed).shuffle(items)
        assert.deepStrictEqual(items, before)
        assert.deepStrictEqual(
          out.slice().sort((x, y) => x - y),
          items.slice().sort((x, y) => x - y),
        )
      }),
    )
  })

  it('picks only elements of the array', () => {
    fc.assert(
      fc.property(arbSeed, fc.array(fc.string(), { minLength: 1, maxLength: 10 }), (seed, items) => {
        const rng = seededRng(seed)
        for (let i = 0; i < 10; i++) assert.ok(items.includes(rng.pick(items)))
      }),
    )
  })
})
