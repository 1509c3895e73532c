import { assert } from '../../core/assert.js'
import type { Index } from '../../core/ids.js'

/**
 * Inflights bounds the MsgApps in flight to one follower, by count and by bytes, so a leader
 * pipelines (many appends outstanding) without flooding a slow follower. Each entry is the last
 * index a MsgApp carried; an acknowledgement up to index i frees every message ending at or
 * before i.
 */
export class Inflights {
  private readonly lastIndexes: Index[] = []
  private readonly sizes: number[] = []
  private bytes = 0

  constructor(
    private readonly countMax: number,
    /** 0 means no byte limit. */
    private readonly bytesMax: number,
  ) {}

  full(): boolean {
    return this.lastIndexes.length >= this.countMax || (this.bytesMax > 0 && this.bytes >= this.bytesMax)
  }

  count(): number {
    return this.lastIndexes.length
  }

  add(lastIndex: Index, bytes: number): void {
    assert(!this.full(), 'inflights: add when full')
    const prev = this.lastIndexes[this.lastIndexes.length - 1]
    assert(prev === undefined || lastIndex > prev, 'inflights: indexes must increase')
    this.lastIndexes.push(lastIndex)
    this.sizes.push(bytes)
    this.bytes += bytes
  }

  /** freeLE frees the messages whose last index is <= i. */
  freeLE(i: Index): void {
    let k = 0
    while (k < this.lastIndexes.length && (this.lastIndexes[k] as Index) <= i) {
      this.bytes -= this.sizes[k] as number
      k++
    }
    if (k > 0) {
      this.lastIndexes.splice(0, k)
      this.sizes.splice(0, k)
    }
  }

  /** freeFirst frees the oldest message, whatever its index (it was probably lost). */
  freeFirst(): void {
    const first = this.lastIndexes[0]
    if (first !== undefined) this.freeLE(first)
  }

  reset(): void {
    this.lastIndexes.length = 0
    this.sizes.length = 0
    this.bytes = 0
  }
}
