import assert from 'node:assert/strict'
import { readdirSync } from 'node:fs'
import { describe, it } from 'node:test'
import type { PersistBatch } from '../../../src/storage/storage.js'
import { openWal, RecordTooLargeError, type Wal } from '../../../src/storage/wal/index.js'
import { EIO, ENOSPC, FaultyFiles } from './faulty-files.js'
import { entries, hardState, META, normalize, Reference, save, snapshot, withTmpDir } from './helpers.js'

/**
 * A disk that fails: a failed fdatasync or a full disk fails that call and puts the Wal in a
 * failed state where every later call fails at once, without touching the disk (an fsync is never
 * retried: after a failure the page cache may have dropped the data, so a later success proves
 * nothing). What is on disk stays recoverable. Faults are injected under the Wal through its
 * FileOps seam.
 */

const OPTIONS = { segmentBytes: 1024 }
const batch = (i: number, bytes = 20): PersistBatch => ({
  entries: entries(i, i + 4, 1, bytes),
  hardState: hardState(1, i),
})

/** outcome runs a call and returns its error, or undefined. */
function outcome(call: (done: (err?: Error) => void) => void): Promise<Error | undefined> {
  return new Promise((resolve) => call(resolve))
}

/** history persists batches 1.. while they succeed; returns the reference and the first error. */
async function history(wal: Wal, ref: Reference, count: number): Promise<Error | undefined> {
  for (let k = 0; k < count; k++) {
    const b = batch(1 + 5 * k)
    const err = await outcome((done) => wal.persist(b, done))
    if (err) return err
    ref.persist(b)
  }
  return undefined
}

async function reopened(dir: string): Promise<object> {
  const opened = await openWal(dir, META, OPTIONS)
  await opened.wal.close()
  return normalize(opened.durable)
}

