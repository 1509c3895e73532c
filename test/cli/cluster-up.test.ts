import assert from 'node:assert/strict'
import { execFile, spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { HttpKvClient } from '../../src/client/http-kv-client.js'

/** `synod cluster up` (the README's main job) and `synod status`, as a user runs them. */

const MAIN = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'cli', 'main.js')
const run = promisify(execFile)

describe('synod cluster up', { timeout: 60_000 }, () => {
  it('starts 3 processes, prints their endpoints, answers status, and stops them all on SIGTERM', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'synod-up-'))
    const base = 30_000 + 2 * Math.floor(Math.random() * 10_000)
    const up = spawn(
      process.execPath,
      [MAIN, 'cluster', 'up', '--nodes', '3', '--port-base', String(base)].concat([
        '--data-dir',
        dataDir,
        '--',
        '--heartbeat-interval',
        '20',
      ]),
      { stdio: ['ignore', 'pipe', 'pipe'] },
    )
    const out: string[] = []
    up.stdout.on('data', (b: Buffer) => out.push(b.toString('utf8')))
    up.stderr.on('data', (b: Buffer) => out.push(b.toString('utf8')))
    const pids = () => [...out.join('').matchAll(/pid (\d+)/g)].map((m) => Number(m[1]))
    try {
      await until(
        () => out.join('').includes('is up'),
        30_000,
        () => out.join(''),
      )
      const text = out.join('')
      const endpoints = [0, 1, 2].map((i) => `127.0.0.1:${base + 2 * i}`)
      for (const e of endpoints) assert.ok(text.includes(`client http://${e}`), text)
      assert.match(text, /n1 \| .*INFO/) // each member's log, prefixed with its name
      assert.equal(pids().length, 3)

      assert.match(text, /put: +node .*main\.js put hello world --endpoints/)
      // synod put / get / del find the leader among the endpoints, whichever member leads.
      const synod = async (...args: string[]) =>
        (await run(process.execPath, [MAIN, ...args, '--endpoints', endpoints.join(',')])).stdout
      assert.equal(await synod('put', 'hello', 'world'), 'OK\n')
      assert.equal(await synod('get', 'hello'), 'world\n')
      assert.equal(await synod('del', 'hello'), '1\n')
      assert.equal(await synod('get', 'hello'), '')
      const kv = new HttpKvClient(endpoints)
      assert.equal((await kv.put('hello', 'again')).status, 'ok')

      const status = await run(process.execPath, [
        MAIN,
        'status',
        '--endpoints',
        endpoints.join(','),
        '--json',
      ])
      const rows = JSON.parse(status.stdout) as {
        name: string
        role: string
        leaderName: string
        walBytes: number
      }[]
      assert.deepEqual(
        rows.map((r) => r.name),
        ['n1', 'n2', 'n3'],
      )
      assert.equal(rows.filter((r) => r.role === 'leader').length, 1)
      assert.equal(new Set(rows.map((r) => r.leaderName)).size, 1)
      assert.ok(rows.every((r) => r.walBytes > 0))
      const table = await run(process.execPath, [MAIN, 'status', '--endpoints', endpoints.join(',')])
      assert.match(table.stdout, /^ENDPOINT\s+NAME\s+ID\s+ROLE\s+TERM\s+LEADER\s+COMMIT\s+APPLIED\s+WAL/)

      const exited = new Promise<number | null>((r) => up.once('exit', (code) => r(code)))
      up.kill('SIGTERM')
      assert.equal(await exited, 0)
      for (const pid of pids()) assert.equal(isAlive(pid), false, `member pid ${pid} outlived cluster up`)
    } finally {
      up.kill('SIGKILL')
      for (const pid of pids()) if (isAlive(pid)) process.kill(pid, 'SIGKILL')
      rmSync(dataDir, { recursive: true, force: true })
    }
  })
})

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

async function until(cond: () => boolean, ms: number, show: () => string): Promise<void> {
  const deadline = performance.now() + ms
  while (!cond()) {
    if (performance.now() > deadline) throw new Error(`timed out; output so far:\n${show()}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}
