import { type Entry, EventList, lift, unlift } from './events.js'

/**
 * PendingUnknowns indexes the unknown operations not yet linearized, so that finding the ones
 * worth trying from a configuration costs about the number of candidates, not the number of
 * unknown operations in the history. That number grows with the history (most unknown
 * operations never take effect and stay pending to the end), and scanning them all at every
 * dead end would make the search quadratic.
 *
 * Operations with the same signature form a class: they are interchangeable, so only the
 * earliest-called pending one of a class is ever tried (any linearization using a later one may
 * use the earlier one in its place). A class is filed in named lists chosen by the caller (see
 * schedule.ts); it stays in them while it has a pending operation.
 */

/** Link is a class's place in one list; a list's head is a Link without a class. */
class Link {
  prev: Link | null = null
  next: Link | null = null
  constructor(readonly cls: UnknownClass | null) {}
}

/** UnknownClass is a set of interchangeable operations, its pending ones in call order. */
class UnknownClass {
  readonly pending = new EventList()
  readonly links: Link[] = []
  /** firstPos is the call position of the class's earliest operation. */
  constructor(readonly firstPos: number) {}
}

export class PendingUnknowns {
  private readonly heads = new Map<string, Link>()
  private readonly tails = new Map<string, Link>()
  /** classOf maps an entry's slot to its class. */
  private readonly classOf: UnknownClass[] = []

  /**
   * constructor groups `entries` (unknown calls in time order) into classes by signature, and
   * files each class in the lists `filing` names for its first operation. Lists keep classes in
   * order of their first call.
   */
  constructor(
    entries: readonly Entry[],
    signature: (e: Entry) => string,
    filing: (e: Entry) => readonly string[],
  ) {
    const classes = new Map<string, UnknownClass>()
    for (const e of entries) {
      const k = signature(e)
      let c = classes.get(k)
      if (c === undefined) {
        c = new UnknownClass(e.pos)
        classes.set(k, c)
        for (const list of filing(e)) this.append(list, c)
      }
      c.pending.append(e)
      this.classOf[e.slot] = c
    }
  }

  private append(list: string, c: UnknownClass): void {
    let tail = this.tails.get(list)
    if (tail === undefined) {
      tail = new Link(null)
      this.heads.set(list, tail)
    }
    const link = new Link(c)
    tail.next = link
    link.prev = tail
    this.tails.set(list, link)
    c.links.push(link)
  }

  /**
   * candidates calls `visit` with the earliest pending operation of every class in `list` that
   * has one called before `limit`.
   */
  candidates(list: string, limit: number, visit: (e: Entry) => void): void {
    const head = this.heads.get(list)
    if (head === undefined) return
    for (let l = head.next; l !== null; l = l.next) {
      const c = l.cls as UnknownClass
      if (c.firstPos >= limit) return
      const e = c.pending.head.next as Entry
      if (e.pos < limit) visit(e)
    }
  }

  /** lift removes a pending operation; its class leaves its lists when it has no more. */
  lift(e: Entry): void {
    const c = this.classOf[e.slot] as UnknownClass
    lift(e)
    if (c.pending.head.next !== null) return
    for (const l of c.links) {
      ;(l.prev as Link).next = l.next
      if (l.next !== null) l.next.prev = l.prev
    }
  }

  /** unlift undoes the latest lift not yet undone (LIFO, like the event list's). */
  unlift(e: Entry): void {
    const c = this.classOf[e.slot] as UnknownClass
    if (c.pending.head.next === null) {
      for (let i = c.links.length - 1; i >= 0; i--) {
        const l = c.links[i] as Link
        ;(l.prev as Link).next = l
        if (l.next !== null) l.next.prev = l
      }
    }
    unlift(e)
  }
}
