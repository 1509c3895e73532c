import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { COMMANDS } from './commands.js'
import { EXPECTATIONS } from './expectations.js'
import {
  Args,
  type Line,
  type Scenario,
  ScriptError,
  type ScriptFile,
  splitScenarios,
  where,
  words,
} from './script.js'
import { type Step, World } from './world.js'

/** TRACE_TAIL_LINES: how much of the cluster's trace a failure prints. */
const TRACE_TAIL_LINES = 60

/** compileLine turns one line into a step, or throws a ScriptError naming the line. */
export function compileLine(at: Line): Step {
  const ws = words(at.text)
  const head = ws[0] as string
  if (head === 'expect') {
    const kind = ws[1]
    if (kind === undefined) throw new ScriptError(at, 'expect what?')
    const ex = EXPECTATIONS[kind]
    if (!ex)
      throw new ScriptError(
        at,
        `unknown expectation \`${kind}\` (known: ${Object.keys(EXPECTATIONS).join(', ')})`,
      )
    return { at, run: ex(new Args(at, ws.slice(2))) }
  }
  const cmd = COMMANDS[head]
  if (!cmd)
    throw new ScriptError(
      at,
      `unknown command \`${head}\` (known: ${Object.keys(COMMANDS).join(', ')}, expect)`,
    )
  return { at, run: cmd(new Args(at, ws.slice(1))) }
}

/** compileScenario compiles every line first, so a malformed line fails before anything runs. */
export function compileScenario(s: Scenario): Step[] {
  const steps = s.lines.map(compileLine)
  const first = steps[0]
  if (!first || words(first.at.text)[0] !== 'cluster') {
    throw new ScriptError(first?.at ?? s.at, 'a scenario starts with `cluster <n> [options]`')
  }
  steps.forEach((step, k) => {
    const ws = words(step.at.text)
    // A cluster that broke an invariant is left mid-step: nothing sensible can follow.
    if (ws[0] === 'expect' && ws[1] === 'violation' && k !== steps.length - 2) {
      throw new ScriptError(step.at, '`expect violation` must be followed by exactly one line, the last')
    }
  })
  return steps
}

/**
 * ScenarioFailure is a failed scenario. `kind` says why: an expectation did not hold, a safety
 * invariant was violated, or something else went wrong (a harness or engine crash, a bad script).
 */
export class ScenarioFailure extends Error {
  override readonly name = 'ScenarioFailure'

  constructor(
    message: string,
    readonly kind: 'expectation' | 'violation' | 'error',
  ) {
    super(message)
  }
}

/**
 * runScenario plays a scenario; on failure it throws an Error naming the file:line and ending
 * with the tail of the cluster's trace. It returns normally if every expectation held.
 */
export function runScenario(s: Scenario): void {
  let steps: Step[]
  try {
    steps = compileScenario(s)
  } catch (e) {
    throw withoutFrames(e)
  }
  let at: Line = s.at
  const w = new World(() => at)
  for (const step of steps) {
    at = step.at
    const expected = w.expectedViolation
    w.expectedViolation = undefined
    const line = `script ${where(at)}: ${at.text.trim()}`
    if (w.hasCluster) w.cluster.trace(line)
    try {
      step.run(w)
    } catch (e) {
      if (
        expected &&
        e instanceof Error &&
        e.name === 'InvariantViolation' &&
        e.message.includes(expected.text)
      ) {
        continue
      }
      throw failure(w, at, e)
    }
    if (expected)
      throw failure(
        w,
        at,
        new ScriptError(
          expected.at,
          `expected a violation of "${expected.text}" at ${where(at)}, none happened`,
        ),
      )
  }
}

function failure(w: World, at: Line, e: unknown): ScenarioFailure {
  const head =
    e instanceof ScriptError
      ? e.message
      : `${where(at)}: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}\n    | ${at.text.trim()}`
  // Harness errors carry their own trace tail; do not print it twice.
  const tail = w.hasCluster && !head.includes('--- trace') ? `\n${w.cluster.traceTail(TRACE_TAIL_LINES)}` : ''
  const kind =
    e instanceof ScriptError && words(at.text)[0] === 'expect'
      ? 'expectation'
      : e instanceof Error && e.name === 'InvariantViolation'
        ? 'violation'
        : 'error'
  const err = new ScenarioFailure(`${head}${tail}`, kind)
  // A script failure is about the script's line, not the runner's frames; a crash keeps its stack.
  err.stack = `${err.name}: ${err.message}`
  if (e instanceof Error && !(e instanceof ScriptError)) err.stack += `\ncaused by: ${e.stack}`
  return err
}

/** withoutFrames: a ScriptError is about a script line; the runner's stack frames would only hide it. */
export function withoutFrames(e: unknown): unknown {
  if (e instanceof ScriptError) e.stack = `${e.name}: ${e.message}`
  return e
}

/** loadScripts reads every *.txt file of a directory, sorted by name. */
export function loadScripts(dir: string): { file: string; script: ScriptFile }[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.txt'))
    .sort()
    .map((file) => ({ file, script: splitScenarios(file, readFileSync(join(dir, file), 'utf8')) }))
}
