import assert from 'node:assert/strict'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import type { PersistBatch } from '../../../src/storage/storage.js'
import { openWal } from '../../../src/storage/wal/index.js'
import {
  captureDir,
  entries,
  hardState,
  META,
  normalize,
  overwrite,
  persist,
  Reference,
  restoreDir,
  save,
  tornRange,
  withTmpDir,
} from './helpers.js'
import { arbRawOps, shapeOps } from './ops.js'

/**
 * Random crash points: after a random history (batches, snapshots saved and installed, segments
 * rolled over and removed), the last batch is cut at a random byte of its write — the crash kept
 * a prefix of what the page cache held, either as a shorter file or as zeros where the rest
 * would have been. Reopening gives the state before that batch, or after it if the whole write
 * made it, and nothing in between.
 */

const arbCrash = fc.record(
  {
    raw: arbRawOps(25),
    segmentBytes: fc.constantFrom(512, 1024),
    back: fc.nat(2),
    count: fc.integer({ min: 1, max: 6 }),
    bytes: fc.nat(40),
    keep: fc.double({ min: 0, max: 1, noNaN: true }),
    cut: fc.boolean(),
  },
  { noNullPrototype: true },
)

describe('storage/wal crashes', () => {
  it('recovers the state before or after the batch a crash cut, at random points', async () => {
    await fc.assert(
      fc.asyncProperty(arbCrash, async (c) => {
        await withTmpDir(async (dir) => {
          const options = { segmentBytes: c.segmentBytes }
          const ref = new Reference()
          const { wal } = await openWal(dir, META, options)
          for (const op of shapeOps(c.raw, false)) {
            if (op.kind === 'persist') {
              await persist(wal, op.batch)
              ref.persist(op.batch)
            } else if (op.kind === 'save') {
              await save(wal, op.snapshot, op.retain)
              ref.save(op.snapshot, op.retain)
            }
          }
          const first = Math.max(1, ref.lastIndex() + 1 - c.back)
          const last: PersistBatch = {
            entries: entries(first, first + c.count - 1, 5, c.bytes),
            hardState: hardState(5, first),
          }
          const before = captureDir(dir)
          const expectBefore = normalize(ref.state)
          await persist(wal, last)
          await wal.close()
          ref.persist(last)
          const after = captureDir(dir)
          const { name, start, end } = tornRange(before, after)
          const at = start + Math.round(c.keep * (end - start))
          const full = after.get(name) as Uint8Array
          const kept = c.cut ? full.slice(0, at) : full.slice()
          if (!c.cut) kept.fill(0, at, end)
          restoreDir(dir, after, [])
          overwrite(join(dir, name), kept)
          const opened = await openWal(dir, META, options)
          await opened.wal.close()
          assert.deepStrictEqual(normalize(opened.durable), at === end ? normalize(ref.state) : expectBefore)
        })
      }),
      { numRuns: 100 },
    )
  })
})
