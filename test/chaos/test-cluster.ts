import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { LocalCluster } from '../../src/cli/local-cluster.js'

/**
 * Fast timers, so that an election after a kill takes a fraction of a second; small segments and
 * frequent snapshots keeping few entries behind, so that a test of seconds rolls segments over,
 * compacts, and catches restarted members up by InstallSnapshot.
 */
const TEST_SERVE_ARGS = [
  ['--heartbeat-interval', '20'],
  ['--election-ticks', '10'],
  ['--wal-segment-bytes', '65536'],
  ['--snapshot-count', '500'],
  ['--snapshot-catchup-entries', '100'],
].flat()

/**
 * withCluster runs `body` against a fresh cluster of real processes on free loopback ports, with
 * its own data dir; whatever happens, every process is killed by PID and the data removed
 * afterwards, and a failure prints the members' logs.
 */
export async function withCluster(
  nodes: number,
  body: (c: LocalCluster) => Promise<void>,
  token = 'chaos',
): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'synod-chaos-'))
  const c = await LocalCluster.create({ nodes, dataDir, portBase: 0, token, serveArgs: TEST_SERVE_ARGS })
  try {
    c.startAll()
    await body(c)
  } catch (err) {
    console.error(c.logs())
    throw err
  } finally {
    await c.destroy()
    rmSync(dataDir, { recursive: true, force: true })
  }
}
