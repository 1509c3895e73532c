import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { type NodeId, nodeId } from '../../src/core/ids.js'
import { seededRng } from '../../src/core/rng.js'
import type { EngineStart } from '../../src/engines/engine.js'
import type { RaftMessage } from '../../src/engines/raft/messages.js'
import { DEFAULT_RAFT_OPTIONS } from '../../src/engines/raft/options.js'
import { RaftEngine } from '../../src/engines/raft/raft.js'
import { decodeKvResult, encodeKvCommand, encodeKvQuery } from '../../src/kv/register-commands.js'
import { RegisterKv } from '../../src/kv/register-kv.js'
import { Host, type HostResult } from '../../src/node/host.js'
import { applyBatchTo, MemoryStorage } from '../../src/storage/memory-storage.js'
import type { PersistBatch, Storage, StorageCallback } from '../../src/storage/storage.js'

/**
 * Host loop tests with a disk whose fsyncs complete only when the test says so, so the group
 * commit and the persist-before-send rule can be observed.
 */
class ManualDisk implements Storage {
  readonly pending: { batch: PersistBatch; done: StorageCallback }[] = []
  readonly inner = new MemoryStorage()
  persist(batch: PersistBatch, done: StorageCallback): void {
    this.pending.push({ batch, done })
  }
  saveSnapshot(): void {}
  flush(): void {
    for (const p of this.pending.splice(0)) this.inner.persist(p.batch, p.done)
  }
}

function group(n: number, diskOf: (id: NodeId) => Storage) {
  const ids = Array.from({ length: n }, (_, k) => nodeId(k + 1))
  const wire: RaftMessage[] = []
  const hosts = new Map<NodeId, Host<RaftMessage>>()
  for (const id of ids) {
    hosts.set(
      id,
      new Host<RaftMessage>({
        id,
        newEngine: (start: EngineStart) =>
          new RaftEngine({ ...DEFAULT_RAFT_OPTIONS, rng: seededRng(id) }, start),
        storage: diskOf(id),
        transport: { send: (ms) => wire.push(...ms) },
        stateMachine: new RegisterKv(),
        durable: { entries: [] },
        bootstrap: ids,
        options: { snapshotEntries: 0 },
      }),
    )
  }
  const deliver = () => {
    for (let i = 0; i < 10_000 && wire.length > 0; i++) {
      const m = wire.shift() as RaftMessage
      hosts.get(m.to)?.receive(m)
    }
  }
  const host = (id: number) => hosts.get(nodeId(id)) as Host<RaftMessage>
  return { ids, wire, hosts, deliver, host }
}

const put = (key: string, value: string) => encodeKvCommand({ f: 'put', key, value })
const get = (key: string) => encodeKvQuery({ f: 'get', key })

function electOne(g: ReturnType<typeof group>, flush: () => void = () => {}): Host<RaftMessage> {
  for (let t = 0; t < 100; t++) {
    for (const h of g.hosts.values()) h.tick()
    for (let k = 0; k < 5; k++) {
      flush()
      g.deliver()
    }
    const leader = [...g.hosts.values()].find((h) => h.status().role === 'leader')
    if (leader) return leader
  }
  throw new Error('no leader')
}

describe('node/host', () => {
  it('commits a proposal and answers linearizable and serializable reads', () => {
    const g = group(3, () => new MemoryStorage())
    const leader = electOne(g)
    const results: HostResult[] = []
    leader.propose(put('x', '1'), (r) => results.push(r))
    g.deliver()
    assert.equal(results.length, 1)
    assert.ok(results[0]?.ok)
    const follower = [...g.hosts.values()].find((h) => h !== leader) as Host<RaftMessage>
    follower.read(get('x'), 'linearizable', (r) => results.push(r))
    g.deliver()
    const read = results[1]
    assert.ok(read?.ok)
    assert.equal(decodeKvResult(read.result), '1')
  })

  it('refuses proposals on a follower with the leader hint', () => {
    const g = group(3, () => new MemoryStorage())
    const leader = electOne(g)
    const follower = [...g.hosts.values()].find((h) => h !== leader) as Host<RaftMessage>
    let got: HostResult | undefined
    follower.propose(put('x', '1'), (r) => {
      got = r
    })
    assert.deepEqual(got, { ok: false, error: { code: 'not-leader', leaderHint: leader.id } })
  })

  it('sends nothing that depends on a batch before its fsync, and batches proposals that wait (group commit)', () => {
    const disks = new Map<NodeId, ManualDisk>()
    const g = group(3, (id) => {
      const d = new ManualDisk()
      disks.set(id, d)
      return d
    })
    const flushAll = () => {
      for (const d of disks.values()) d.flush()
    }
    const leader = electOne(g, flushAll)
    flushAll()
    g.deliver()
    flushAll()
    g.deliver()
    const disk = disks.get(leader.id) as ManualDisk
    const done: HostResult[] = []
    leader.propose(put('a', '1'), (r) => done.push(r))
    assert.equal(disk.pending.length, 1, 'the first proposal is on its way to disk')
    assert.equal(g.wire.length, 0, 'no MsgApp before the leader persisted (this host sends after persist)')
    for (let i = 0; i < 10; i++) leader.propose(put('b', String(i)), (r) => done.push(r))
    assert.equal(disk.pending.length, 1, 'proposals wait while a batch is on disk')
    disk.flush()
    assert.equal(disk.pending.length, 1, 'the ten waiting proposals form the next batch')
    assert.equal(disk.pending[0]?.batch.entries.length, 10)
    for (let k = 0; k < 6; k++) {
      flushAll()
      g.deliver()
    }
    assert.equal(done.length, 11)
    assert.ok(done.every((r) => r.ok))
  })

  it('answers every waiting client when stopped: a proposal in the log is unknown, a read did not run', () => {
    const disks = new Map<NodeId, ManualDisk>()
    const g = group(3, (id) => {
      const d = new ManualDisk()
      disks.set(id, d)
      return d
    })
    const leader = electOne(g, () => {
      for (const d of disks.values()) d.flush()
    })
    const done: Record<string, string | false> = {}
    const answer = (label: string) => (r: HostResult) => {
      done[label] = !r.ok && r.error.code
    }
    for (const d of disks.values()) d.flush()
    // The first command enters the log and goes to disk; the second waits for the next batch.
    leader.propose(put('a', '1'), answer('in the log'))
    leader.propose(put('a', '2'), answer('queued'))
    leader.read(get('a'), 'linearizable', answer('read'))
    leader.stop()
    assert.deepEqual(done, { 'in the log': 'unknown', queued: 'stopped', read: 'stopped' })
  })

  it('applies the storage contract: a snapshot replaces entries, later entries replace a suffix', () => {
    const e = (index: number, term: number) =>
      ({ index, term, type: 'normal', data: new Uint8Array() }) as never
    let s = applyBatchTo({ entries: [] }, { entries: [e(1, 1), e(2, 1), e(3, 1)] })
    s = applyBatchTo(s, { entries: [e(2, 2)] })
    assert.deepEqual(
      s.entries.map((x) => `${x.index}@${x.term}`),
      ['1@1', '2@2'],
    )
  })
})
