import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { type CheckResult, checkHistory } from '../check/check.js'
import { parseHistory } from '../check/history.js'
import { renderTimeline } from '../check/html-timeline.js'
import type { RaftTestingBug } from '../engines/raft/options.js'
import { NEMESIS_FAULTS, type NemesisFault, type SimOptions } from '../sim/options.js'
import { runSimulation, type SimResult } from '../sim/runner.js'

/**
 * `synod sim`: run many seeds, check each history for linearizability, and summarise. On a
 * violation it prints the seed and the exact command that replays it, and writes the history and
 * an HTML timeline next to each other.
 */

export interface SimCommandOptions {
  readonly engine: 'raft'
  readonly seeds: readonly number[]
  readonly nemesis: readonly NemesisFault[]
  readonly nodes: number
  readonly readMode: 'safe' | 'lease'
  readonly bugs: readonly RaftTestingBug[]
  readonly json: boolean
  readonly out: string
  readonly progress: boolean
}

interface SeedOutcome {
  readonly seed: number
  readonly result: SimResult
  readonly check: CheckResult
  /** problem: why this seed failed, or undefined. */
  readonly problem?: string
}

/** The shrinking of a counterexample is bounded so a bad seed cannot stall the whole sweep. */
const SHRINK_STEPS_MAX = 200_000

/** parseSeeds reads "7", "1-500" or "1,5,9-12". */
export function parseSeeds(spec: string): number[] {
  const seeds: number[] = []
  for (const part of spec.split(',')) {
    const m = /^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$/.exec(part)
    if (!m) throw new Error(`bad seed range "${part}" (use 7, 1-500 or 1,5,9-12)`)
    const lo = Number(m[1])
    const hi = m[2] === undefined ? lo : Number(m[2])
    if (hi < lo || hi - lo > 1_000_000) throw new Error(`bad seed range "${part}"`)
    for (let s = lo; s <= hi; s++) seeds.push(s)
  }
  return seeds
}

export function parseNemesis(spec: string): NemesisFault[] {
  if (spec === 'none' || spec === '') return []
  if (spec === 'all') return [...NEMESIS_FAULTS]
  return spec.split(',').map((f) => {
    if (!NEMESIS_FAULTS.includes(f as NemesisFault)) {
      throw new Error(`unknown fault "${f}" (choose from ${NEMESIS_FAULTS.join(', ')}, all, none)`)
    }
    return f as NemesisFault
  })
}

function replayCommand(o: SimCommandOptions, seed: number): string {
  const parts = ['synod sim', `--engine ${o.engine}`, `--seeds ${seed}`, `--nodes ${o.nodes}`]
  parts.push(`--nemesis ${o.nemesis.length > 0 ? o.nemesis.join(',') : 'none'}`)
  if (o.readMode !== 'safe') parts.push(`--read-mode ${o.readMode}`)
  for (const b of o.bugs) parts.push(`--bug ${b}`)
  return parts.join(' ')
}

function runSeed(o: SimCommandOptions, seed: number): SeedOutcome {
  const overrides: Partial<SimOptions> = {
    engine: o.engine,
    nodes: o.nodes,
    nemesis: o.nemesis,
    readMode: o.readMode,
    bugs: o.bugs,
  }
  const result = runSimulation(seed, overrides)
  const check = checkHistory(parseHistory(result.history), { shrinkStepsMax: SHRINK_STEPS_MAX })
  let problem: string | undefined
  if (result.crash) problem = `assertion: ${result.crash}`
  else if (result.safety) problem = result.safety
  else if (check.verdict === 'not-linearizable') problem = `not linearizable (key ${check.failure?.key})`
  else if (!result.liveness.ok) problem = `liveness: ${result.liveness.reason}`
  return { seed, result, check, problem }
}

function writeArtifacts(o: SimCommandOptions, s: SeedOutcome): string {
  const dir = join(o.out, `seed-${s.seed}`)
  mkdirSync(dir, { recursive: true })
  const history = parseHistory(s.result.history)
  writeFileSync(join(dir, 'history.json'), `${JSON.stringify(s.result.history)}\n`)
  writeFileSync(
    join(dir, 'timeline.html'),
    renderTimeline(history, s.check, { title: `synod sim seed ${s.seed}` }),
  )
  writeFileSync(join(dir, 'events.log'), `${s.result.log.join('\n')}\n`)
  return dir
}

