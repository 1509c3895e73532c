import { assert } from '../core/assert.js'
import type { History, ModelName, Operation } from './history.js'
import { checkOperations, STEPS_MAX_DEFAULT } from './linearizability.js'
import type { Model } from './model.js'
import { kvModel } from './models/kv.js'
import { shrink } from './shrink.js'

/**
 * checkHistory is the checker's front door: it partitions a history per key (linearizability
 * is local, so the whole is linearizable iff every key is), searches each key, and minimises
 * the violation of the smallest failing key for the report. Operations are named throughout
 * by their index in `history.ops`.
 */

export type Verdict = 'linearizable' | 'not-linearizable' | 'unknown'

export interface CheckOptions {
  /** stepsMax bounds each key's search; a key that needs more is reported 'unknown'. */
  readonly stepsMax?: number
  /** shrinkStepsMax bounds the work spent minimising the reported violation. */
  readonly shrinkStepsMax?: number
}

export const SHRINK_STEPS_MAX_DEFAULT = 5_000_000

export interface KeyResult {
  readonly key: string
  /** ops are the key's operations, indices into history.ops in file order. */
  readonly ops: readonly number[]
  readonly verdict: Verdict
  readonly steps: number
}

/** Failure explains the violation of the failing key with the fewest operations. */
export interface Failure {
  readonly key: string
  readonly ops: readonly number[]
  /** cut is the earliest time by which the key's history cannot be linearized. */
  readonly cut: number
  /** core is the definite operations that cannot all be linearized, every other one forgotten. */
  readonly core: readonly number[]
  /** minimal is false when the shrink budget ran out first (the core is then larger than need be). */
  readonly minimal: boolean
  /** prefix is a longest linearizable prefix of the weakened history (operations in order)… */
  readonly prefix: readonly number[]
  /** …stateAfterPrefix the state it leaves, described by the model… */
  readonly stateAfterPrefix: string
  /** …and blocking the operation that had to go next and could not. */
  readonly blocking: number
}

export interface CheckResult {
  readonly verdict: Verdict
  readonly model: ModelName
  readonly keys: readonly KeyResult[]
  readonly failure: Failure | null
  /** steps is the total search effort, a machine-independent measure of cost. */
  readonly steps: number
}

/** modelFor returns the model a history names; the history format admits only these. */
export function modelFor(name: ModelName): Model<Operation, unknown> {
  switch (name) {
    case 'kv':
      return kvModel as Model<Operation, unknown>
  }
}

export function checkHistory(history: History, options: CheckOptions = {}): CheckResult {
  const model = modelFor(history.model)
  const stepsMax = options.stepsMax ?? STEPS_MAX_DEFAULT
  let steps = 0
  let smallest: { key: string; ops: readonly number[]; search: ReturnType<typeof checkOperations> } | null =
    null
  const keys: KeyResult[] = []
  for (const part of model.partition(history.ops)) {
    const ops = part.ops.map((i) => history.ops[i] as Operation)
    const search = checkOperations(model, ops, { stepsMax })
    steps += search.steps
    keys.push({ key: part.name, ops: part.ops, verdict: search.verdict, steps: search.steps })
    if (
      search.verdict === 'not-linearizable' &&
      (smallest === null || part.ops.length < smallest.ops.length)
    ) {
      smallest = { key: part.name, ops: part.ops, search }
    }
  }
  const verdict: Verdict = keys.some((k) => k.verdict === 'not-linearizable')
    ? 'not-linearizable'
    : keys.some((k) => k.verdict === 'unknown')
      ? 'unknown'
      : 'linearizable'
  if (smallest === null || smallest.search.verdict !== 'not-linearizable') {
    return { verdict, model: history.model, keys, failure: null, steps }
  }
  const { key, ops: indices, search } = smallest
  const ops = indices.map((i) => history.ops[i] as Operation)
  const shrunk = shrink(model, ops, search, options.shrinkStepsMax ?? SHRINK_STEPS_MAX_DEFAULT)
  steps += shrunk.steps
  const global = (i: number): number => indices[i] as number
  const core = new Set(shrunk.core)
  let state = model.init()
  for (const i of shrunk.search.prefix) {
    // The prefix may hold forgotten operations: replay them as the search did, without results.
    const op = core.has(i) ? (ops[i] as Operation) : model.forget(ops[i] as Operation)
    const next = model.step(state, op)
    assert(next !== undefined, () => `the search's prefix does not replay at op ${indices[i]}`)
    state = next
  }
  const failure: Failure = {
    key,
    ops: indices,
    cut: shrunk.cut,
    core: shrunk.core.map(global),
    minimal: shrunk.minimal,
    prefix: shrunk.search.prefix.map(global),
    stateAfterPrefix: model.describeState(state),
    blocking: global(shrunk.search.blocking),
  }
  return { verdict, model: history.model, keys, failure, steps }
}
