import assert from 'node:assert/strict'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { nodeId } from '../../../src/core/ids.js'
import { openWal, WalCorruptionError } from '../../../src/storage/wal/index.js'
import { scanSegment } from '../../../src/storage/wal/scan.js'
import {
  captureDir,
  entries,
  entry,
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
  withTmpDir,
} from './helpers.js'

/**
 * Bit flips: a small log of a few segments and a snapshot file, each of whose bytes is damaged in
 * turn (one bit, then the whole byte inverted). Opening must either refuse with a
 * WalCorruptionError naming the file, or — only where the damage lies in space no record uses —
 * recover exactly the state that was synced. A damaged record is never skipped, truncated as if
 * torn, or read as something else. The log ends the hard way: its last batch's hard state ends
 * in zero bytes (no vote, commit 0), and an entry holds a run of zeros.
 */

const OPTIONS = { segmentBytes: 512 }

type Region = 'used' | 'lastTail' | 'otherTail'

async function buildLog(dir: string): Promise<Reference> {
  const ref = new Reference()
  const { wal } = await openWal(dir, META, OPTIONS)
  const run = async (b: Parameters<Reference['persist']>[0]) => {
    await persist(wal, b)
    ref.persist(b)
  }
  await run({ entries: entries(1, 6, 1, 10), hardState: hardState(1, 2) })
  await run({ entries: [entry(7, 1, new Uint8Array(40))], hardState: hardState(1, 6) })
  await run({ entries: entries(8, 14, 1, 14) })
  await save(wal, snapshot(9), 2)
  ref.save(snapshot(9), 2)
  await run({ entries: entries(12, 20, 2, 16), hardState: hardState(2, 12, 2) })
  await run({
    entries: [],
    hardState: { term: hardState(3).term, vote: nodeId(1), commit: hardState(3).commit },
  })
  await run({ entries: entries(21, 30, 3, 20) })
  await run({ entries: entries(31, 32, 3, 5), hardState: hardState(4, 0, 0) })
  await wal.close()
  return ref
}

describe('storage/wal bit flips', () => {
  it('refuses or recovers exactly, whichever byte of a segment or snapshot file is damaged', async () => {
    await withTmpDir(async (dir) => {
      const origin = join(dir, 'origin')
      const ref = await buildLog(origin)
      const image = captureDir(origin)
      const expected = normalize(ref.state)
      const last = lastSegment(image)
      const files = [...image.keys()].filter((n) => n.endsWith('.wal') || n.endsWith('.snap'))
      assert.ok(files.filter((n) => n.endsWith('.wal')).length >= 3, `segments: ${files}`)
      const trials = files.flatMap((name) => {
        const buf = image.get(name) as Uint8Array
        const usedEnd = name.endsWith('.wal') ? scanSegment(buf, name, name === last).end : buf.length
        const region = (at: number): Region =>
          at < usedEnd ? 'used' : name === last ? 'lastTail' : 'otherTail'
        return Array.from(buf, (_, at) => [
          { name, at, mask: 1 << (at % 8), region: region(at) },
          { name, at, mask: 0xff, region: region(at) },
        ]).flat()
      })
      const outcome: Record<Region, { refused: number; recovered: number }> = {
        used: { refused: 0, recovered: 0 },
        lastTail: { refused: 0, recovered: 0 },
        otherTail: { refused: 0, recovered: 0 },
      }
      await inParallel(trials, dir, image, async (t, scratch) => {
        restoreDir(scratch, image, [])
        const damaged = (image.get(t.name) as Uint8Array).slice()
        damaged[t.at] = (damaged[t.at] as number) ^ t.mask
        overwrite(join(scratch, t.name), damaged)
        const where = `${t.name} byte ${t.at} ^ 0x${t.mask.toString(16)}`
        try {
          const opened = await openWal(scratch, META, OPTIONS)
          await opened.wal.close()
          assert.notEqual(t.region, 'used', `${where}: damage to a record went unnoticed`)
          assert.deepStrictEqual(normalize(opened.durable), expected, `${where}: recovered other data`)
          outcome[t.region].recovered++
        } catch (e) {
          if (!(e instanceof WalCorruptionError)) throw new Error(`${where}: ${e}`, { cause: e })
          assert.match(e.message, /member remove/, where)
          assert.ok(e.message.includes(e.file) && e.file.length > 0, where)
          outcome[t.region].refused++
        }
        overwrite(join(scratch, t.name), image.get(t.name) as Uint8Array)
      })
      const count = (r: Region) => trials.filter((t) => t.region === r).length
      // Damage to a record: always refused. Damage to the unused end of the last segment looks
      // like a torn write there, and is cleared; in an earlier segment nothing tears, so it is
      // refused (DESIGN.md, "Recovery").
      assert.deepStrictEqual(outcome, {
        used: { refused: count('used'), recovered: 0 },
        lastTail: { refused: 0, recovered: count('lastTail') },
        otherTail: { refused: count('otherTail'), recovered: 0 },
      })
      assert.ok(count('lastTail') > 50 && count('otherTail') > 50, JSON.stringify(outcome))
    })
  })
})
