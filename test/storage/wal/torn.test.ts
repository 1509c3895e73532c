import assert from 'node:assert/strict'
import { readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import type { PersistBatch } from '../../../src/storage/storage.js'
import { openWal, type Wal, WalCorruptionError } from '../../../src/storage/wal/index.js'
import { scanSegment } from '../../../src/storage/wal/scan.js'
import {
  captureDir,
  entries,
  hardState,
  inParallel,
  lastSegment,
  META,
  normalize,
  overwrite,
  persist,
  Reference,
  restoreDir,
  save,
  snapshot,
  tornRange,
  withTmpDir,
} from './helpers.js'

/**
 * Torn writes: a crash in the middle of the last batch's write leaves any prefix of its bytes on
 * disk. For every byte position of that write, the tail from there on is cut off (the file ends
 * there) or reads as zeros (the blocks were allocated but never written). Reopening must give
 * exactly the state before that batch — never part of it, never less — and a batch written
 * afterwards must survive the next restart (the torn remains were cleared, not left to be read
 * after a shorter record).
 */

const SEGMENT_BYTES = 512
const OPTIONS = { segmentBytes: SEGMENT_BYTES }

interface Scenario {
  readonly name: string
  /** history runs before the torn batch; the last batch is `torn`. */
  readonly history: (ref: Reference, wal: Wal, dir: string) => Promise<void>
  readonly torn: (ref: Reference) => PersistBatch
  /** newSegment: the torn batch is the first of a segment. */
  readonly newSegment: boolean
}

const SCENARIOS: readonly Scenario[] = [
  {
    name: 'a batch in the middle of a segment',
    history: async (ref, wal) => {
      for (const b of [{ entries: entries(1, 3), hardState: hardState(1, 1) }, { entries: entries(4, 5) }]) {
        await persist(wal, b)
        ref.persist(b)
      }
    },
    torn: () => ({ entries: entries(4, 7, 2, 9), hardState: hardState(2, 5, 2) }),
    newSegment: false,
  },
  {
    name: 'the first batch of a new segment (with the state it carries)',
    history: async (ref, wal, dir) => {
      // Fill the segment until the torn batch no longer fits in it.
      for (let i = 1; freeBytes(dir) > 140; i += 4) {
        const b = { entries: entries(i, i + 3, 1, 12), hardState: hardState(1, i) }
        await persist(wal, b)
        ref.persist(b)
      }
      await save(wal, snapshot(ref.lastIndex() - 2), 5)
      ref.save(snapshot(ref.lastIndex() - 2), 5)
    },
    torn: (ref) => ({
      entries: entries(ref.lastIndex() + 1, ref.lastIndex() + 6, 1, 20),
      hardState: hardState(3, 4, 0),
    }),
    newSegment: true,
  },
  {
    name: 'a batch bigger than a segment',
    history: async (ref, wal) => {
      const b = { entries: entries(1, 2), hardState: hardState(1, 1) }
      await persist(wal, b)
      ref.persist(b)
    },
    torn: () => ({ entries: entries(3, 10, 1, 60), hardState: hardState(1, 2) }),
    newSegment: true,
  },
]

/** freeBytes is what is left in the last segment of `dir`. */
function freeBytes(dir: string): number {
  const image = captureDir(dir)
  const name = lastSegment(image)
  return SEGMENT_BYTES - scanSegment(image.get(name) as Uint8Array, name, true).end
}

/** expectRecovers opens `dir` and compares; with `follow`, it then writes that and reopens. */
async function expectRecovers(
  dir: string,
  expected: object,
  follow: PersistBatch | undefined,
  ref: Reference,
) {
  const opened = await openWal(dir, META, OPTIONS)
  assert.deepStrictEqual(normalize(opened.durable), expected)
  // The cleared tail is preallocated again, so that a full disk cannot strike mid-record there.
  const last = readdirSync(dir)
    .filter((n) => n.endsWith('.wal'))
    .sort()
    .at(-1) as string
  assert.ok(statSync(join(dir, last)).size >= SEGMENT_BYTES, `${last} was left short`)
  if (!follow) return opened.wal.close()
  await persist(opened.wal, follow)
  await opened.wal.close()
  const again = await openWal(dir, META, OPTIONS)
  const next = new Reference()
  next.state = ref.state
  next.persist(follow)
  assert.deepStrictEqual(normalize(again.durable), normalize(next.state))
  await again.wal.close()
}

describe('storage/wal torn writes', () => {
  for (const sc of SCENARIOS) {
    it(`recovers the synced state when ${sc.name} is torn at any byte`, async () => {
      await withTmpDir(async (dir) => {
        const ref = new Reference()
        const { wal } = await openWal(dir, META, OPTIONS)
        await sc.history(ref, wal, dir)
        const before = captureDir(dir)
        await persist(wal, sc.torn(ref))
        await wal.close()
        const after = captureDir(dir)
        const { name, start, end, newSegment } = tornRange(before, after)
        assert.ok(end - start > 20, `the torn write spans ${start}..${end}`)
        assert.equal(newSegment, sc.newSegment)
        const expected = normalize(ref.state)
        // After recovery, a short batch; the next restart must read it and nothing after it.
        const follow: PersistBatch = { entries: [], hardState: hardState(9, 0, 3) }
        let refused = 0
        const positions = Array.from({ length: end - start }, (_, k) => start + k)
        await inParallel(positions, dir, after, async (p, scratch) => {
          // Both ways of tearing at every byte; for the big batch, alternately (time).
          const modes =
            end - start < 400 ? (['cut', 'zero'] as const) : p % 2 ? (['cut'] as const) : (['zero'] as const)
          for (const mode of modes) {
            restoreDir(scratch, after, [])
            const full = after.get(name) as Uint8Array
            const torn = mode === 'cut' ? full.slice(0, p) : full.slice()
            if (mode === 'zero') torn.fill(0, p, end)
            overwrite(join(scratch, name), torn)
            try {
              const follows = (p - start) % 8 === 0 || end - p < 8
              await expectRecovers(scratch, expected, follows ? follow : undefined, ref)
            } catch (e) {
              if (!(e instanceof WalCorruptionError)) throw new Error(`${mode} at ${p}: ${e}`, { cause: e })
              refused++
            }
          }
        })
        assert.equal(refused, 0, 'a prefix of a write is always recognised as torn')
      })
    })
  }

  it('clears what a torn write left beyond its gap, so a later batch cannot bring it back', async () => {
    await withTmpDir(async (dir) => {
      const ref = new Reference()
      const { wal } = await openWal(dir, META, OPTIONS)
      const first = { entries: entries(1, 2), hardState: hardState(1, 1) }
      await persist(wal, first)
      ref.persist(first)
      const before = captureDir(dir)
      // The torn batch: [entry 3][hard state][commit]. The disk lost the entry's bytes (its
      // sector) but wrote the rest. Then a batch as long as that entry record is written in its
      // place: without the clearing, the torn batch's hard state and commit would follow it and
      // read as a committed batch.
      await persist(wal, { entries: entries(3, 3, 1, 9), hardState: hardState(7, 3, 2) })
      await wal.close()
      const after = captureDir(dir)
      const { name, start, end } = tornRange(before, after)
      const damaged = (after.get(name) as Uint8Array).slice()
      const entryRecordBytes = 9 + 5 + 9
      damaged.fill(0, start, start + entryRecordBytes)
      overwrite(join(dir, name), damaged)
      assert.ok(end - start > entryRecordBytes)
      const follow: PersistBatch = { entries: [], hardState: hardState(9, 0, 3) }
      const opened = await openWal(dir, META, OPTIONS)
      assert.deepStrictEqual(normalize(opened.durable), normalize(ref.state))
      await persist(opened.wal, follow)
      await opened.wal.close()
      ref.persist(follow)
      const followEnd = scanSegment(captureDir(dir).get(name) as Uint8Array, name, true).end
      assert.equal(followEnd, start + entryRecordBytes, 'the follow-up batch is exactly as long')
      const again = await openWal(dir, META, OPTIONS)
      assert.deepStrictEqual(normalize(again.durable), normalize(ref.state))
      await again.wal.close()
    })
  })
})
