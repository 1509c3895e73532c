import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { connect } from 'node:net'
import { dirname, join, resolve } from 'node:path'
import { describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { waitFor, waitForLeader } from '../../src/cli/local-cluster.js'
import { HttpKvClient } from '../../src/client/http-kv-client.js'
import { seededRng } from '../../src/core/rng.js'
import { memberIdOf, type PeerAddress, parseAddress } from '../../src/server/identity.js'
import { withCluster } from './test-cluster.js'

/**
 * A member must refuse what is not its own: a WAL with a flipped byte (it must not start, and
 * must say where and what to do) and a process from another cluster (its peers refuse it, and the
 * cluster keeps serving).
 */

const MAIN = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'cli', 'main.js')

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

  it('a member keeps serving after random bytes on its peer and client ports', async () => {
    await withCluster(3, async (c) => {
      const target = c.member(await waitForLeader(c))
      const rng = seededRng(4)
      for (let k = 0; k < 60; k++) {
        const bytes = Uint8Array.from({ length: rng.int(1, 2048) }, () => rng.int(0, 255))
        await sendAndClose(target.peer, bytes)
        await sendAndClose(target.client, bytes)
      }
      // A frame header announcing 4 GiB, and half an HTTP request.
      await sendAndClose(target.peer, Uint8Array.from([0xff, 0xff, 0xff, 0xff, 1, 2, 3]))
      await sendAndClose(
        target.client,
        new TextEncoder().encode('PUT /v0/kv/x HTTP/1.1\r\nContent-Length: 99\r\n\r\nab'),
      )
      assert.ok(c.isUp(target.name), `${target.name} survived`)
      const kv = new HttpKvClient(c.endpoints)
      for (let i = 0; i < 20; i++) assert.equal((await kv.put(`after-${i}`, 'garbage')).status, 'ok')
      const got = await new HttpKvClient([target.client]).get('after-19')
      assert.ok(got.status === 'ok' && got.value === 'garbage')
    })
  })

  it('a second process on the same data dir is refused while the first keeps serving', async () => {
    await withCluster(1, async (c) => {
      await waitForLeader(c)
      const first = c.member('n1').child
      const port = 1 + Number(c.member('n1').client.split(':')[1])
      const second = spawn(process.execPath, [
        MAIN,
        'serve',
        '--name',
        'n1',
        '--data-dir',
        c.member('n1').dataDir,
        '--listen-client',
        `127.0.0.1:${port}`,
        '--initial-cluster-token',
        'chaos',
        '--initial-cluster',
        `n1=${c.member('n1').peer}`,
      ])
      let out = ''
      second.stdout.on('data', (b: Buffer) => {
        out += b.toString('utf8')
      })
      const code = await new Promise((r) => second.once('exit', r))
      assert.equal(code, 1)
      assert.match(out, new RegExp(`is in use by process ${first?.pid}`))
      assert.equal((await new HttpKvClient(c.endpoints).put('still', 'mine')).status, 'ok')
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
      // Same name and addresses, another token: another cluster id (and member ids). Only the
      // smaller id of a pair dials, so pick a token that makes the impostor the smallest in its
      // own view: it then dials n1 and n2, who must refuse it.
      c.start('n3', [
        '--initial-cluster-token',
        impostorToken(c.members.map((m) => ({ name: m.name, peer: parseAddress(m.peer, m.name) }))),
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

/** sendAndClose writes `bytes` to host:port and closes; errors (a reset) are what we expect. */
function sendAndClose(address: string, bytes: Uint8Array): Promise<void> {
  const [host, port] = address.split(':') as [string, string]
  return new Promise((resolve) => {
    const socket = connect(Number(port), host, () => socket.end(bytes))
    socket.on('error', () => resolve())
    socket.on('close', () => resolve())
    socket.setTimeout(2000, () => socket.destroy())
    socket.resume()
  })
}

/** impostorToken finds a cluster token under which n3 has the smallest member id of all. */
function impostorToken(members: readonly { name: string; peer: PeerAddress }[]): string {
  for (let k = 0; ; k++) {
    const token = `another-cluster-${k}`
    const ids = members.map((m) => memberIdOf(m.name, m.peer, token))
    if (ids[2] === Math.min(...ids)) return token
  }
}
