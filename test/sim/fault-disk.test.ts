import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { index, nodeId, term } from '../../src/core/ids.js'
import { seededRng } from '../../src/core/rng.js'
import type { Entry, HardState, Snapshot } from '../../src/engines/engine.js'
import { EventQueue } from '../../src/sim/event-queue.js'
import { batchOf, FaultDisk, type FaultDiskOptions, walRecords } from '../../src/sim/fault-disk.js'
import { applyBatchTo, applySnapshotTo } from '../../src/storage/memory-storage.js'
import { type DurableState, mustSync, type PersistBatch } from '../../src/storage/storage.js'

const OPTS: FaultDiskOptions = { fsyncLatency: { minMs: 2, maxMs: 10 }, tornWrites: false }

const entry = (i: number, t = 1): Entry => ({
  term: term(t),
  index: index(i),
  type: 'normal',
  data: new Uint8Array([i]),
})
const entries = (from: number, to: number, t = 1): Entry[] => {
  const out: Entry[] = []
  for (let i = from; i <= to; i++) out.push(entry(i, t))
  return out
}
const hs = (t: number, commit = 0): HardState => ({ term: term(t), vote: nodeId(1), commit: index(commit) })
const snap = (i: number): Snapshot => ({
  meta: {
    index: index(i),
    term: term(1),
    membership: { voters: [nodeId(1)], votersOutgoing: [], learners: [], learnersNext: [], autoLeave: false },
  },
  data: new Uint8Array([i]),
})

function setup(options: FaultDiskOptions = OPTS, seed = 1, initial?: DurableState) {
  const queue = new EventQueue()
  const disk = new FaultDisk(queue, seededRng(seed), options, initial)
  const done: { n: number; err?: Error; at: number }[] = []
  const write = (n: number, batch: PersistBatch) =>
    disk.persist(batch, (err) => done.push({ n, at: queue.now(), ...(err && { err }) }))
  return { queue, disk, done, write, drain: () => queue.runUntil(queue.now() + 100_000, 100_000) }
}

/**
 * syncedState is what completed batches leave on disk: those that mustSync, and before each of
 * them every unsynced one (a sync flushes what was written before it).
 */
function syncedState(batches: readonly PersistBatch[]): { state: DurableState; unsyncedAtEnd: number } {
  let state: DurableState = { entries: [] }
  let cached: PersistBatch[] = []
  let written: HardState | undefined
  for (const b of batches) {
    if (mustSync(b, written)) {
      state = [...cached, b].reduce(applyBatchTo, state)
      cached = []
    } else {
      cached.push(b)
    }
    written = b.hardState ?? written
  }
  return { state, unsyncedAtEnd: cached.length }
}

