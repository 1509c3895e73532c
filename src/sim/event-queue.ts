import { assert } from '../core/assert.js'
import type { Brand } from '../core/ids.js'

/**
 * The simulator's scheduler: one queue of callbacks ordered by virtual time. Nothing in a
 * simulation happens except by an event of this queue, so a run is a pure function of the calls
 * made on it (FoundationDB's Sim2 run loop, TigerBeetle's VOPR tick loop).
 *
 * Time is virtual milliseconds as a finite number starting at 0. It need not be an integer: the
 * network and the fault disk draw whole milliseconds, but a drifting clock ticks at fractional
 * times. Events at the same time run in the order they were scheduled, so ordering depends on
 * nothing but the calls — never on heap internals, object identity or the wall clock.
 */

/** EventId names a scheduled event, for cancel(). Ids are never reused within a queue. */
export type EventId = Brand<number, 'EventId'>

interface Event {
  readonly time: number
  /** seq is the insertion order; it breaks ties of time and doubles as the EventId. */
  readonly seq: number
  readonly fn: () => void
  readonly label: string
  cancelled: boolean
}

/** COMPACT_SLACK: cancelled events may pile up this far beyond the live ones before a rebuild. */
const COMPACT_SLACK = 1024

export class EventQueue {
  private time = 0
  private seqNext = 0
  /** Invariant: a binary min-heap by (time, seq); may hold cancelled events (lazy deletion). */
  private heap: Event[] = []
  /** Invariant: pending holds exactly the scheduled events that neither ran nor were cancelled. */
  private readonly pending = new Map<number, Event>()
  private running = false
  private hashHi = 0xcbf29ce4
  private hashLo = 0x84222325
  private readonly counters = { executed: 0 }

  /** stats counts the events that ran. */
  get stats(): { readonly executed: number } {
    return this.counters
  }

  /** now returns the current virtual time in milliseconds. */
  now(): number {
    return this.time
  }

  /** size is the number of events scheduled and neither run nor cancelled. */
  get size(): number {
    return this.pending.size
  }

  /** at schedules `fn` at virtual time `time`; throws RangeError unless now() <= time < ∞. */
  at(time: number, fn: () => void, label: string): EventId {
    if (!(Number.isFinite(time) && time >= this.time)) {
      throw new RangeError(`event '${label}' at ${time} is before now (${this.time}) or not finite`)
    }
    const e: Event = { time, seq: this.seqNext++, fn, label, cancelled: false }
    this.pending.set(e.seq, e)
    this.push(e)
    return e.seq as EventId
  }

  /** after schedules `fn` `delayMs` after now(); throws RangeError on a negative or infinite delay. */
  after(delayMs: number, fn: () => void, label: string): EventId {
    if (!(Number.isFinite(delayMs) && delayMs >= 0))
      throw new RangeError(`event '${label}': delay ${delayMs}`)
    return this.at(this.time + delayMs, fn, label)
  }

  /** cancel unschedules an event; cancelling one that ran or was cancelled already does nothing. */
  cancel(id: EventId): void {
    const e = this.pending.get(id)
    if (!e) return
    e.cancelled = true
    this.pending.delete(id)
    // Lazy deletion leaves the event in the heap; rebuild when the dead outnumber the living by far,
    // so that a workload that cancels most of its timers keeps a heap of its live size.
    if (this.heap.length > 2 * this.pending.size + COMPACT_SLACK) this.compact()
  }

  /** nextTime returns the time of the earliest scheduled event, or undefined if there is none. */
  nextTime(): number | undefined {
    this.dropCancelledTop()
    return this.heap[0]?.time
  }

  /**
   * runNext runs the earliest event (ties: the earliest scheduled), moving now() to its time.
   * Returns false, doing nothing, if no event is scheduled. Events must not call runNext or
   * runUntil themselves (asserted): a nested run would reorder time.
   */
  runNext(): boolean {
    assert(!this.running, 'EventQueue: runNext called from inside an event')
    this.dropCancelledTop()
    const e = this.pop()
    if (!e) return false
    this.pending.delete(e.seq)
    this.time = e.time
    this.counters.executed++
    this.mix(e.time, e.label)
    this.running = true
    try {
      e.fn()
    } finally {
      this.running = false
    }
    return true
  }

  /**
   * runUntil runs events with time <= `time`, at most `eventsMax` of them, and returns how many
   * ran. If it ran them all, now() becomes `time`; if it stopped at the bound, now() stays at the
   * last event run, so that the remaining events are still in the future (compare the result
   * with `eventsMax` to tell). Throws RangeError if `time` < now().
   */
  runUntil(time: number, eventsMax: number): number {
    if (!(Number.isFinite(time) && time >= this.time)) {
      throw new RangeError(`runUntil(${time}) is before now (${this.time}) or not finite`)
    }
    if (!(Number.isSafeInteger(eventsMax) && eventsMax >= 0)) throw new RangeError(`eventsMax ${eventsMax}`)
    let ran = 0
    while (ran < eventsMax) {
      const next = this.nextTime()
      if (next === undefined || next > time) break
      this.runNext()
      ran++
    }
    const next = this.nextTime()
    if (next === undefined || next > time) this.time = time
    return ran
  }

  /**
   * traceHash returns a 64-bit FNV-1a hash, as 16 hex digits, over the time and label of every
   * event run so far, in order. Two runs with equal hashes ran the same events at the same times.
   */
  traceHash(): string {
    return (
      (this.hashHi >>> 0).toString(16).padStart(8, '0') + (this.hashLo >>> 0).toString(16).padStart(8, '0')
    )
  }

  private mix(time: number, label: string): void {
    const s = `${time}\u0000${label}\u0000`
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i)
      this.mixByte(c & 0xff)
      if (c > 0xff) this.mixByte(c >>> 8)
    }
  }

  /** mixByte is one FNV-1a step on a 64-bit state kept as two 32-bit halves (prime 2^40 + 0x1b3). */
  private mixByte(b: number): void {
    const lo = (this.hashLo ^ b) >>> 0
    const product = lo * 0x1b3 // < 2^41: exact in a double
    this.hashLo = product >>> 0
    this.hashHi = (Math.imul(this.hashHi, 0x1b3) + Math.floor(product / 2 ** 32) + (lo << 8)) >>> 0
  }

  private dropCancelledTop(): void {
    while (this.heap[0]?.cancelled) this.pop()
  }

  private compact(): void {
    this.heap = this.heap.filter((e) => !e.cancelled)
    for (let i = (this.heap.length >> 1) - 1; i >= 0; i--) this.siftDown(i)
  }

  private push(e: Event): void {
    this.heap.push(e)
    let i = this.heap.length - 1
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (!before(e, this.heap[parent]!)) break
      this.heap[i] = this.heap[parent]!
      i = parent
    }
    this.heap[i] = e
  }

  private pop(): Event | undefined {
    const top = this.heap[0]
    const last = this.heap.pop()
    if (top && last && top !== last) {
      this.heap[0] = last
      this.siftDown(0)
    }
    return top
  }

  private siftDown(i: number): void {
    const h = this.heap
    const e = h[i]!
    for (;;) {
      const l = 2 * i + 1
      if (l >= h.length) break
      const r = l + 1
      const child = r < h.length && before(h[r]!, h[l]!) ? r : l
      if (!before(h[child]!, e)) break
      h[i] = h[child]!
      i = child
    }
    h[i] = e
  }
}

/** before is the queue's total order: by time, then by insertion. */
function before(a: Event, b: Event): boolean {
  return a.time < b.time || (a.time === b.time && a.seq < b.seq)
}
