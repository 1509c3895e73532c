import type { KeyString } from './keys.js'
import { NO_LEASE } from './types.js'

/**
 * LeaseIndex maps a lease id to the live keys attached to it, so expiring a lease costs the keys
 * it holds rather than a scan of the store. It follows only the latest version of each key:
 * history and compaction do not concern it.
 */
export class LeaseIndex {
  /** Invariant: no empty sets; no NO_LEASE entry; a key appears under at most one lease. */
  private readonly keys = new Map<number, Set<KeyString>>()

  /** move records that `key`'s live version went from lease `from` to lease `to` (NO_LEASE: none/dead). */
  move(key: KeyString, from: number, to: number): void {
    if (from === to) return
    if (from !== NO_LEASE) {
      const set = this.keys.get(from)
      set?.delete(key)
      if (set?.size === 0) this.keys.delete(from)
    }
    if (to !== NO_LEASE) {
      let set = this.keys.get(to)
      if (set === undefined) {
        set = new Set()
        this.keys.set(to, set)
      }
      set.add(key)
    }
  }

  /** keysOf returns the live keys attached to `lease`, sorted. */
  keysOf(lease: number): KeyString[] {
    return [...(this.keys.get(lease) ?? [])].sort()
  }

  /** entries lists (lease, sorted keys) pairs sorted by lease, for invariant checks. */
  entries(): [number, KeyString[]][] {
    return [...this.keys.keys()].sort((a, b) => a - b).map((l) => [l, this.keysOf(l)])
  }
}
