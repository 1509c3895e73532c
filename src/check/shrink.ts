import { checkOperations, type SearchResult } from './linearizability.js'
import type { Model, Timed } from './model.js'

/**
 * Shrinking a violation to the operations that cause it. Deleting operations would invent
 * violations (drop the write a read saw and the read sees a value "never written"), so the
 * minimiser only ever *forgets* operations: it turns definite ones into unknown ones (a read
 * then says nothing, a write may or may not have happened). Forgetting can only make a history
 * easier to linearize, so whatever still fails is a genuine witness of the original failure.
 *
 * Forgetting is monotone: once an operation is found to matter (forgetting it makes the rest
 * linearizable), it matters for every smaller core too. So a delta-debugging pass (Zeller's
 * ddmin, complement side: forget a chunk, keep the forgetting if it still fails, halve the
 * chunks) that ends with chunks of one leaves a 1-minimal core: forget any one operation of it
 * and the rest becomes linearizable. Chunks go from the earliest operations on, because a
 * violation is usually local in time.
 *
 * Each check keeps only the operations called up to the last return in the core: anything
 * later is unknown and can take effect after everything else, or never, so it cannot help.
 */

/** Shrunk describes a minimised violation; operation numbers index the list given to shrink. */
export interface Shrunk {
  /** cut is the last return among the core: by then the history can no longer be linearized. */
  readonly cut: number
  /** core is the definite operations that cannot be linearized together, all others forgotten. */
  readonly core: readonly number[]
  /** minimal is false when the step budget ran out before the core was 1-minimal. */
  readonly minimal: boolean
  /** search is the failed search of the final weakened history: its prefix and blocking op. */
  readonly search: Failed
  readonly steps: number
}

type Failed = Extract<SearchResult, { verdict: 'not-linearizable' }>

/**
 * shrink minimises a violation of `ops`, whose failed search is `initial`, within `stepsMax`
 * search steps in total. When the budget runs out it returns the smallest core found so far.
 */
export function shrink<Op extends Timed, State>(
  model: Model<Op, State>,
  ops: readonly Op[],
  initial: Failed,
  stepsMax: number,
): Shrunk {
  let steps = 0
  const cutOf = (core: readonly number[]): number => Math.max(...core.map((i) => ops[i]!.return as number))
  /** fails checks the history in which only `core` stays definite. */
  const fails = (core: readonly number[]): Failed | null | 'budget' => {
    if (core.length === 0) return null
    const keep = new Set(core)
    const cut = cutOf(core)
    const view: Op[] = []
    const back: number[] = []
    ops.forEach((op, i) => {
      if (op.call > cut) return
      // Failed operations stay failed: that they did not happen is known, not an outcome lost.
      view.push(keep.has(i) || op.status !== 'ok' ? op : model.forget(op))
      back.push(i)
    })
    const r = checkOperations(model, view, { stepsMax: Math.max(0, stepsMax - steps) })
    steps += r.steps
    if (r.verdict === 'unknown') return 'budget'
    if (r.verdict === 'linearizable') return null
    const map = (i: number): number => back[i] as number
    return { ...r, prefix: r.prefix.map(map), blocking: map(r.blocking) }
  }

  let core = ops.flatMap((op, i) => (op.status === 'ok' && !model.inert(op) ? [i] : []))
  core.sort((a, b) => ops[a]!.call - ops[b]!.call || a - b)
  let failure = initial
  // Reads first: a forgotten read simply vanishes, and the values only it saw merge, so these
  // checks stay cheap; a forgotten write becomes an unknown one the search must place. By the
  // time writes are forgotten, most are of values nobody reads any more, and interchangeable.
  for (const readsOnly of [true, false]) {
    const chosen = readsOnly ? core.filter((i) => model.readOnly(ops[i]!)) : core
    const fixed = readsOnly ? core.filter((i) => !model.readOnly(ops[i]!)) : []
    let part = chosen
    for (let chunk = Math.ceil(part.length / 2); chunk >= 1; chunk = chunk === 1 ? 0 : Math.ceil(chunk / 2)) {
      for (let start = 0; start < part.length; ) {
        const rest = part.slice(0, start).concat(part.slice(start + chunk))
        const r = fails(fixed.concat(rest))
        if (r === 'budget') {
          core = fixed.concat(part)
          return done(false)
        }
        if (r === null) start += chunk
        else {
          part = rest
          failure = r
        }
      }
    }
    core = fixed.concat(part)
  }
  return done(true)

  function done(minimal: boolean): Shrunk {
    const sorted = core.slice().sort((a, b) => a - b)
    return { cut: cutOf(sorted), core: sorted, minimal, search: failure, steps }
  }
}
