import { assert } from '../core/assert.js'
import { Cache, DefiniteSet, UnknownSet } from './cache.js'
import { buildEvents, type Entry, type Events, lift, unlift } from './events.js'
import type { Model, Timed } from './model.js'
import { Scheduler } from './schedule.js'
import { Twins } from './twins.js'

/**
 * Linearizability of one independent sub-history, by Wing & Gong's search as refined by Lowe
 * ("just-in-time linearization") and memoised as in Porcupine and Knossos: depth-first, it
 * linearizes one pending operation whose call precedes the earliest pending return, and
 * backtracks when none can go next; configurations (linearized set, state) already explored are
 * not explored again.
 *
 * Statuses: `fail` operations did not happen and are dropped up front, as are inert ones (a
 * read that timed out). `unknown` operations have no return: each may be linearized at any point
 * after its call, or never, so the search succeeds once every definite operation is linearized.
 *
 * Reductions, each keeping the search complete (the brute-force comparison in
 * test/check/reference.test.ts runs with and without the model hints they rely on):
 * - A read-only operation possible now is taken without alternatives (Model.readOnly).
 * - Of twin definite operations only the earliest-returning is tried (twins.ts).
 * - Definite operations are tried before unknown ones, and the unknown successors of a
 *   configuration are all recorded in the cache before any is explored, so that one reached
 *   through needless unknown operations is recognised as dominated (cache.ts); which unknown
 *   operations are worth trying at all is the scheduler's business (schedule.ts).
 * - The model may first merge what no operation can tell apart (Model.prepare).
 */

/** SearchOptions bounds the work; a bound reached gives the verdict 'unknown', never a hang. */
export interface SearchOptions {
  /** stepsMax bounds the steps of the search (events visited plus successors computed). */
  readonly stepsMax: number
}

export const STEPS_MAX_DEFAULT = 20_000_000

/** SearchResult names operations by their index in the list given to checkOperations. */
export type SearchResult =
  | {
      readonly verdict: 'linearizable'
      readonly steps: number
      /** linearization is a witness: the operations that took effect, in order. */
      readonly linearization: readonly number[]
    }
  | {
      readonly verdict: 'not-linearizable'
      readonly steps: number
      /** prefix is the longest linearizable prefix found (most definite operations). */
      readonly prefix: readonly number[]
      /** blocking is the pending operation with the earliest return after that prefix: it had to go next and could not. */
      readonly blocking: number
    }
  | { readonly verdict: 'unknown'; readonly steps: number }

/** Candidate is an unknown operation scheduled to be tried from one configuration. */
interface Candidate {
  readonly entry: Entry
  readonly state: number
}

/** Frame is one linearized operation on the search stack. */
interface Frame {
  readonly entry: Entry
  /** stateBefore is the state id before this operation. */
  readonly stateBefore: number
  /** candidates and index locate an unknown op in its parent's schedule; null for definite ops. */
  readonly candidates: readonly Candidate[] | null
  readonly index: number
  /** forced is true for a read-only op linearized without alternatives (see Model.readOnly). */
  readonly forced: boolean
}

/** EXHAUSTED is the empty schedule: a configuration with nothing left to try. */
const EXHAUSTED: readonly Candidate[] = []

/** checkOperations decides whether `ops` (one partition) is linearizable with respect to `model`. */
export function checkOperations<Op extends Timed, State>(
  model: Model<Op, State>,
  ops: readonly Op[],
  options: SearchOptions,
): SearchResult {
  return new Search(model, model.prepare(ops), options).run()
}

/** States interns model states as small integers, so that the cache compares numbers. */
class States<State> {
  readonly values: State[] = []
  private readonly ids = new Map<string, number>()

  constructor(private readonly key: (s: State) => string) {}

  intern(s: State): number {
    const k = this.key(s)
    let id = this.ids.get(k)
    if (id === undefined) {
      id = this.values.length
      this.values.push(s)
      this.ids.set(k, id)
    }
    return id
  }
}

