import { readFileSync } from 'node:fs'
import { type ClusterSpec, type PeerAddress, parseAddress, parseInitialCluster } from './identity.js'

/**
 * ServeConfig is everything `synod serve` needs. It comes from, in rising precedence: defaults,
 * a JSON config file (`--config-file`, keys named as the flags), `SYNOD_*` environment variables
 * (`SYNOD_DATA_DIR` for `--data-dir`, as etcd reads `ETCD_DATA_DIR`), and command-line flags.
 */
export interface ServeConfig {
  readonly name: string
  readonly dataDir: string
  readonly listenPeer: PeerAddress
  readonly listenClient: PeerAddress
  readonly cluster: ClusterSpec
  /** new: bootstrap the initial cluster from an empty data dir; existing: join one that runs. */
  readonly initialClusterState: 'new' | 'existing'
  readonly tickMs: number
  readonly electionTicks: number
  /** snapshotCount: entries applied between snapshots (etcd's --snapshot-count). */
  readonly snapshotCount: number
  /** snapshotCatchupEntries: entries kept behind a snapshot for slow followers (etcd's name). */
  readonly snapshotCatchupEntries: number
  readonly walSegmentBytes: number
  readonly logLevel: 'debug' | 'info' | 'warn' | 'error'
}

/** RawServeOptions: option name (flag without dashes, camel-cased) → text, before validation. */
export type RawServeOptions = Partial<Record<ServeOptionName, string>>

export const SERVE_OPTIONS = {
  name: { flag: 'name', help: 'member name, one of --initial-cluster', default: 'default' },
  dataDir: { flag: 'data-dir', help: 'where the WAL and snapshots live', default: '' },
  listenPeer: { flag: 'listen-peer', help: 'host:port for peer traffic', default: '127.0.0.1:2380' },
  listenClient: { flag: 'listen-client', help: 'host:port for clients', default: '127.0.0.1:2379' },
  initialCluster: { flag: 'initial-cluster', help: 'name=host:port,… of the initial members', default: '' },
  initialClusterState: { flag: 'initial-cluster-state', help: 'new or existing', default: 'new' },
  initialClusterToken: {
    flag: 'initial-cluster-token',
    help: 'distinguishes clusters started with the same members',
    default: 'synod-cluster',
  },
  tickMs: { flag: 'heartbeat-interval', help: 'milliseconds per tick (one heartbeat)', default: '100' },
  electionTicks: { flag: 'election-ticks', help: 'ticks without a leader before an election', default: '10' },
  snapshotCount: { flag: 'snapshot-count', help: 'applied entries between snapshots', default: '10000' },
  snapshotCatchupEntries: {
    flag: 'snapshot-catchup-entries',
    help: 'entries kept behind a snapshot, so a slow follower needs no snapshot',
    default: '5000',
  },
  walSegmentBytes: {
    flag: 'wal-segment-bytes',
    help: 'size of one preallocated WAL segment',
    default: '67108864',
  },
  logLevel: { flag: 'log-level', help: 'debug, info, warn or error', default: 'info' },
} as const

export type ServeOptionName = keyof typeof SERVE_OPTIONS

/** envName: `data-dir` → `SYNOD_DATA_DIR`. */
export function envName(option: ServeOptionName): string {
  return `SYNOD_${SERVE_OPTIONS[option].flag.replaceAll('-', '_').toUpperCase()}`
}

/** fromEnv picks the SYNOD_* variables that name a serve option. */
export function fromEnv(env: NodeJS.ProcessEnv): RawServeOptions {
  const out: RawServeOptions = {}
  for (const option of Object.keys(SERVE_OPTIONS) as ServeOptionName[]) {
    const v = env[envName(option)]
    if (v !== undefined) out[option] = v
  }
  return out
}

/** fromFile reads a JSON object whose keys are flag names (`"data-dir": "…"`). */
export function fromFile(path: string): RawServeOptions {
  let parsed: unknown
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'))
  } catch (err) {
    throw new Error(`--config-file ${path}: ${err instanceof Error ? err.message : String(err)}`)
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new Error(`--config-file ${path}: expected a JSON object of flag names to values`)
  }
  const byFlag = new Map(
    Object.entries(SERVE_OPTIONS).map(([k, v]) => [v.flag as string, k as ServeOptionName]),
  )
  const out: RawServeOptions = {}
  for (const [key, value] of Object.entries(parsed)) {
    const option = byFlag.get(key)
    if (!option) throw new Error(`--config-file ${path}: unknown option "${key}"`)
    out[option] = String(value)
  }
  return out
}

/** resolveServeConfig merges the layers (later wins) and validates the result. */
export function resolveServeConfig(...layers: RawServeOptions[]): ServeConfig {
  const raw = Object.assign({}, ...layers) as RawServeOptions
  const get = (o: ServeOptionName): string => raw[o] ?? SERVE_OPTIONS[o].default
  const name = get('name')
  const listenPeer = parseAddress(get('listenPeer'), '--listen-peer')
  const initialCluster = get('initialCluster') || `${name}=${get('listenPeer')}`
  const cluster = parseInitialCluster(initialCluster, get('initialClusterToken'))
  if (!cluster.members.some((m) => m.name === name)) {
    throw new Error(
      `--name ${name} is not in --initial-cluster (${cluster.members.map((m) => m.name).join(', ')})`,
    )
  }
  const state = get('initialClusterState')
  if (state !== 'new' && state !== 'existing')
    throw new Error('--initial-cluster-state must be new or existing')
  const level = get('logLevel')
  if (!['debug', 'info', 'warn', 'error'].includes(level))
    throw new Error('--log-level must be debug, info, warn or error')
  return {
    name,
    dataDir: get('dataDir') || `${name}.synod`,
    listenPeer,
    listenClient: parseAddress(get('listenClient'), '--listen-client'),
    cluster,
    initialClusterState: state,
    tickMs: positiveInt(get('tickMs'), '--heartbeat-interval', 1),
    electionTicks: positiveInt(get('electionTicks'), '--election-ticks', 2),
    snapshotCount: positiveInt(get('snapshotCount'), '--snapshot-count', 1),
    snapshotCatchupEntries: positiveInt(get('snapshotCatchupEntries'), '--snapshot-catchup-entries', 0),
    walSegmentBytes: positiveInt(get('walSegmentBytes'), '--wal-segment-bytes', 4096),
    logLevel: level as ServeConfig['logLevel'],
  }
}

function positiveInt(text: string, what: string, min: number): number {
  const n = Number(text)
  if (!Number.isSafeInteger(n) || n < min)
    throw new Error(`${what} must be an integer >= ${min}, not "${text}"`)
  return n
}
