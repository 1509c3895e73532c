import type { Entry } from './events.js'
import type { Model, Timed } from './model.js'
import { PendingUnknowns } from './unknowns.js'

/**
 * Scheduler picks the unknown operations worth trying from a configuration whose definite
 * candidates are exhausted. It must not lose a linearization; it may skip an unknown operation
 * u whenever every linearization that puts u next can be rearranged to put something else next:
 *
 * - A non-blind unknown operation that acts in one state only (Sees with one state and
 *   'unchanged' elsewhere: a cas) elsewhere leaves the state as it is, reaching a configuration
 *   the cache already holds with fewer unknown operations. It is tried only in its state.
 * - A blind write u (Model.blind) must be followed by something that sees it: followed by
 *   another blind write or by nothing it can be left out, and followed by an o that behaves
 *   alike before and after it, it can move past o. So u is tried only if its resulting state is
 *   seen by a non-blind operation that may go next ("targets"), directly or through unknown
 *   operations that turn it into a seen state, and then only if the observable test passes.
 *
 * Lists (see unknowns.ts): 'in:k' holds the classes acting only in the state with key k,
 * 'yield:k' the same classes by the state they leave, 'to:k' the blind writes leaving k,
 * 'blind' every blind write, and 'any' the non-blind operations without a Sees.
 */
export class Scheduler<Op extends Timed, State> {
  readonly pending: PendingUnknowns

  constructor(
    private readonly model: Model<Op, State>,
    private readonly ops: readonly Op[],
    unknown: readonly Entry[],
  ) {
    this.pending = new PendingUnknowns(
      unknown,
      (e) => model.signature(ops[e.op] as Op),
      (e) => this.filing(ops[e.op] as Op),
    )
  }

  private key(s: State): string {
    return this.model.key(s)
  }

  /** actsOnlyIn returns the one state an unknown op can act in, if Sees says there is one. */
  private actsOnlyIn(op: Op): State | undefined {
    const sees = this.model.sees?.(op)
    if (sees === undefined || sees.states.length !== 1 || sees.elsewhere !== 'unchanged') return undefined
    return sees.states[0]
  }

  private filing(op: Op): string[] {
    if (this.model.blind(op)) {
      const to = this.model.step(this.model.init(), op) as State
      return [`to:${this.key(to)}`, 'blind']
    }
    const only = this.actsOnlyIn(op)
    if (only === undefined) return ['any']
    const to = this.model.step(only, op)
    const lists = [`in:${this.key(only)}`]
    if (to !== undefined && this.key(to) !== this.key(only)) lists.push(`yield:${this.key(to)}`)
    return lists
  }

  /**
   * schedule offers every unknown operation worth trying from state `from` to `offer`, with the
   * state it leaves. `window` lists the definite operations that may go next, all called
   * before `limit`. Returns the number of model steps spent, for the budget.
   */
  schedule(from: State, window: readonly Op[], limit: number, offer: (u: Entry, to: State) => void): number {
    let steps = 0
    const fromKey = this.key(from)
    const tryOne = (u: Entry): void => {
      steps++
      const op = this.ops[u.op] as Op
      const to = this.model.step(from, op)
      if (to === undefined) return
      if (this.model.blind(op)) {
        const seen = this.observable(from, to, window, limit)
        steps += seen.steps
        if (!seen.ok) return
      }
      offer(u, to)
    }
    this.pending.candidates(`in:${fromKey}`, limit, tryOne)
    this.pending.candidates('any', limit, tryOne)
    const targets = this.targets(from, window, limit)
    if (targets === 'all') this.pending.candidates('blind', limit, tryOne)
    else for (const k of targets) this.pending.candidates(`to:${k}`, limit, tryOne)
    return steps
  }

  /**
   * targets returns the keys of the states a blind write may usefully leave, or 'all' when an
   * operation may see more than Sees can say: one without Sees, or one that behaves specially in
   * `from` itself and alike in every other state, which any write would therefore change.
   */
  private targets(from: State, window: readonly Op[], limit: number): Set<string> | 'all' {
    const fromKey = this.key(from)
    const out = new Set<string>()
    const work: string[] = []
    const add = (k: string): void => {
      if (out.has(k)) return
      out.add(k)
      work.push(k)
    }
    for (const o of window) {
      if (this.model.blind(o)) continue
      const sees = this.model.sees?.(o)
      if (sees === undefined) return 'all'
      const keys = sees.states.map((s) => this.key(s))
      if (keys.includes(fromKey) && sees.elsewhere === 'unchanged') {
        const after = this.model.step(from, o)
        if (after === undefined || this.key(after) !== fromKey) return 'all'
      }
      for (const k of keys) add(k)
    }
    let anyPending = false
    this.pending.candidates('any', limit, () => {
      anyPending = true
    })
    if (anyPending) return 'all'
    // A state is a target too if an unknown operation turns it into one.
    while (work.length > 0) {
      this.pending.candidates(`yield:${work.pop()}`, limit, (u) => {
        add(this.key(this.actsOnlyIn(this.ops[u.op] as Op) as State))
      })
    }
    return out
  }

  /**
   * observable says whether the blind write taking `from` to `to` may usefully go next: some
   * non-blind operation that may follow it is possible only after it, or leaves a state that
   * neither `to` nor the same operation without the write would.
   */
  private observable(
    from: State,
    to: State,
    window: readonly Op[],
    limit: number,
  ): { ok: boolean; steps: number } {
    let steps = 0
    const differs = (op: Op): boolean => {
      if (this.model.blind(op)) return false
      steps++
      const after = this.model.step(to, op)
      if (after === undefined) return false
      const before = this.model.step(from, op)
      const k = this.key(after)
      return before === undefined || (k !== this.key(to) && k !== this.key(before))
    }
    if (window.some(differs)) return { ok: true, steps }
    let ok = false
    const visit = (u: Entry): void => {
      ok ||= differs(this.ops[u.op] as Op)
    }
    this.pending.candidates(`in:${this.key(to)}`, limit, visit)
    this.pending.candidates('any', limit, visit)
    return { ok, steps }
  }
}
