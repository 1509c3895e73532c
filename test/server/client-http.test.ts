import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { nodeId } from '../../src/core/ids.js'
import { silentLogger } from '../../src/core/logger.js'
import { decodeKvCommand, decodeKvQuery, encodeKvResult } from '../../src/kv/register-commands.js'
import type { HostCallback, HostResult } from '../../src/node/host.js'
import { CLIENT_BODY_BYTES_MAX, ClientHttpServer, type RequestHost } from '../../src/server/client-http.js'

/** The interim client port against a scripted host: each answer maps to its HTTP status and body. */

class ScriptedHost implements RequestHost {
  next: HostResult | 'never' = { ok: true, index: 7 as never, result: encodeKvResult(null) }
  readonly seen: string[] = []
  propose(cmd: Uint8Array, done: HostCallback): void {
    this.seen.push(JSON.stringify(decodeKvCommand(cmd)))
    if (this.next !== 'never') done(this.next)
  }
  read(query: Uint8Array, level: string, done: HostCallback): void {
    this.seen.push(`${level} ${decodeKvQuery(query).key}`)
    if (this.next !== 'never') done(this.next)
  }
}

describe('client port (HTTP)', () => {
  const host = new ScriptedHost()
  const server = new ClientHttpServer(
    host,
    () => ({ leader: 'abc' }),
    () => ({ applied: 3, digest: 'd' }),
    silentLogger,
  )
  let base = ''
  before(async () => {
    await server.listen({ host: '127.0.0.1', port: 0 })
    base = `http://127.0.0.1:${server.address().port}`
  })
  after(() => server.close())

  const call = async (method: string, path: string, body?: string) => {
    const res = await fetch(`${base}${path}`, { method, body })
    return { status: res.status, body: (await res.json()) as Record<string, unknown> }
  }

  it('puts, gets and deletes through the host, keys percent-decoded', async () => {
    host.next = { ok: true, index: 7 as never, result: encodeKvResult(null) }
    assert.deepEqual(await call('PUT', '/v0/kv/a%2Fb', 'v 1'), { status: 200, body: { index: 7 } })
    host.next = { ok: true, index: 8 as never, result: encodeKvResult('v 1') }
    assert.deepEqual(await call('GET', '/v0/kv/a%2Fb'), { status: 200, body: { value: 'v 1', index: 8 } })
    await call('GET', '/v0/kv/a%2Fb?consistency=serializable')
    host.next = { ok: true, index: 9 as never, result: encodeKvResult('true') }
    assert.deepEqual(await call('DELETE', '/v0/kv/a%2Fb'), { status: 200, body: { index: 9, deleted: true } })
    assert.deepEqual(host.seen.slice(-4), [
      '{"f":"put","key":"a/b","value":"v 1"}',
      'linearizable a/b',
      'serializable a/b',
      '{"f":"delete","key":"a/b"}',
    ])
  })

  it('maps each host error to a status a client can act on', async () => {
    const cases: [HostResult, number, Record<string, unknown>][] = [
      [
        { ok: false, error: { code: 'not-leader', leaderHint: nodeId(0xab) } },
        421,
        {
          error: 'not-leader',
          leader: 'ab',
          message: 'this member does not lead: send writes to the leader (synod put finds it)',
        },
      ],
      [{ ok: false, error: { code: 'not-committed' } }, 409, { error: 'not-committed' }],
      [{ ok: false, error: { code: 'unknown' } }, 504, { error: 'unknown' }],
      [{ ok: false, error: { code: 'overloaded' } }, 503, { error: 'overloaded' }],
      [{ ok: false, error: { code: 'stopped' } }, 503, { error: 'stopped' }],
    ]
    for (const [result, status, body] of cases) {
      host.next = result
      assert.deepEqual(await call('PUT', '/v0/kv/k', 'v'), { status, body })
    }
  })

  it('refuses bad requests without reaching the host, and keeps serving', async () => {
    const before = host.seen.length
    assert.equal((await call('PUT', '/v0/kv/%E0%A4%A', 'v')).status, 400)
    assert.equal((await call('PUT', '/v0/kv/', 'v')).status, 400)
    assert.equal((await call('POST', '/v0/kv/k', 'v')).status, 405)
    assert.equal((await call('GET', '/nowhere')).status, 404)
    assert.equal((await call('GET', '/v0/kv/k?consistency=eventual')).status, 400)
    const big = 'x'.repeat(CLIENT_BODY_BYTES_MAX + 1)
    const res = await fetch(`${base}/v0/kv/k`, { method: 'PUT', body: big }).catch(() => undefined)
    assert.ok(res === undefined || res.status === 413)
    assert.equal(host.seen.length, before)
    host.next = { ok: true, index: 1 as never, result: encodeKvResult(null) }
    assert.equal((await call('PUT', '/v0/kv/k', 'v')).status, 200)
  })

  it('serves status, digest and health', async () => {
    assert.deepEqual(await call('GET', '/v0/status'), { status: 200, body: { leader: 'abc' } })
    assert.deepEqual(await call('GET', '/v0/digest'), { status: 200, body: { applied: 3, digest: 'd' } })
    assert.deepEqual(await call('GET', '/health'), { status: 200, body: { health: 'true' } })
  })
})