class Search<Op extends Timed, State> {
  private readonly active: number[]
  private readonly events: Events
  private readonly scheduler: Scheduler<Op, State>
  private readonly twins: Twins
  private readonly states: States<State>
  private readonly cache = new Cache()
  private readonly linearized: DefiniteSet
  private readonly stack: Frame[] = []
  private readonly best = new BestPrefix()
  private unknown: UnknownSet | null = null
  private state: number
  private definiteLeft: number
  private steps = 0
  /** limit caches the position of the earliest pending return; -1 when not yet computed. */
  private limit = -1

  constructor(
    private readonly model: Model<Op, State>,
    private readonly ops: readonly Op[],
    private readonly options: SearchOptions,
  ) {
    this.active = ops.flatMap((op, i) => (op.status === 'fail' || model.inert(op) ? [] : [i]))
    this.events = buildEvents(ops, this.active)
    const states = new States<State>((s) => model.key(s))
    this.states = states
    this.scheduler = new Scheduler(model, ops, this.events.unknown)
    const calls: Entry[] = []
    for (let e = this.events.definite.head.next; e !== null; e = e.next) if (e.isCall) calls.push(e)
    this.twins = new Twins(calls, (e) => model.signature(ops[e.op] as Op))
    this.linearized = new DefiniteSet(this.events.definiteCount)
    this.state = states.intern(model.init())
    this.definiteLeft = this.events.definiteCount
  }

  run(): SearchResult {
    const head = this.events.definite.head
    let cursor = head.next as Entry
    // schedule is the unknown candidates of the current configuration once its definite
    // candidates are exhausted; null while those are still being tried.
    let schedule: readonly Candidate[] | null = null
    let next = 0
    // fresh is true on arriving at a configuration, before its read-only ops were looked at.
    let fresh = true
    for (;;) {
      if (this.definiteLeft === 0) {
        return {
          verdict: 'linearizable',
          steps: this.steps,
          linearization: this.stack.map((f) => f.entry.op),
        }
      }
      if (++this.steps > this.options.stepsMax) return { verdict: 'unknown', steps: this.steps }
      if (schedule === null) {
        // A definite op is pending, so its return ends the list and the cursor never runs off it.
        if (fresh) {
          fresh = false
          const forced = this.findReadOnly()
          if (forced === null) continue
          // The read-only op goes next or this configuration fails; if its successor was seen
          // already, there is nothing left to try here.
          if (this.tryDefinite(forced, true)) {
            cursor = head.next as Entry
            fresh = true
          } else {
            schedule = EXHAUSTED
            next = 0
          }
        } else if (!cursor.isCall) {
          schedule = this.scheduleUnknowns(cursor.pos)
          next = 0
        } else if (this.tryDefinite(cursor, false)) {
          cursor = head.next as Entry
          fresh = true
        } else cursor = cursor.next as Entry
      } else if (next < schedule.length) {
        const c = schedule[next] as Candidate
        this.push(c.entry, c.state, schedule, next, false)
        schedule = null
        cursor = head.next as Entry
        fresh = true
      } else {
        const frame = this.pop()
        if (frame === undefined) return this.failure()
        if (frame.forced) {
          schedule = EXHAUSTED
          next = 0
        } else if (frame.candidates === null) {
          schedule = null
          cursor = frame.entry.next as Entry
        } else {
          schedule = frame.candidates
          next = frame.index + 1
        }
      }
    }
  }

  /** tryDefinite linearizes `e` next if the model allows it and the configuration is new. */
  private tryDefinite(e: Entry, forced: boolean): boolean {
    if (!this.twins.eligible(e, this.windowLimit())) return false
    const to = this.model.step(this.states.values[this.state] as State, this.ops[e.op] as Op)
    if (to === undefined) return false
    const id = this.states.intern(to)
    this.linearized.add(e.slot)
    if (this.cache.visit(this.linearized, id, this.unknown)) {
      this.push(e, id, null, 0, forced)
      return true
    }
    this.linearized.remove(e.slot)
    return false
  }

  /** findReadOnly returns a read-only operation that may go next and is possible now, if any. */
  private findReadOnly(): Entry | null {
    const from = this.states.values[this.state] as State
    for (let e = this.events.definite.head.next as Entry; e.isCall; e = e.next as Entry) {
      const op = this.ops[e.op] as Op
      if (!this.model.readOnly(op) || !this.twins.eligible(e, this.windowLimit())) continue
      this.steps++
      if (this.model.step(from, op) !== undefined) return e
    }
    return null
  }

