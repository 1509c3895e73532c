import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { envName, fromEnv, fromFile, resolveServeConfig } from '../../src/server/config.js'
import { memberIdOf, parseAddress, parseInitialCluster } from '../../src/server/identity.js'

const CLUSTER = 'n1=127.0.0.1:2380,n2=127.0.0.1:2382,n3=http://127.0.0.1:2384'

describe('identity', () => {
  it('derives the same ids from the same flags, and other ids from another token or address', () => {
    const a = parseInitialCluster(CLUSTER, 't')
    const b = parseInitialCluster(CLUSTER, 't')
    assert.deepEqual(a, b)
    assert.equal(a.members.length, 3)
    assert.equal(new Set(a.members.map((m) => m.id)).size, 3)
    assert.match(a.id, /^[0-9a-f]{16}$/)
    assert.notEqual(parseInitialCluster(CLUSTER, 'other').id, a.id)
    assert.notEqual(memberIdOf('n1', { host: '127.0.0.1', port: 2390 }, 't'), a.members[0]?.id)
    assert.deepEqual(a.members[2]?.peer, { host: '127.0.0.1', port: 2384 })
  })

  it('refuses malformed, duplicate and empty member lists with the culprit named', () => {
    assert.throws(() => parseInitialCluster('', 't'), /no members/)
    assert.throws(() => parseInitialCluster('n1', 't'), /"n1" is not name=host:port/)
    assert.throws(() => parseInitialCluster('n1=127.0.0.1', 't'), /not host:port/)
    assert.throws(() => parseInitialCluster('n1=a:1,n1=b:2', 't'), /n1 appears twice/)
    assert.throws(() => parseInitialCluster('n1=a:1,n2=a:1', 't'), /a:1 appears twice/)
    assert.throws(() => parseAddress('h:99999', 'x'), /not host:port/)
    assert.deepEqual(parseAddress('[::1]:5', 'x'), { host: '::1', port: 5 })
  })
})

describe('serve config', () => {
  it('takes defaults, then file, then environment, then flags', () => {
    const dir = mkdtempSync(join(tmpdir(), 'synod-config-'))
    try {
      const file = join(dir, 'c.json')
      writeFileSync(file, JSON.stringify({ name: 'n2', 'data-dir': '/from-file', 'log-level': 'debug' }))
      const env = { [envName('dataDir')]: '/from-env', SYNOD_HEARTBEAT_INTERVAL: '50', UNRELATED: 'x' }
      const c = resolveServeConfig(fromFile(file), fromEnv(env), {
        initialCluster: CLUSTER,
        logLevel: 'warn',
      })
      assert.equal(c.name, 'n2')
      assert.equal(c.dataDir, '/from-env')
      assert.equal(c.tickMs, 50)
      assert.equal(c.logLevel, 'warn')
      assert.equal(c.initialClusterState, 'new')
      assert.equal(c.cluster.members.length, 3)
      assert.deepEqual(c.listenClient, { host: '127.0.0.1', port: 2379 })
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('a lone member with no --initial-cluster forms a cluster of itself', () => {
    const c = resolveServeConfig({ name: 'solo' })
    assert.deepEqual(
      c.cluster.members.map((m) => m.name),
      ['solo'],
    )
    assert.equal(c.dataDir, 'solo.synod')
  })

  it('refuses bad values with a message that names the flag', () => {
    assert.throws(() => resolveServeConfig({ name: 'n9', initialCluster: CLUSTER }), /--name n9 is not in/)
    assert.throws(() => resolveServeConfig({ initialClusterState: 'old' }), /new or existing/)
    assert.throws(() => resolveServeConfig({ tickMs: '0' }), /--heartbeat-interval must be an integer >= 1/)
    assert.throws(() => resolveServeConfig({ logLevel: 'loud' }), /--log-level/)
    const dir = mkdtempSync(join(tmpdir(), 'synod-config-'))
    try {
      writeFileSync(join(dir, 'bad.json'), '{"nmae": "x"}')
      assert.throws(() => fromFile(join(dir, 'bad.json')), /unknown option "nmae"/)
      writeFileSync(join(dir, 'bad2.json'), '[1]')
      assert.throws(() => fromFile(join(dir, 'bad2.json')), /expected a JSON object/)
      assert.throws(() => fromFile(join(dir, 'missing.json')), /missing\.json/)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
