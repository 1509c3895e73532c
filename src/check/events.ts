import type { Timed } from './model.js'

/**
 * The search walks a doubly linked list of call and return events (Wing & Gong 1993; Lowe,
 * "Testing for linearizability", 2017; Porcupine's checker.go). Linearizing an operation lifts
 * its call and return out of the list; backtracking puts them back, in LIFO order, so the
 * removed entries' own prev/next pointers stay valid ("dancing links").
 */

/** Entry is one event. Invariant: a call's `match` is its return, or null for an unknown op. */
export class Entry {
  prev: Entry | null = null
  next: Entry | null = null
  match: Entry | null = null
  constructor(
    /** op is the operation's index in the searched list. */
    readonly op: number,
    readonly isCall: boolean,
    /** pos is the event's rank in time order, shared by both lists. */
    readonly pos: number,
    /** slot is the op's bit in the linearized set: definite and unknown ops count separately. */
    readonly slot: number,
  ) {}
}

/** EventList is a sentinel-headed list; `head.next` is the earliest pending event. */
export class EventList {
  readonly head = new Entry(-1, false, -1, -1)
  private tail: Entry = this.head

  append(e: Entry): void {
    e.prev = this.tail
    this.tail.next = e
    this.tail = e
  }
}

/** lift removes a call entry and, for a definite op, its return. */
export function lift(call: Entry): void {
  unlink(call)
  if (call.match !== null) unlink(call.match)
}

/** unlift undoes the most recent lift that has not been undone; lifts must unwind in LIFO order. */
export function unlift(call: Entry): void {
  if (call.match !== null) relink(call.match)
  relink(call)
}

function unlink(e: Entry): void {
  ;(e.prev as Entry).next = e.next
  if (e.next !== null) e.next.prev = e.prev
}

function relink(e: Entry): void {
  ;(e.prev as Entry).next = e
  if (e.next !== null) e.next.prev = e
}

/** Events holds the events of one search. */
export interface Events {
  /** definite holds the calls and returns of operations that certainly took effect. */
  readonly definite: EventList
  /** unknown holds the calls of unknown operations, in time order; they have no return, so they never block. */
  readonly unknown: readonly Entry[]
  readonly definiteCount: number
  readonly unknownCount: number
  /** returnOrder ranks each op's return event (definite ops only; -1 for unknown ones). */
  readonly returnOrder: readonly number[]
}

/**
 * buildEvents sorts the events of `ops` (indices `active` of them) by time. At equal times
 * calls come before returns: the checker never assumes an order finer than the clock, so an
 * operation returning at t and one called at t count as concurrent.
 */
export function buildEvents(ops: readonly Timed[], active: readonly number[]): Events {
  const raw: { op: number; time: number; isCall: boolean }[] = []
  for (const i of active) {
    const op = ops[i] as Timed
    raw.push({ op: i, time: op.call, isCall: true })
    if (op.return !== null) raw.push({ op: i, time: op.return, isCall: false })
  }
  raw.sort((a, b) => a.time - b.time || Number(b.isCall) - Number(a.isCall) || a.op - b.op)
  const definite = new EventList()
  const unknown: Entry[] = []
  const calls = new Map<number, Entry>()
  const returnOrder = new Array<number>(ops.length).fill(-1)
  let definiteCount = 0
  let unknownCount = 0
  raw.forEach((r, pos) => {
    const isDefinite = (ops[r.op] as Timed).return !== null
    if (!r.isCall) {
      const call = calls.get(r.op) as Entry
      const ret = new Entry(r.op, false, pos, call.slot)
      call.match = ret
      ret.match = call
      returnOrder[r.op] = pos
      definite.append(ret)
    } else if (isDefinite) {
      const call = new Entry(r.op, true, pos, definiteCount++)
      calls.set(r.op, call)
      definite.append(call)
    } else {
      unknown.push(new Entry(r.op, true, pos, unknownCount++))
    }
  })
  return { definite, unknown, definiteCount, unknownCount, returnOrder }
}
