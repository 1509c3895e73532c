import { assert } from '../../core/assert.js'

/** Deadline is one heap entry: a lease and the millisecond time it is due. */
export interface Deadline {
  readonly id: number
  readonly atMs: number
}

/** before orders deadlines by (atMs, id): ties break by id, so the order is deterministic. */
const before = (a: Deadline, b: Deadline): boolean => a.atMs < b.atMs || (a.atMs === b.atMs && a.id < b.id)

/**
 * DeadlineHeap is an indexed binary min-heap of deadlines keyed by (atMs, id), at most one per
 * lease id. set, remove and pop cost O(log n); peek and get O(1). (etcd's LeaseQueue is a
 * container/heap too, but with stale entries skipped lazily; indexing keeps this one exact.)
 */
export class DeadlineHeap {
  /** Invariant: heap order; pos.get(items[i].id) === i for every i; ids distinct. */
  private readonly items: Deadline[] = []
  private readonly pos = new Map<number, number>()

  get size(): number {
    return this.items.length
  }

  /** get returns lease `id`'s deadline, or undefined. */
  get(id: number): number | undefined {
    const i = this.pos.get(id)
    return i === undefined ? undefined : this.items[i]?.atMs
  }

  /** peek returns the earliest deadline without removing it. */
  peek(): Deadline | undefined {
    return this.items[0]
  }

  /** set inserts lease `id` due at `atMs`, or moves its existing deadline there. */
  set(id: number, atMs: number): void {
    const entry = { id, atMs }
    const i = this.pos.get(id)
    if (i === undefined) {
      this.items.push(entry)
      this.pos.set(id, this.items.length - 1)
      this.up(this.items.length - 1)
      return
    }
    this.items[i] = entry
    this.down(this.up(i))
  }

  /** remove deletes lease `id`'s deadline and says whether there was one. */
  remove(id: number): boolean {
    const i = this.pos.get(id)
    if (i === undefined) return false
    const last = this.items.pop() as Deadline
    this.pos.delete(id)
    if (i < this.items.length) {
      this.items[i] = last
      this.pos.set(last.id, i)
      this.down(this.up(i))
    }
    return true
  }

  /** pop removes and returns the earliest deadline. */
  pop(): Deadline | undefined {
    const top = this.items[0]
    if (top !== undefined) this.remove(top.id)
    return top
  }

  clear(): void {
    this.items.length = 0
    this.pos.clear()
  }

  private swap(i: number, j: number): void {
    const a = this.items[i] as Deadline
    const b = this.items[j] as Deadline
    this.items[i] = b
    this.items[j] = a
    this.pos.set(b.id, i)
    this.pos.set(a.id, j)
  }

  /** up sifts entry i towards the root and returns where it ended. */
  private up(i: number): number {
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (!before(this.items[i] as Deadline, this.items[parent] as Deadline)) break
      this.swap(i, parent)
      i = parent
    }
    return i
  }

  private down(i: number): void {
    const n = this.items.length
    for (;;) {
      const l = 2 * i + 1
      const r = l + 1
      let least = i
      if (l < n && before(this.items[l] as Deadline, this.items[least] as Deadline)) least = l
      if (r < n && before(this.items[r] as Deadline, this.items[least] as Deadline)) least = r
      if (least === i) return
      this.swap(i, least)
      i = least
    }
  }

  /** checkInvariants asserts heap order and the index. O(n), for tests. */
  checkInvariants(): void {
    assert(this.pos.size === this.items.length, 'heap index size mismatch')
    this.items.forEach((e, i) => {
      assert(this.pos.get(e.id) === i, () => `heap index of ${e.id} is wrong`)
      const parent = this.items[(i - 1) >> 1]
      assert(i === 0 || !before(e, parent as Deadline), () => `heap order broken at ${i}`)
    })
  }
}