describe('storage/wal failures', () => {
  it('fails a batch whose fdatasync fails, then every later call at once; the disk recovers', async () => {
    await withTmpDir(async (dir) => {
      const files = new FaultyFiles().arm({ op: 'datasync', path: /\.wal$/, after: 2, error: EIO })
      const { wal } = await openWal(dir, META, OPTIONS, { fileOps: files })
      const ref = new Reference()
      const err = await history(wal, ref, 5)
      assert.match(String(err?.message), /wal: writing .* to 0000000000000001\.wal .* failed: EIO/)
      const calls = files.calls.length
      const later = await outcome((done) => wal.persist(batch(11), done))
      const laterSnap = await outcome((done) => wal.saveSnapshot(snapshot(5), 0, done))
      assert.match(String(later?.message), /an earlier write failed.*EIO/)
      assert.match(String(laterSnap?.message), /an earlier write failed/)
      assert.equal(files.calls.length, calls, 'no disk call after the failure')
      await wal.close()
      // The failed batch was written; whether it is durable, nobody knows: either state is right.
      const withIt = new Reference()
      withIt.state = ref.state
      withIt.persist(batch(11))
      const got = await reopened(dir)
      assert.ok([normalize(ref.state), normalize(withIt.state)].some((s) => deepEqual(s, got)))
    })
  })

  it('says the disk is full when a batch cannot be written, and recovers without that batch', async () => {
    await withTmpDir(async (dir) => {
      const files = new FaultyFiles().arm({
        op: 'write',
        path: /1\.wal$/,
        after: 3,
        partial: true,
        error: ENOSPC,
      })
      const { wal } = await openWal(dir, META, OPTIONS, { fileOps: files })
      const ref = new Reference()
      const err = await history(wal, ref, 5)
      assert.match(String(err?.message), /the disk is full \(ENOSPC\).*free some space and restart/)
      await wal.close()
      assert.deepStrictEqual(await reopened(dir), normalize(ref.state))
    })
  })

  it('fails the batch that needs a segment the full disk could not preallocate, after one retry', async () => {
    await withTmpDir(async (dir) => {
      const files = new FaultyFiles().arm({ op: 'write', path: /\.wal\.tmp$/, after: 2, error: ENOSPC })
      const { wal } = await openWal(dir, META, OPTIONS, { fileOps: files })
      const ref = new Reference()
      const err = await history(wal, ref, 20)
      assert.match(
        String(err?.message),
        /the disk is full \(ENOSPC\) while preallocating 0000000000000002\.wal/,
      )
      assert.equal(
        files.count('open', /0000000000000002\.wal\.tmp$/),
        2,
        'preallocated in the background, then once more',
      )
      assert.deepStrictEqual(
        readdirSync(dir).filter((n) => n.endsWith('.tmp')),
        [],
        'no half-written segment left',
      )
      await wal.close()
      assert.deepStrictEqual(await reopened(dir), normalize(ref.state))
    })
  })

  it('rolls over once space is back, if the background preallocation found the disk full', async () => {
    await withTmpDir(async (dir) => {
      const files = new FaultyFiles().arm({
        op: 'write',
        path: /\.wal\.tmp$/,
        after: 2,
        times: 1,
        error: ENOSPC,
      })
      const { wal } = await openWal(dir, META, OPTIONS, { fileOps: files })
      const ref = new Reference()
      assert.equal(await history(wal, ref, 20), undefined)
      await wal.close()
      assert.deepStrictEqual(await reopened(dir), normalize(ref.state))
    })
  })

  it('fails saveSnapshot on a full disk; the log keeps its entries and the older snapshot', async () => {
    await withTmpDir(async (dir) => {
      const files = new FaultyFiles().arm({ op: 'write', path: /0a\.snap\.tmp$/, error: ENOSPC })
      const { wal } = await openWal(dir, META, OPTIONS, { fileOps: files })
      const ref = new Reference()
      await history(wal, ref, 4)
      await save(wal, snapshot(5), 0)
      ref.save(snapshot(5), 0)
      const err = await outcome((done) => wal.saveSnapshot(snapshot(10), 0, done))
      assert.match(String(err?.message), /disk is full.*snapshot file at 10/)
      await wal.close()
      assert.deepStrictEqual(await reopened(dir), normalize(ref.state))
    })
  })

  it('keeps the older snapshot if the log never refers to the new file, and the new one once it does', async () => {
    for (const failAt of ['marker', 'removal'] as const) {
      await withTmpDir(async (dir) => {
        const files = new FaultyFiles()
        const { wal } = await openWal(dir, META, OPTIONS, { fileOps: files })
        const ref = new Reference()
        await history(wal, ref, 12)
        await save(wal, snapshot(20), 0)
        ref.save(snapshot(20), 0)
        // The new snapshot's file is durable; then the marker's write fails (a crash before the
        // log refers to it), or the removal of covered segments fails (a crash after).
        if (failAt === 'marker') files.arm({ op: 'write', path: /\.wal$/, error: EIO })
        else files.arm({ op: 'unlink', path: /\.wal$/, error: EIO })
        const err = await outcome((done) => wal.saveSnapshot(snapshot(50), 2, done))
        assert.match(String(err?.message), /EIO/)
        assert.ok(readdirSync(dir).includes('0000000000000032.snap'), 'the file was written first')
        if (failAt === 'removal') ref.save(snapshot(50), 2)
        await wal.close()
        assert.deepStrictEqual(await reopened(dir), normalize(ref.state), failAt)
      })
    }
  })

  it('refuses to create a log on a full disk, saying so', async () => {
    await withTmpDir(async (dir) => {
      const files = new FaultyFiles().arm({ op: 'write', error: ENOSPC })
      await assert.rejects(openWal(dir, META, OPTIONS, { fileOps: files }), /the disk is full/)
    })
  })

  it('refuses a record over recordBytesMax with an Error, writing nothing', async () => {
    await withTmpDir(async (dir) => {
      const { wal } = await openWal(dir, META, { ...OPTIONS, recordBytesMax: 1000 })
      const ref = new Reference()
      await history(wal, ref, 2)
      const err = await outcome((done) => wal.persist({ entries: entries(11, 11, 1, 2000) }, done))
      assert.ok(err instanceof RecordTooLargeError, String(err))
      assert.match(err.message, /entry 11 would be a \d+-byte record, over recordBytesMax \(1000\)/)
      assert.match(String(await outcome((done) => wal.persist(batch(11), done))), /an earlier write failed/)
      await wal.close()
      assert.deepStrictEqual(await reopened(dir), normalize(ref.state))
    })
  })

  it('writes each batch with one write and one fdatasync, and close waits for them', async () => {
    await withTmpDir(async (dir) => {
      const files = new FaultyFiles()
      const { wal } = await openWal(dir, META, { segmentBytes: 64 * 1024 }, { fileOps: files })
      const ref = new Reference()
      const writes = files.count('write', /\.wal$/)
      const done: number[] = []
      for (let k = 0; k < 10; k++) {
        wal.persist(batch(1 + 5 * k), () => done.push(k))
        ref.persist(batch(1 + 5 * k))
      }
      await wal.close()
      assert.deepStrictEqual(done, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
      assert.equal(files.count('write', /\.wal$/) - writes, 10)
      assert.equal(files.count('datasync', /\.wal$/), 10)
      assert.match(String(await outcome((d) => wal.persist(batch(51), d))), /after close/)
      const opened = await openWal(dir, META, { segmentBytes: 64 * 1024 })
      assert.deepStrictEqual(normalize(opened.durable), normalize(ref.state))
      await opened.wal.close()
    })
  })
})

describe('which batches wait for fdatasync', () => {
  it('a batch that only moves the commit index is written but not synced; anything else is synced', async () => {
    await withTmpDir(async (dir) => {
      const files = new FaultyFiles()
      const { wal } = await openWal(dir, META, { segmentBytes: 64 * 1024 }, { fileOps: files })
      const syncs = () => files.count('datasync', /\.wal$/)
      const hs = (term: number, vote: number, commit: number) => hardState(term, commit, vote)
      const steps: [PersistBatch, boolean][] = [
        [{ entries: [], hardState: hs(1, 1, 0) }, true], // a vote
        [{ entries: entries(1, 5) }, true], // entries
        [{ entries: [], hardState: hs(1, 1, 3) }, false], // commit only
        [{ entries: [], hardState: hs(2, 0, 3) }, true], // a new term
        [{ entries: [], hardState: hs(2, 3, 5) }, true], // a vote in it
        [{ entries: [], hardState: hs(2, 3, 6) }, false],
      ]
      for (const [b, synced] of steps) {
        const before = syncs()
        assert.equal(await outcome((d) => wal.persist(b, d)), undefined)
        assert.equal(syncs() - before, synced ? 1 : 0, JSON.stringify(b.hardState))
      }
      await wal.close()
      const onSegment1 = files.calls.filter((c) => /0000000000000001\.wal$/.test(c.path) && c.op !== 'open')
      assert.equal(onSegment1.at(-1)?.op, 'datasync', 'close syncs what was left unsynced')
      const opened = await openWal(dir, META, { segmentBytes: 64 * 1024 })
      assert.deepStrictEqual(opened.durable.hardState, hs(2, 3, 6))
      await opened.wal.close()
    })
  })

  it('syncs an unsynced segment before moving to the next, so no segment but the last has a hole', async () => {
    await withTmpDir(async (dir) => {
      const files = new FaultyFiles()
      const { wal } = await openWal(dir, META, OPTIONS, { fileOps: files })
      let i = 1
      const seg1 = /0000000000000001\.wal$/
      while (files.count('write', /0000000000000002\.wal$/) === 0) {
        assert.equal(await outcome((d) => wal.persist({ entries: entries(i, i + 4, 1, 20) }, d)), undefined)
        // Commit-only, unsynced: if the next batch rolls over, segment 1 must be synced first.
        assert.equal(
          await outcome((d) => wal.persist({ entries: [], hardState: hardState(1, i + 4) }, d)),
          undefined,
        )
        i += 5
      }
      const last = files.calls
        .filter((c) => seg1.test(c.path) && (c.op === 'write' || c.op === 'datasync'))
        .at(-1)
      assert.equal(last?.op, 'datasync')
      await wal.close()
    })
  })
})

function deepEqual(a: unknown, b: unknown): boolean {
  try {
    assert.deepStrictEqual(a, b)
    return true
  } catch {
    return false
  }
}
