import type { Entry } from './events.js'

/**
 * Twins are pending definite operations with equal signatures (Model.signature): the same
 * request and the same observed outcome, so the same effect in every state. Among twins that
 * may both go next, the checker linearizes only the one that returns first. That loses nothing:
 * in any linearization where a later-returning twin B precedes an earlier-returning twin A, the
 * two can trade places — every operation placed between them was called before A returned (A
 * was still pending), hence before B returned — and states and results are unchanged. This
 * matters when many clients write values nobody reads (merged into one by the kv model's
 * prepare) or read the same value: without it the search would try every order of them.
 */

class TwinNode {
  prev: TwinNode | null = null
  next: TwinNode | null = null
  constructor(readonly entry: Entry | null) {}
}

export class Twins {
  /** nodes[slot] links a definite call into its group's pending list, by return order. */
  private readonly nodes: (TwinNode | undefined)[] = []

  /**
   * constructor groups `calls` (definite call entries) by `signature`; operations without a
   * twin are left out and always eligible.
   */
  constructor(calls: readonly Entry[], signature: (e: Entry) => string) {
    const groups = new Map<string, Entry[]>()
    for (const e of calls) {
      const k = signature(e)
      const g = groups.get(k)
      if (g === undefined) groups.set(k, [e])
      else g.push(e)
    }
    for (const g of groups.values()) {
      if (g.length < 2) continue
      g.sort((a, b) => (a.match as Entry).pos - (b.match as Entry).pos)
      let tail = new TwinNode(null)
      for (const e of g) {
        const n = new TwinNode(e)
        n.prev = tail
        tail.next = n
        tail = n
        this.nodes[e.slot] = n
      }
    }
  }

  /**
   * eligible says whether `e` may be linearized next when the earliest pending return is at
   * `limit`: no pending twin that returns earlier has been called before `limit`.
   */
  eligible(e: Entry, limit: number): boolean {
    const node = this.nodes[e.slot]
    if (node === undefined) return true
    let n = node.prev as TwinNode
    while (n.entry !== null) {
      if (n.entry.pos < limit) return false
      n = n.prev as TwinNode
    }
    return true
  }

  /** lift takes a linearized call out of its group; unlift undoes the latest lift (LIFO). */
  lift(e: Entry): void {
    const n = this.nodes[e.slot]
    if (n === undefined) return
    ;(n.prev as TwinNode).next = n.next
    if (n.next !== null) n.next.prev = n.prev
  }

  unlift(e: Entry): void {
    const n = this.nodes[e.slot]
    if (n === undefined) return
    ;(n.prev as TwinNode).next = n
    if (n.next !== null) n.next.prev = n
  }
}
