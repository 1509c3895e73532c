import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { cpus, tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import * as hdr from 'hdr-histogram-js'
import { LocalCluster, waitForLeader } from '../../cli/local-cluster.js'
import { HttpKvClient } from '../../client/http-kv-client.js'
import { measureFsyncLatency } from '../../storage/wal/bench-fsync.js'

/**
 * The durable-commit benchmark: the disk's raw fsync latency (the floor under any durable
 * commit), then a 3-member cluster of real processes on the same disk, with puts acknowledged
 * only once a quorum has fsynced them — one client (latency), then several (throughput with
 * group commit). The client speaks the interim HTTP port; a serializable get on the leader
 * measures that path's own round trip, so the cost of consensus and disk can be read apart.
 *
 *   node dist/src/bench/durable/run.js [--seconds 10] [--clients 16] [--dir DIR] [--json]
 */

interface Figures {
  readonly ops: number
  readonly seconds: number
  readonly perSecond: number
  readonly p50Ms: number
  readonly p90Ms: number
  readonly p99Ms: number
  readonly maxMs: number
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      seconds: { type: 'string', default: '10' },
      clients: { type: 'string', default: '16' },
      dir: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  })
  const seconds = Number(values.seconds)
  const root = values.dir ? values.dir : mkdtempSync(join(tmpdir(), 'synod-bench-'))
  mkdirSync(root, { recursive: true })
  const say = (s: string) => values.json || process.stderr.write(`${s}\n`)
  const fsync256 = await measureFsyncLatency(root, 2000, 256)
  const fsync4k = await measureFsyncLatency(root, 2000, 4096)
  say(`fsync 256 B: p50 ${fsync256.p50Ms.toFixed(3)} ms · 4 KiB: p50 ${fsync4k.p50Ms.toFixed(3)} ms`)
  const cluster = await LocalCluster.create({ nodes: 3, dataDir: join(root, 'cluster'), portBase: 0 })
  try {
    cluster.startAll()
    const leader = await waitForLeader(cluster)
    const leaderClient = cluster.member(leader).client
    // The leader first, so that no put pays for a redirect.
    const endpoints = [leaderClient, ...cluster.endpoints.filter((e) => e !== leaderClient)]
    await load(endpoints, 1, 1, 'warmup')
    const httpFloor = await load(endpoints, 1, seconds / 2, 'get')
    say(`serializable get (HTTP round trip): p50 ${httpFloor.p50Ms.toFixed(3)} ms`)
    const single = await load(endpoints, 1, seconds, 'put')
    say(
      `put, 1 client: ${single.perSecond.toFixed(0)}/s, p50 ${single.p50Ms.toFixed(3)} ms, p99 ${single.p99Ms.toFixed(3)} ms`,
    )
    const many = await load(endpoints, Number(values.clients), seconds, 'put')
    say(
      `put, ${values.clients} clients: ${many.perSecond.toFixed(0)}/s, p50 ${many.p50Ms.toFixed(3)} ms, p99 ${many.p99Ms.toFixed(3)} ms`,
    )
    const report = {
      date: new Date().toISOString(),
      machine: `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}, ${process.platform}`,
      fsync256,
      fsync4k,
      httpFloor,
      single,
      many: { clients: Number(values.clients), ...many },
    }
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`)
  } finally {
    await cluster.destroy()
    if (!values.dir) rmSync(root, { recursive: true, force: true })
  }
}

/** load runs `clients` sequential clients for `seconds` and returns the latency distribution. */
async function load(
  endpoints: readonly string[],
  clients: number,
  seconds: number,
  op: 'put' | 'get' | 'warmup',
): Promise<Figures> {
  const h = hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 60_000_000,
    numberOfSignificantValueDigits: 3,
  })
  const value = 'v'.repeat(256)
  const start = performance.now()
  const end = start + seconds * 1000
  let failures = 0
  await Promise.all(
    Array.from({ length: clients }, async (_, c) => {
      const kv = new HttpKvClient(endpoints)
      for (let i = 0; performance.now() < end; i++) {
        const key = `k${c}-${i % 1000}`.padEnd(8, '.')
        const t = performance.now()
        const r = op === 'get' ? await kv.get(key, 'serializable') : await kv.put(key, value)
        if (r.status !== 'ok') failures++
        else h.recordValue(Math.max(1, Math.round((performance.now() - t) * 1000)))
      }
    }),
  )
  if (failures > 0) throw new Error(`${failures} ${op}s failed: the figures would not be comparable`)
  const elapsed = (performance.now() - start) / 1000
  const ms = (p: number) => h.getValueAtPercentile(p) / 1000
  return {
    ops: h.totalCount,
    seconds: elapsed,
    perSecond: h.totalCount / elapsed,
    p50Ms: ms(50),
    p90Ms: ms(90),
    p99Ms: ms(99),
    maxMs: h.maxValue / 1000,
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err))
  process.exitCode = 1
})
