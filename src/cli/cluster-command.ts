import { resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { LocalCluster, type LocalMember, statusOf } from './local-cluster.js'

/**
 * runClusterUp is `synod cluster up`: a local cluster of separate `synod serve` processes, data
 * under `<data>/<name>`, member i on client port base+2i and peer port base+2i+1 (n1: 2379 and
 * 2380, etcd's ports). It prints the endpoints once every member knows the leader, streams each
 * member's log prefixed with its name, and on SIGINT / SIGTERM stops them all (SIGTERM, then
 * SIGKILL after a grace period) before exiting.
 */

export interface ClusterUpOptions {
  readonly nodes: number
  readonly dataDir: string
  readonly portBase: number
  readonly host: string
  /** extraArgs are passed to every `synod serve` (e.g. --heartbeat-interval 50). */
  readonly extraArgs: readonly string[]
}

const MAIN = fileURLToPath(new URL('./main.js', import.meta.url))
const STOP_GRACE_MS = 10_000
const READY_TIMEOUT_MS = 30_000

export async function runClusterUp(o: ClusterUpOptions, out: (line: string) => void): Promise<number> {
  const cluster = await LocalCluster.create({
    nodes: o.nodes,
    dataDir: o.dataDir,
    portBase: o.portBase,
    host: o.host,
    serveArgs: o.extraArgs,
    onLog: (name, line) => out(`${name} | ${formatLogLine(line)}`),
  })
  cluster.startAll()
  let stopping = false
  const exited = Promise.all(cluster.members.map((m) => cluster.waitExit(m.name)))
  for (const m of cluster.members) {
    m.child?.once('exit', (code, signal) => {
      if (!stopping) out(`${m.name} | exited (${signal ?? `code ${code}`}); the others keep running`)
    })
  }
  const stopAll = () => {
    if (stopping) return
    stopping = true
    out('stopping the cluster…')
    for (const m of cluster.members) void cluster.stop(m.name)
    setTimeout(() => void cluster.destroy(), STOP_GRACE_MS).unref()
  }
  process.on('SIGINT', stopAll)
  process.on('SIGTERM', stopAll)
  const leader = await waitReady(cluster)
  const ready = leader !== undefined
  if (leader && !stopping) printEndpoints(cluster, leader, out)
  if (!ready && !stopping) {
    out(`the cluster did not agree on a leader within ${READY_TIMEOUT_MS / 1000} s; stopping`)
    stopAll()
  }
  await exited
  return ready ? 0 : 1
}

/**
 * waitReady polls every member until all name the same leader (returned), or one exits, or time
 * runs out (undefined).
 */
async function waitReady(c: LocalCluster): Promise<LocalMember | undefined> {
  const deadline = performance.now() + READY_TIMEOUT_MS
  while (performance.now() < deadline) {
    if (c.members.some((m) => !c.isUp(m.name))) return undefined
    const leaders = await Promise.all(c.members.map((m) => statusOf(m.client).then((s) => s?.leaderName)))
    const [first] = leaders
    if (typeof first === 'string' && leaders.every((l) => l === first)) return c.member(first)
    await new Promise((r) => setTimeout(r, 100))
  }
  return undefined
}

function printEndpoints(c: LocalCluster, leader: LocalMember, out: (line: string) => void): void {
  const flag = c.members[0]?.client === '127.0.0.1:2379' ? '' : ` --endpoints ${c.endpoints.join(',')}`
  out('')
  out(`Synod cluster of ${c.members.length} is up. Ctrl-C stops it.`)
  for (const m of c.members) {
    out(
      `  ${m.name}  client http://${m.client}  peer ${m.peer}  data ${resolve(m.dataDir)}  pid ${m.child?.pid}`,
    )
  }
  out('')
  out(`  put:     node ${MAIN} put hello world${flag}`)
  out(`  get:     node ${MAIN} get hello${flag}`)
  out(`  status:  node ${MAIN} status${flag}`)
  out(
    `  curl:    curl -X PUT http://${leader.client}/v0/kv/hello -d world   (writes go to the leader, ${leader.name} now)`,
  )
  out('')
}

const LEVELS: Record<number, string> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO',
  40: 'WARN',
  50: 'ERROR',
  60: 'FATAL',
}
const HIDDEN = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'member'])

export function formatLogLine(line: string): string {
  let rec: Record<string, unknown>
  try {
    rec = JSON.parse(line) as Record<string, unknown>
  } catch {
    return line
  }
  if (typeof rec !== 'object' || rec === null) return line
  const time = typeof rec.time === 'number' ? new Date(rec.time).toISOString().slice(11, 23) : ''
  const level = LEVELS[Number(rec.level)] ?? String(rec.level)
  const fields = Object.entries(rec)
    .filter(([k]) => !HIDDEN.has(k))
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
  return [time, level.padEnd(5), String(rec.msg ?? ''), ...fields].join(' ')
}
