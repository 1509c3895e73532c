import assert from 'node:assert/strict'
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { waitFor, waitForLeader } from '../../src/cli/local-cluster.js'
import { HttpKvClient } from '../../src/client/http-kv-client.js'
import { withCluster } from './test-cluster.js'

/**
 * A member must refuse what is not its own: a WAL with a flipped byte (it must not start, and
 * must say where and what to do) and a process from another cluster (its peers refuse it, and the
 * cluster keeps serving).
 */

describe('refusals', { timeout: 60_000 }, () => {
  it('a member whose WAL has a flipped byte in the middle refuses to start, naming file and offset', async () => {
    await withCluster(3, async (c) => {
      await waitForLeader(c)
      const kv = new HttpKvClient(c.endpoints)
      for (let i = 0; i < 50; i++) assert.equal((await kv.put(`k${i}`, `value-${i}`)).status, 'ok')
      assert.equal(await c.stop('n3'), 0)
      const { file, offset } = flipByteInTheMiddle(c.member('n3').dataDir)
      c.start('n3')
      assert.equal(await c.waitExit('n3'), 1)
      const log = c.member('n3').log.join('\n')
      assert.ok(log.includes(file), `the error names ${file}:\n${log}`)
      // The error names the record holding the flipped byte: it starts at or before that byte.
      const reported = Number(/offset (\d+)/.exec(log)?.[1])
      assert.ok(
        reported <= offset && reported > offset - 4096,
        `reported offset ${reported}, flipped ${offset}`,
      )
      assert.match(log, /snapshot|re-add/)
      // The other two still serve.
      assert.equal((await kv.put('after', 'corruption')).status, 'ok')
    })
  })

  it("a member refuses to start on a data dir another cluster's member wrote", async () => {
    await withCluster(1, async (c) => {
      await waitForLeader(c)
      assert.equal(await c.stop('n1'), 0)
      c.start('n1', ['--initial-cluster-token', 'another-cluster'])
      assert.equal(await c.waitExit('n1'), 1)
      assert.match(
        c.member('n1').log.join('\n'),
        /belongs to member n1 \([0-9a-f]+\) of cluster [0-9a-f]{16}, not n1/,
      )
    })
  })

  it('a member started with another cluster id is refused by its peers, who keep serving', async () => {
    await withCluster(3, async (c) => {
      await waitForLeader(c)
      await c.stop('n3')
      // Same name and addresses, another token: another cluster id (and member id).
      c.start('n3', [
        '--initial-cluster-token',
        'another-cluster',
        '--data-dir',
        `${c.member('n3').dataDir}-x`,
      ])
      await waitFor('the refusals to be logged', 15_000, async () => {
        const peers = [...c.member('n1').log, ...c.member('n2').log].join('\n')
        const impostor = c.member('n3').log.join('\n')
        // n1 and n2 have the smaller ids or the larger: either they refuse the impostor's dial,
        // or the impostor refuses theirs. Both ends say why.
        const mismatch = /refused (peer connection from|us).*cluster id mismatch/
        return mismatch.test(peers) && mismatch.test(impostor) ? true : undefined
      })
      const kv = new HttpKvClient(c.endpoints.slice(0, 2))
      assert.equal((await kv.put('still', 'serving')).status, 'ok')
    })
  })
})

/**
 * flipByteInTheMiddle flips one byte halfway into the written part of the member's first WAL
 * segment — not in a torn tail, so recovery must refuse rather than truncate.
 */
function flipByteInTheMiddle(dataDir: string): { file: string; offset: number } {
  const dir = join(dataDir, 'member')
  const segments = listFiles(dir)
    .filter((f) => /\.wal$/.test(f))
    .sort()
  const file = segments[0]
  assert.ok(file, `no WAL segment in ${dir}: ${listFiles(dir).join(', ')}`)
  const bytes = readFileSync(file)
  let written = bytes.length
  while (written > 0 && bytes[written - 1] === 0) written--
  const offset = Math.floor(written / 2)
  bytes[offset] = (bytes[offset] as number) ^ 0x40
  writeFileSync(file, bytes)
  return { file, offset }
}

function listFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name)
    return statSync(p).isDirectory() ? listFiles(p) : [p]
  })
}