function progressBar(done: number, total: number, failures: number): string {
  const width = 30
  const filled = Math.round((done / total) * width)
  return `\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} seeds, ${failures} failing`
}

/** runSimCommand runs the sweep; returns the exit code (0: every seed passed, 1: some failed). */
export function runSimCommand(
  o: SimCommandOptions,
  out: (line: string) => void,
  err: (s: string) => void,
): number {
  const outcomes: SeedOutcome[] = []
  const started = performance.now()
  let failures = 0
  for (const seed of o.seeds) {
    const s = runSeed(o, seed)
    outcomes.push(s)
    if (s.problem) failures++
    if (o.progress) err(progressBar(outcomes.length, o.seeds.length, failures))
  }
  if (o.progress) err('\n')
  const wallMs = performance.now() - started
  const failed = outcomes.filter((s) => s.problem)
  const artifacts = new Map(failed.map((s) => [s.seed, writeArtifacts(o, s)]))
  const totals = summarise(outcomes)
  if (o.json) {
    out(
      JSON.stringify({
        engine: o.engine,
        seeds: o.seeds.length,
        ...totals,
        wallMs: Math.round(wallMs),
        failures: failed.map((s) => ({
          seed: s.seed,
          problem: s.problem,
          replay: replayCommand(o, s.seed),
          artifacts: artifacts.get(s.seed),
        })),
      }),
    )
  } else {
    printTable(out, o, totals, wallMs)
    for (const s of failed) {
      out('')
      out(`seed ${s.seed} FAILED: ${s.problem}`)
      out(`  replay:    ${replayCommand(o, s.seed)}`)
      out(`  artifacts: ${artifacts.get(s.seed)}/ (history.json, timeline.html, events.log)`)
    }
    out('')
    out(
      failed.length === 0
        ? `all ${o.seeds.length} seeds passed`
        : `${failed.length} of ${o.seeds.length} seeds failed`,
    )
  }
  return failed.length === 0 ? 0 : 1
}

function summarise(outcomes: readonly SeedOutcome[]) {
  const sum = (f: (s: SeedOutcome) => number) => outcomes.reduce((a, s) => a + f(s), 0)
  return {
    opsOk: sum((s) => s.result.stats.opsOk),
    opsFail: sum((s) => s.result.stats.opsFail),
    opsUnknown: sum((s) => s.result.stats.opsUnknown),
    leaderChanges: sum((s) => s.result.stats.leaderChanges),
    faults: sum((s) => s.result.stats.faults),
    simulatedMs: sum((s) => s.result.stats.simulatedMs),
    violations: outcomes.filter((s) => s.problem && !s.problem.startsWith('liveness')).length,
    livenessFailures: outcomes.filter((s) => s.problem?.startsWith('liveness')).length,
    checkerUnknown: outcomes.filter((s) => s.check.verdict === 'unknown').length,
  }
}

function printTable(
  out: (line: string) => void,
  o: SimCommandOptions,
  t: ReturnType<typeof summarise>,
  wallMs: number,
): void {
  const rows: [string, string][] = [
    ['engine', `${o.engine}, ${o.nodes} nodes, read mode ${o.readMode}`],
    ['nemesis', o.nemesis.length > 0 ? o.nemesis.join(', ') : 'none'],
    ['seeds', String(o.seeds.length)],
    ['ops ok / fail / unknown', `${t.opsOk} / ${t.opsFail} / ${t.opsUnknown}`],
    ['leader changes', String(t.leaderChanges)],
    ['faults injected', String(t.faults)],
    ['simulated time', `${(t.simulatedMs / 1000).toFixed(1)} s (wall ${(wallMs / 1000).toFixed(1)} s)`],
    ['safety violations', String(t.violations)],
    ['liveness failures', String(t.livenessFailures)],
    ['checker gave up', String(t.checkerUnknown)],
  ]
  const w = Math.max(...rows.map(([k]) => k.length))
  for (const [k, v] of rows) out(`${k.padEnd(w)}  ${v}`)
}
