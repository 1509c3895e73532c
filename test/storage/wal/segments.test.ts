import assert from 'node:assert/strict'
import { readdirSync, statSync, unlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { openWal, WalCorruptionError } from '../../../src/storage/wal/index.js'
import { encodeSegmentHeader } from '../../../src/storage/wal/segment.js'
import {
  captureDir,
  entries,
  hardState,
  META,
  normalize,
  persist,
  Reference,
  save,
  snapshot,
  withTmpDir,
} from './helpers.js'

/**
 * Segments and snapshot files: rollover into preallocated segments, compaction removing whole
 * segments once a snapshot is durable, snapshots from a leader, the files a directory holds, and
 * the damage to them that recovery must refuse.
 */

const OPTIONS = { segmentBytes: 1024 }
const names = (dir: string, ext: string) =>
  readdirSync(dir)
    .filter((n) => n.endsWith(ext))
    .sort()

/** fill persists entries from..to in batches of 5, with a hard state each. */
async function fill(wal: Parameters<typeof persist>[0], ref: Reference, from: number, to: number) {
  for (let i = from; i <= to; i += 5) {
    const b = { entries: entries(i, Math.min(to, i + 4), 1, 20), hardState: hardState(1, i) }
    await persist(wal, b)
    ref.persist(b)
  }
}

async function reopenMatches(dir: string, ref: Reference) {
  const opened = await openWal(dir, META, OPTIONS)
  assert.deepStrictEqual(normalize(opened.durable), normalize(ref.state))
  return opened.wal
}

describe('storage/wal segments', () => {
  it('rolls over into segments preallocated to their full size, the next one ahead of need', async () => {
    await withTmpDir(async (dir) => {
      const ref = new Reference()
      const { wal } = await openWal(dir, META, OPTIONS)
      await fill(wal, ref, 1, 100)
      await wal.close()
      const segments = names(dir, '.wal')
      assert.ok(segments.length >= 4, `segments: ${segments}`)
      for (const n of [...segments, ...names(dir, '.tmp')]) assert.equal(statSync(join(dir, n)).size, 1024, n)
      assert.equal(names(dir, '.wal.tmp').length, 1, 'the next segment is ready')
      await (await reopenMatches(dir, ref)).close()
    })
  })

  it('removes segments a saved snapshot covers, keeps the previous snapshot file, and reopens', async () => {
    await withTmpDir(async (dir) => {
      const ref = new Reference()
      const { wal } = await openWal(dir, META, OPTIONS)
      await fill(wal, ref, 1, 100)
      const before = names(dir, '.wal')
      for (const [at, retain] of [
        [50, 10],
        [80, 0],
        [90, 5],
      ] as const) {
        await save(wal, snapshot(at), retain)
        ref.save(snapshot(at), retain)
      }
      const after = names(dir, '.wal')
      const removed = before.filter((n) => !after.includes(n))
      assert.ok(removed.length >= 3, `${before} -> ${after}`)
      assert.deepStrictEqual(removed, before.slice(0, removed.length), 'the oldest went')
      assert.deepStrictEqual(names(dir, '.snap'), ['0000000000000050.snap', '000000000000005a.snap'])
      await save(wal, snapshot(70), 0) // older than the one held: nothing changes
      await wal.close()
      assert.deepStrictEqual(names(dir, '.wal'), after)
      const reopened = await reopenMatches(dir, ref)
      await fill(reopened, ref, 101, 130)
      await reopened.close()
      await (await reopenMatches(dir, ref)).close()
    })
  })

  it('installs a snapshot from a leader in place of every entry, removing the segments before', async () => {
    await withTmpDir(async (dir) => {
      const ref = new Reference()
      const { wal } = await openWal(dir, META, OPTIONS)
      await fill(wal, ref, 1, 60)
      const install = {
        snapshot: snapshot(500, 3),
        entries: entries(501, 502, 3),
        hardState: hardState(3, 500),
      }
      await persist(wal, install)
      ref.persist(install)
      assert.equal(names(dir, '.wal').length, 1)
      await wal.close()
      const reopened = await reopenMatches(dir, ref)
      await fill(reopened, ref, 503, 540)
      await reopened.close()
      await (await reopenMatches(dir, ref)).close()
    })
  })

  it('gives a batch bigger than a segment a segment of its own, which grows', async () => {
    await withTmpDir(async (dir) => {
      const ref = new Reference()
      const { wal } = await openWal(dir, META, OPTIONS)
      await fill(wal, ref, 1, 10)
      const big = { entries: entries(11, 40, 1, 100), hardState: hardState(2, 11) }
      await persist(wal, big)
      ref.persist(big)
      await fill(wal, ref, 41, 45)
      await wal.close()
      const sizes = names(dir, '.wal').map((n) => statSync(join(dir, n)).size)
      assert.ok(sizes.length === 3 && (sizes[1] as number) > 3000, `sizes ${sizes}`)
      await (await reopenMatches(dir, ref)).close()
    })
  })

  it('reports the bytes of its segments, the next one and the snapshot files', async () => {
    await withTmpDir(async (dir) => {
      const ref = new Reference()
      const { wal } = await openWal(dir, META, OPTIONS)
      await fill(wal, ref, 1, 60)
      await save(wal, snapshot(30), 5)
      await wal.close()
      const onDisk = readdirSync(dir).reduce((n, f) => n + statSync(join(dir, f)).size, 0)
      assert.equal(wal.sizeBytes(), onDisk)
      const reopened = await openWal(dir, META, OPTIONS)
      await reopened.wal.close()
      assert.equal(reopened.wal.sizeBytes(), onDisk)
    })
  })

  it('stores the metadata of a new directory and returns it for an existing one', async () => {
    await withTmpDir(async (dir) => {
      const first = await openWal(join(dir, 'a', 'b'), META, OPTIONS)
      assert.deepStrictEqual(first.metadata, META)
      assert.deepStrictEqual(first.durable, { entries: [] })
      await first.wal.close()
      const again = await openWal(join(dir, 'a', 'b'), new Uint8Array([9]), OPTIONS)
      assert.deepStrictEqual(again.metadata, META)
      await again.wal.close()
    })
  })

  it('removes temporary files a crash left, and refuses bad options', async () => {
    await withTmpDir(async (dir) => {
      const { wal } = await openWal(dir, META, OPTIONS)
      await wal.close()
      writeFileSync(join(dir, '0000000000000007.snap.tmp'), 'half a snapshot')
      const reopened = await openWal(dir, META, OPTIONS)
      await reopened.wal.close()
      assert.deepStrictEqual(names(dir, '.snap.tmp'), [])
      await assert.rejects(openWal(dir, META, { segmentBytes: 100 }), RangeError)
    })
  })
})

describe('storage/wal refuses damaged directories', () => {
  async function build(dir: string): Promise<void> {
    const ref = new Reference()
    const { wal } = await openWal(dir, META, OPTIONS)
    await fill(wal, ref, 1, 80)
    await save(wal, snapshot(20), 5)
    await wal.close()
  }

  const cases: readonly [string, (dir: string) => void, RegExp][] = [
    ['a corrupt snapshot file, named', (d) => flip(d, '0000000000000014.snap', 12), /0000000000000014\.snap/],
    [
      'a missing snapshot file',
      (d) => unlinkSync(join(d, '0000000000000014.snap')),
      /0000000000000014\.snap/,
    ],
    ['a missing segment in the middle', (d) => unlinkSync(join(d, names(d, '.wal')[1] as string)), /missing/],
    [
      'an empty segment',
      (d) => writeFileSync(join(d, names(d, '.wal')[0] as string), ''),
      /no segment header/,
    ],
    ['a segment of another member', (d) => swapMetadata(d), /other metadata/],
    [
      'snapshot files without a log',
      (d) => {
        for (const n of names(d, '.wal')) unlinkSync(join(d, n))
      },
      /no log/,
    ],
  ]
  for (const [what, damage, message] of cases) {
    it(`refuses ${what}`, async () => {
      await withTmpDir(async (dir) => {
        await build(dir)
        damage(dir)
        await assert.rejects(openWal(dir, META, OPTIONS), (e: unknown) => {
          assert.ok(e instanceof WalCorruptionError, String(e))
          assert.match(e.message, message)
          assert.match(e.message, /remove it and re-add it/)
          return true
        })
      })
    })
  }
})

function flip(dir: string, name: string, at: number): void {
  const image = captureDir(dir)
  const b = (image.get(name) as Uint8Array).slice()
  b[at] = (b[at] as number) ^ 0x10
  writeFileSync(join(dir, name), b)
}

/** swapMetadata gives the last segment the header of another member's (same length, other bytes). */
function swapMetadata(dir: string): void {
  const last = names(dir, '.wal').at(-1) as string
  const seg = (captureDir(dir).get(last) as Uint8Array).slice()
  const other = META.slice()
  other[0] = (other[0] as number) ^ 1
  seg.set(encodeSegmentHeader(Number.parseInt(last, 16), other), 0)
  writeFileSync(join(dir, last), seg)
}
