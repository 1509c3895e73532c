import type { RaftTestingBug } from '../engines/raft/options.js'

/** The faults a nemesis may inject; `synod sim --nemesis` takes a comma-separated list. */
export type NemesisFault = 'partition' | 'crash' | 'drop' | 'dup' | 'reorder' | 'skew' | 'disk'
export const NEMESIS_FAULTS: readonly NemesisFault[] = [
  'partition',
  'crash',
  'drop',
  'dup',
  'reorder',
  'skew',
  'disk',
]

export type EngineName = 'raft'
export const ENGINES: readonly EngineName[] = ['raft']

/**
 * SimOptions describe one simulation run; together with the seed they determine it completely.
 * Times are virtual milliseconds.
 */
export interface SimOptions {
  readonly engine: EngineName
  readonly nodes: number
  readonly nemesis: readonly NemesisFault[]
  /** faultGapMs: the most time between two fault decisions; smaller is harsher. */
  readonly faultGapMs: number
  /** chaosMs: how long faults are injected; then everything heals for healMs (liveness phase). */
  readonly chaosMs: number
  readonly healMs: number
  /** tickMs: one engine tick; electionTicks=10 makes an election timeout 10 ticks. */
  readonly tickMs: number
  readonly clients: number
  readonly keys: number
  /** opTimeoutMs: a client gives up on an operation after this long; its outcome is unknown. */
  readonly opTimeoutMs: number
  /** thinkMs: the most a client waits between two operations. */
  readonly thinkMsMax: number
  /** readMode: lease reads are only sound under bounded clock drift, which `skew` respects. */
  readonly readMode: 'safe' | 'lease'
  /** driftMax: the largest clock rate error `skew` gives a node (0.05 = 5% fast or slow). */
  readonly driftMax: number
  /**
   * msgBytesMax: entry bytes per MsgApp. Tiny values send one entry per message, which opens the
   * windows some bugs need (an old-term entry acknowledged before the new leader's no-op).
   */
  readonly msgBytesMax: number
  /** Known bugs to plant in the engine (test-only; proves the checker catches them). */
  readonly bugs: readonly RaftTestingBug[]
  /** snapshotEntries: hosts snapshot and compact every this many entries (small, to exercise it). */
  readonly snapshotEntries: number
  /** eventsMax bounds a run, so a livelock ends as a failure instead of hanging. */
  readonly eventsMax: number
}

export const DEFAULT_SIM_OPTIONS: SimOptions = {
  engine: 'raft',
  nodes: 3,
  nemesis: NEMESIS_FAULTS,
  faultGapMs: 600,
  chaosMs: 6_000,
  healMs: 4_000,
  tickMs: 10,
  clients: 5,
  keys: 3,
  opTimeoutMs: 400,
  thinkMsMax: 20,
  readMode: 'safe',
  driftMax: 0.05,
  msgBytesMax: 64 * 1024,
  bugs: [],
  snapshotEntries: 64,
  eventsMax: 2_000_000,
}

export function validateSimOptions(o: SimOptions): void {
  const int = (v: number, min: number, name: string) => {
    if (!Number.isSafeInteger(v) || v < min) throw new RangeError(`sim: ${name} must be an integer >= ${min}`)
  }
  int(o.nodes, 1, 'nodes')
  int(o.chaosMs, 0, 'chaosMs')
  int(o.healMs, 1, 'healMs')
  int(o.tickMs, 1, 'tickMs')
  int(o.clients, 1, 'clients')
  int(o.keys, 1, 'keys')
  int(o.opTimeoutMs, 1, 'opTimeoutMs')
  int(o.thinkMsMax, 0, 'thinkMsMax')
  int(o.snapshotEntries, 0, 'snapshotEntries')
  int(o.faultGapMs, 1, 'faultGapMs')
  int(o.msgBytesMax, 1, 'msgBytesMax')
  int(o.eventsMax, 1, 'eventsMax')
  if (!ENGINES.includes(o.engine)) throw new RangeError(`sim: unknown engine ${o.engine}`)
  for (const f of o.nemesis) if (!NEMESIS_FAULTS.includes(f)) throw new RangeError(`sim: unknown fault ${f}`)
  if (!(o.driftMax >= 0 && o.driftMax < 0.5)) throw new RangeError('sim: driftMax must be in [0, 0.5)')
}