describe('sim/fault-disk', () => {
  it('completes writes in order, from the queue, one fsync after another', () => {
    const { queue, disk, done, write, drain } = setup()
    write(1, { entries: entries(1, 2) })
    disk.saveSnapshot(snap(1), 0, () => done.push({ n: 2, at: queue.now() }))
    write(3, { entries: entries(3, 3), hardState: hs(2) })
    assert.equal(done.length, 0, 'never synchronously')
    assert.equal(disk.pending, 3)
    drain()
    assert.deepEqual(
      done.map((d) => d.n),
      [1, 2, 3],
    )
    let prev = 0
    for (const { at } of done) {
      assert.ok(at - prev >= 2 && at - prev <= 10, `fsync took ${at - prev}`)
      prev = at
    }
    assert.deepEqual(norm(disk.durable()), { hardState: hs(2), snapshot: snap(1), entries: entries(2, 3) })
    assert.deepEqual(disk.stats, { writes: 3, fsyncs: 3, failed: 0, lostOnCrash: 0, torn: 0, unsynced: 0 })
  })

  it('completes a commit-only batch at once, durable only with the next sync; a crash before loses it', () => {
    const { disk, done, write, drain } = setup()
    write(1, { entries: entries(1, 2), hardState: hs(1, 0) })
    write(2, { entries: [], hardState: hs(1, 2) }) // commit only: no sync
    drain()
    assert.equal(done[1]?.at, done[0]?.at, 'no fsync latency')
    assert.deepEqual(disk.durable().hardState, hs(1, 0))
    write(3, { entries: [], hardState: hs(1, 2) })
    write(4, { entries: entries(3, 3) }) // synced: flushes 2 and 3 with it
    drain()
    assert.deepEqual(disk.durable().hardState, hs(1, 2))
    write(5, { entries: [], hardState: hs(1, 3) })
    drain()
    assert.deepEqual(disk.crash().hardState, hs(1, 2), 'the unsynced commit is lost')
    assert.equal(disk.stats.unsynced, 3)
  })

  it('shows in durable() only what completed', () => {
    const initial: DurableState = { hardState: hs(1), entries: entries(1, 1) }
    const { queue, disk, done, write } = setup(OPTS, 2, initial)
    write(1, { entries: entries(2, 2) })
    write(2, { entries: entries(3, 3) })
    assert.deepEqual(disk.durable(), initial)
    while (done.length === 0) queue.runNext()
    assert.deepEqual(norm(disk.durable()), { hardState: hs(1), entries: entries(1, 2) })
  })

  it('loses every incomplete write on a crash, and never calls it back', () => {
    const { queue, disk, done, write, drain } = setup()
    write(1, { entries: entries(1, 1) })
    write(2, { entries: entries(2, 2), hardState: hs(3) })
    write(3, { entries: entries(3, 3) })
    while (done.length === 0) queue.runNext()
    assert.deepEqual(norm(disk.crash()), { entries: entries(1, 1) })
    drain()
    assert.equal(done.length, 1)
    assert.equal(queue.size, 0, 'the fsync in progress was cancelled')
    assert.equal(disk.stats.lostOnCrash, 2)
    // The restarted node writes to the same disk.
    write(4, { entries: entries(2, 2, 2) })
    drain()
    assert.deepEqual(
      done.map((d) => d.n),
      [1, 4],
    )
    assert.deepEqual(disk.durable().entries, [entry(1), entry(2, 2)])
  })

  it('saves a snapshot atomically: a crash mid-save leaves the old state', () => {
    const { disk, done, write, drain, queue } = setup({ ...OPTS, tornWrites: true })
    write(1, { entries: entries(1, 5) })
    drain()
    disk.saveSnapshot(snap(4), 1, () => done.push({ n: 2, at: queue.now() }))
    assert.deepEqual(norm(disk.crash()), { entries: entries(1, 5) })
    disk.saveSnapshot(snap(4), 1, () => done.push({ n: 3, at: queue.now() }))
    drain()
    assert.deepEqual(disk.durable(), applySnapshotTo({ entries: entries(1, 5) }, snap(4), 1))
    assert.deepEqual(
      done.map((d) => d.n),
      [1, 3],
    )
  })

  it('fails the armed write with its error and keeps nothing of it', () => {
    const { disk, done, write, drain } = setup()
    const boom = new Error('boom')
    write(1, { entries: entries(1, 1) })
    disk.failNext(boom)
    write(2, { entries: entries(2, 2), hardState: hs(5) })
    write(3, { entries: entries(3, 3) })
    drain()
    assert.deepEqual(
      done.map((d) => [d.n, d.err]),
      [
        [1, undefined],
        [2, boom],
        [3, undefined],
      ],
    )
    assert.deepEqual(norm(disk.durable()), { entries: [entry(1), entry(3)] })
    assert.equal(disk.stats.failed, 1)
  })

  it('replays the same completion times from the same seed', () => {
    const run = (seed: number) => {
      const { done, write, drain } = setup(OPTS, seed)
      for (let i = 1; i <= 20; i++) write(i, { entries: entries(i, i) })
      drain()
      return done.map((d) => d.at)
    }
    assert.deepEqual(run(3), run(3))
    assert.notDeepEqual(run(3), run(4))
  })

  it('tears a write in progress only with tornWrites, and never whole', () => {
    const survivors = (tornWrites: boolean) =>
      [...Array(40).keys()].map((seed) => {
        const { disk, write } = setup({ ...OPTS, tornWrites }, seed)
        write(1, { entries: entries(1, 10), hardState: hs(1) })
        const after = disk.crash()
        assert.equal(after.hardState, undefined, 'the hard state comes last, so a tear never keeps it')
        assert.equal(disk.stats.torn, after.entries.length > 0 ? 1 : 0)
        return after.entries.length
      })
    assert.ok(survivors(false).every((k) => k === 0))
    const torn = survivors(true)
    assert.ok(torn.some((k) => k > 0) && torn.some((k) => k < 10), `${torn}`)
  })

  it('round-trips a batch through its WAL records', () => {
    const b: PersistBatch = { snapshot: snap(2), entries: entries(3, 4), hardState: hs(1) }
    assert.deepEqual(
      walRecords(b).map((r) => r.kind),
      ['snapshot', 'entry', 'entry', 'hardState'],
    )
    assert.deepEqual(batchOf(walRecords(b)), b)
  })

  // A torn write is a prefix of the WAL records of the write in progress, never all of them, on
  // top of everything completed before it; writes queued behind it leave no trace.
  it('leaves, after a crash, the completed writes plus a strict prefix of the one in progress', () => {
    const arbBatch = fc
      .record({
        snapshot: fc.boolean(),
        first: fc.integer({ min: 1, max: 8 }),
        count: fc.integer({ min: 0, max: 5 }),
        hard: fc.boolean(),
      })
      .map(
        ({ snapshot, first, count, hard }): PersistBatch => ({
          entries: entries(first, first + count - 1, first),
          ...(snapshot && { snapshot: snap(first - 1) }),
          ...(hard && { hardState: hs(first) }),
        }),
      )
    fc.assert(
      fc.property(
        fc.array(arbBatch, { minLength: 1, maxLength: 6 }),
        fc.nat(60),
        fc.nat(),
        (batches, crashAt, seed) => {
          const { queue, disk, done, write, drain } = setup({ ...OPTS, tornWrites: true }, seed)
          batches.forEach((b, i) => {
            write(i, b)
          })
          queue.runUntil(crashAt, 1000)
          const completed = done.length
          const { state: before, unsyncedAtEnd } = syncedState(batches.slice(0, completed))
          assert.deepEqual(norm(disk.durable()), norm(before))
          const after = disk.crash()
          drain()
          assert.equal(done.length, completed, 'no callback after the crash')
          const inFlight = batches[completed]
          if (!inFlight) return assert.deepEqual(norm(after), norm(before))
          const records = walRecords(inFlight)
          const prefixes = [...Array(Math.max(1, records.length)).keys()].map((k) =>
            applyBatchTo(before, batchOf(records.slice(0, k))),
          )
          assert.ok(
            prefixes.some((p) => isDeepEqual(norm(p), norm(after))),
            'durable state is a strict prefix of the write in progress',
          )
          assert.equal(disk.stats.lostOnCrash, batches.length - completed + unsyncedAtEnd)
        },
      ),
      { numRuns: 300 },
    )
  })
})

/** norm drops absent optional fields, so states compare by content whichever way they were built. */
function norm(s: DurableState): DurableState {
  return {
    entries: s.entries,
    ...(s.hardState && { hardState: s.hardState }),
    ...(s.snapshot && { snapshot: s.snapshot }),
  }
}

function isDeepEqual(a: unknown, b: unknown): boolean {
  try {
    assert.deepStrictEqual(a, b)
    return true
  } catch {
    return false
  }
}
