import { assert } from '../assert.js'
import { type BinaryReader, type BinaryWriter, CodecError, decodeExactly, encodeWith } from '../codec.js'
import { type NodeId, nodeId } from '../ids.js'

/**
 * VectorClock is an immutable map NodeId → counter (Fidge 1988, Mattern 1989). Unlike a Lamport
 * clock it characterises causality exactly: a happened before b if and only if V(a) < V(b)
 * pointwise, and two events are concurrent if and only if neither vector dominates the other.
 *
 * A missing node counts as 0, and zero counters are never stored, so two equal clocks have the
 * same entries (and the same encoding). Every operation returns a new clock.
 *
 * Invariant: entries are sorted by node id; every node id is >= 1; every counter is a safe
 * integer >= 1.
 */
export class VectorClock {
  static readonly EMPTY = new VectorClock([])

  private constructor(private readonly sorted: readonly (readonly [NodeId, number])[]) {}

  /** from builds a clock from (node, counter) pairs in any order; zero counters are dropped. */
  static from(entries: Iterable<readonly [NodeId, number]>): VectorClock {
    const m = new Map<NodeId, number>()
    for (const [node, n] of entries) {
      assert(Number.isSafeInteger(node) && node >= 1, () => `vector clock: bad node ${node}`)
      assert(Number.isSafeInteger(n) && n >= 0, () => `vector clock: bad counter ${n} for node ${node}`)
      assert(!m.has(node), () => `vector clock: node ${node} given twice`)
      m.set(node, n)
    }
    const sorted = [...m].filter(([, n]) => n > 0).sort(([a], [b]) => a - b)
    return new VectorClock(sorted)
  }

  /** get returns `node`'s counter, 0 if the clock has never heard of it. */
  get(node: NodeId): number {
    for (const [k, n] of this.sorted) if (k === node) return n
    return 0
  }

  /** entries lists the non-zero counters in increasing node order. */
  entries(): readonly (readonly [NodeId, number])[] {
    return this.sorted
  }

  /** increment returns this clock with `node`'s counter one higher: `node` had an event. */
  increment(node: NodeId): VectorClock {
    const n = this.get(node)
    assert(n < Number.MAX_SAFE_INTEGER, 'vector clock: counter exhausted the safe integers')
    const rest = this.sorted.filter(([k]) => k !== node)
    return VectorClock.from([...rest, [node, n + 1]])
  }

  /** merge returns the pointwise maximum: the clock of an event that has seen both histories. */
  merge(other: VectorClock): VectorClock {
    const out: [NodeId, number][] = []
    const a = this.sorted
    const b = other.sorted
    let i = 0
    let j = 0
    // A merge of two sorted lists keeps the result sorted without a sort.
    while (i < a.length || j < b.length) {
      const x = a[i]
      const y = b[j]
      if (y === undefined || (x !== undefined && x[0] < y[0])) {
        out.push([x![0], x![1]])
        i++
      } else if (x === undefined || y[0] < x[0]) {
        out.push([y[0], y[1]])
        j++
      } else {
        out.push([x[0], Math.max(x[1], y[1])])
        i++
        j++
      }
    }
    return new VectorClock(out)
  }

  /** compare relates this clock to `other`; see the module function `compare`. */
  compare(other: VectorClock): Ordering {
    return compare(this, other)
  }

  toString(): string {
    return `{${this.sorted.map(([k, n]) => `${k}:${n}`).join(' ')}}`
  }
}

/** Ordering is how two events relate causally. */
export type Ordering = 'before' | 'after' | 'equal' | 'concurrent'

/**
 * compare returns 'before' if a happened before b (a ≤ b pointwise and a ≠ b), 'after' if b
 * happened before a, 'equal' if they are the same, and 'concurrent' otherwise.
 */
export function compare(a: VectorClock, b: VectorClock): Ordering {
  const x = a.entries()
  const y = b.entries()
  let less = false
  let greater = false
  let i = 0
  let j = 0
  // Walk both sorted lists at once; a node missing on one side counts as 0 there.
  while (i < x.length || j < y.length) {
    const p = x[i]
    const q = y[j]
    if (q === undefined || (p !== undefined && p[0] < q[0])) {
      greater = true
      i++
    } else if (p === undefined || q[0] < p[0]) {
      less = true
      j++
    } else {
      if (p[1] < q[1]) less = true
      else if (p[1] > q[1]) greater = true
      i++
      j++
    }
    if (less && greater) return 'concurrent'
  }
  if (less) return 'before'
  if (greater) return 'after'
  return 'equal'
}

/** happenedBefore says whether the event stamped `a` happened before the one stamped `b`. */
export function happenedBefore(a: VectorClock, b: VectorClock): boolean {
  return compare(a, b) === 'before'
}

// ---- codec: count, then (node, counter) pairs in increasing node order ------------------------

export function writeVectorClock(w: BinaryWriter, v: VectorClock): void {
  const es = v.entries()
  w.uvarint(es.length)
  for (const [node, n] of es) w.uvarint(node).uvarint(n)
}

/**
 * readVectorClock accepts only the canonical form: nodes >= 1 in strictly increasing order and
 * counters >= 1. Anything else is a CodecError, so one clock has exactly one encoding.
 */
export function readVectorClock(r: BinaryReader): VectorClock {
  const count = r.uvarint()
  // Each entry takes at least two bytes; a larger count is forged.
  if (count * 2 > r.remaining)
    throw new CodecError(`vector clock: ${count} entries cannot fit in ${r.remaining} bytes`)
  const es: [NodeId, number][] = []
  let prev = 0
  for (let i = 0; i < count; i++) {
    const node = r.uvarint()
    const n = r.uvarint()
    if (node <= prev)
      throw new CodecError(`vector clock: node ${node} not above ${prev} (zero or out of order)`)
    if (n === 0) throw new CodecError(`vector clock: zero counter for node ${node}`)
    es.push([nodeId(node), n])
    prev = node
  }
  return VectorClock.from(es)
}

export function encodeVectorClock(v: VectorClock): Uint8Array {
  return encodeWith(writeVectorClock, v, 1 + 16 * v.entries().length)
}

export function decodeVectorClock(b: Uint8Array): VectorClock {
  return decodeExactly(readVectorClock, b, 'vector clock')
}
