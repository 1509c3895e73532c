import type { OpStatus } from './history.js'

/**
 * A Model is the sequential specification a history is checked against: what one operation
 * does to the state when it takes effect, atomically, at one point between its call and its
 * return. Porcupine's Model and Knossos's model protocol have the same shape. Models are pure:
 * the checker calls them millions of times, in any order, and memoises on their states.
 */

/** Timed is all the checker itself reads from an operation: its interval and its status. */
export interface Timed {
  readonly call: number
  /** return is null iff status is 'unknown' (the operation may take effect at any time after call). */
  readonly return: number | null
  readonly status: OpStatus
}

/** Partition is one independent sub-history: a name (the key) and indices into the history's ops. */
export interface Partition {
  readonly name: string
  /** ops are indices into the partitioned list, in ascending order. */
  readonly ops: readonly number[]
}

/**
 * Sees describes where an operation can tell states apart: in every state outside `states` it
 * behaves alike, either impossible everywhere or possible everywhere and leaving the state as
 * it is. A read sees the value it returned (impossible elsewhere); a cas sees the value it
 * expects (a successful one is impossible elsewhere, a failed one changes nothing elsewhere).
 */
export interface Sees<State> {
  readonly states: readonly State[]
  readonly elsewhere: 'impossible' | 'unchanged'
}

export interface Model<Op extends Timed, State> {
  readonly name: string
  /** init returns the state before any operation. */
  init(): State
  /**
   * step returns the state after `op` takes effect in `state`, or undefined when what the client
   * observed (the op's result) is impossible from `state`. For an operation whose status is
   * unknown there is nothing observed: step returns the state it would leave had it run now.
   */
  step(state: State, op: Op): State | undefined
  /** key returns a canonical string for a state: two states are equal iff their keys are. */
  key(state: State): string
  /**
   * partition splits the operations into sub-histories that share no state, so that the whole
   * is linearizable iff every part is (locality: Herlihy & Wing §3.3; P-compositionality, Lowe).
   */
  partition(ops: readonly Op[]): readonly Partition[]
  /**
   * inert says `op` can neither change the state nor be refuted by it whenever it runs, so
   * the checker may drop it (e.g. a read that timed out: it returned nothing to check).
   */
  inert(op: Op): boolean
  /**
   * signature returns a canonical string of everything step reads from `op`: what it asks and,
   * if it returned, what it observed; not when, nor who asked. Operations with equal signatures
   * are interchangeable, and the checker uses that to try fewer orders (see unknowns.ts and
   * twins.ts).
   */
  signature(op: Op): string
  /**
   * blind says that `op`, whenever it runs, is possible and leaves a state that does not depend
   * on the state before (a put, a delete). The checker tries an unknown blind operation only
   * where some other operation can observe its effect.
   */
  blind(op: Op): boolean
  /**
   * readOnly says that `op`, whenever it is possible, leaves the state as it found it (a read, a
   * compare that failed). The checker linearizes a possible read-only operation at once, without
   * trying alternatives: moving it earlier, to a point where it is possible, changes nothing.
   */
  readOnly(op: Op): boolean
  /**
   * sees, if given, says in which states a non-blind `op` behaves specially (see Sees). The
   * checker then tries an unknown blind write only where some operation may see its effect,
   * and an unknown operation that acts in one state only (a cas) only in that state. Undefined
   * means the op may tell any states apart.
   */
  sees?(op: Op): Sees<State> | undefined
  /**
   * prepare may rewrite one partition's operations into an equivalent list (same length, same
   * verdict) that is cheaper to search, e.g. by merging values no operation can tell apart.
   */
  prepare(ops: readonly Op[]): readonly Op[]
  /**
   * forget returns an ok `op` as if its outcome had been lost: status unknown, no return, no result.
   * The minimiser uses it to ask whether an operation matters to a violation.
   */
  forget(op: Op): Op
  /** describeState renders a state for reports. */
  describeState(state: State): string
}

/**
 * A NondeterministicModel may allow several next states for one operation (a queue whose dequeue
 * may return any element, a lock with unspecified fairness). Turn it into a Model with
 * determinize, which tracks the set of possible states, as Porcupine does.
 */
export interface NondeterministicModel<Op extends Timed, State> {
  readonly name: string
  init(): readonly State[]
  /** step returns every state `op` may leave in `state`; none if what it observed is impossible. */
  step(state: State, op: Op): readonly State[]
  key(state: State): string
  partition(ops: readonly Op[]): readonly Partition[]
  inert(op: Op): boolean
  signature(op: Op): string
  /** blind: possible in every state, with the same set of next states whatever the state before. */
  blind(op: Op): boolean
  prepare(ops: readonly Op[]): readonly Op[]
  forget(op: Op): Op
  describeState(state: State): string
}

/**
 * determinize lifts a nondeterministic model to a deterministic one over sets of states (the
 * powerset construction): an operation is possible iff it is possible from at least one state.
 * Sets are kept sorted and deduplicated by key, so equal sets have equal keys.
 */
export function determinize<Op extends Timed, State>(
  m: NondeterministicModel<Op, State>,
): Model<Op, readonly State[]> {
  const canonical = (states: readonly State[]): readonly State[] => {
    const byKey = new Map<string, State>()
    for (const s of states) byKey.set(m.key(s), s)
    return [...byKey.keys()].sort().map((k) => byKey.get(k) as State)
  }
  return {
    name: m.name,
    init: () => canonical(m.init()),
    step(states, op) {
      const next = canonical(states.flatMap((s) => m.step(s, op)))
      return next.length === 0 ? undefined : next
    },
    key: (states) => JSON.stringify(states.map((s) => m.key(s))),
    partition: (ops) => m.partition(ops),
    inert: (op) => m.inert(op),
    signature: (op) => m.signature(op),
    blind: (op) => m.blind(op),
    // On a set of states a read narrows the set: it is not read-only there.
    readOnly: () => false,
    prepare: (ops) => m.prepare(ops),
    forget: (op) => m.forget(op),
    describeState: (states) => `{${states.map((s) => m.describeState(s)).join(', ')}}`,
  }
}