  /** windowLimit returns the position of the earliest pending return: calls before it may go next. */
  private windowLimit(): number {
    if (this.limit < 0) {
      let e = this.events.definite.head.next as Entry
      while (e.isCall) e = e.next as Entry
      this.limit = e.pos
    }
    return this.limit
  }

  /**
   * scheduleUnknowns computes the unknown operations that may go next (called before the
   * earliest pending return, at `limit`) and records the configurations they lead to in the
   * cache before exploring any: so a configuration reached through two unknown operations, where
   * one would do, finds the one-operation configuration already there and is pruned.
   */
  private scheduleUnknowns(limit: number): Candidate[] {
    const out: Candidate[] = []
    const window: Op[] = []
    for (let e = this.events.definite.head.next as Entry; e.isCall; e = e.next as Entry)
      window.push(this.ops[e.op] as Op)
    const from = this.states.values[this.state] as State
    this.steps += this.scheduler.schedule(from, window, limit, (u, to) => {
      const id = this.states.intern(to)
      if (this.cache.visit(this.linearized, id, UnknownSet.push(this.unknown, u.slot)))
        out.push({ entry: u, state: id })
    })
    return out
  }

  private push(
    entry: Entry,
    to: number,
    candidates: readonly Candidate[] | null,
    index: number,
    forced: boolean,
  ): void {
    this.stack.push({ entry, stateBefore: this.state, candidates, index, forced })
    this.state = to
    this.limit = -1
    if (candidates === null) {
      lift(entry)
      this.twins.lift(entry)
      this.definiteLeft--
    } else {
      this.scheduler.pending.lift(entry)
      this.unknown = UnknownSet.push(this.unknown, entry.slot)
    }
    this.best.pushed(this.stack, entry.op, this.events.definiteCount - this.definiteLeft)
  }

  private pop(): Frame | undefined {
    const frame = this.stack.pop()
    if (frame === undefined) return undefined
    this.best.popped(this.stack.length)
    this.state = frame.stateBefore
    this.limit = -1
    if (frame.candidates === null) {
      this.twins.unlift(frame.entry)
      unlift(frame.entry)
      this.linearized.remove(frame.entry.slot)
      this.definiteLeft++
    } else {
      this.scheduler.pending.unlift(frame.entry)
      this.unknown = (this.unknown as UnknownSet).parent
    }
    return frame
  }

  private failure(): SearchResult {
    const prefix = this.best.ops
    const blocking = blockingOp(this.ops, this.active, prefix, this.events.returnOrder)
    return { verdict: 'not-linearizable', steps: this.steps, prefix, blocking }
  }
}

/**
 * BestPrefix remembers the stack that linearized the most definite operations. It copies only
 * the part of the stack that differs from the last record, so a search that mostly moves
 * forward pays O(1) per step rather than O(depth).
 */
class BestPrefix {
  ops: number[] = []
  private definite = -1
  /** agree is how many bottom frames of the stack equal the start of `ops`. */
  private agree = 0

  pushed(stack: readonly Frame[], op: number, definite: number): void {
    const depth = stack.length - 1
    if (this.agree === depth && this.ops[depth] === op) this.agree++
    if (definite <= this.definite) return
    this.definite = definite
    this.ops.length = this.agree
    for (let k = this.agree; k < stack.length; k++) this.ops.push((stack[k] as Frame).entry.op)
    this.agree = stack.length
  }

  popped(depth: number): void {
    if (this.agree > depth) this.agree = depth
  }
}

/** blockingOp is the definite operation outside `prefix` whose return comes first. */
function blockingOp(
  ops: readonly Timed[],
  active: readonly number[],
  prefix: readonly number[],
  returnOrder: readonly number[],
): number {
  const done = new Set(prefix)
  let out = -1
  for (const i of active) {
    if (done.has(i) || (ops[i] as Timed).return === null) continue
    if (out < 0 || (returnOrder[i] as number) < (returnOrder[out] as number)) out = i
  }
  assert(out >= 0, 'a failed search leaves a definite operation unlinearized')
  return out
}
