import assert from 'node:assert/strict'
import { cpSync, readdirSync, rmSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { openWal, type Wal } from '../../../src/storage/wal/index.js'
import {
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
 * A data directory from an older run must reopen: fixtures/v1 was written by this code (format
 * version 1) and is committed, so that a change to the format that cannot read it fails here.
 * tsc does not copy it to dist/, so it is read from the repository root (three levels above
 * dist/test/storage/wal). To regenerate it after a deliberate format change, bump FORMAT_VERSION,
 * add a fixture directory, and run: node dist/test/storage/wal/fixture.test.js --rewrite
 */

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..')
const FIXTURE = join(ROOT, 'test', 'storage', 'wal', 'fixtures', 'v1')
const OPTIONS = { segmentBytes: 512 }

/** history is what the fixture's run did: rollovers, a compaction, a leader's snapshot, more entries. */
async function history(wal: Wal | undefined, ref: Reference): Promise<void> {
  const run = async (b: Parameters<Reference['persist']>[0]) => {
    if (wal) await persist(wal, b)
    ref.persist(b)
  }
  for (let i = 1; i <= 30; i += 3)
    await run({ entries: entries(i, i + 2, 1, 16), hardState: hardState(1, i) })
  if (wal) await save(wal, snapshot(20, 1), 4)
  ref.save(snapshot(20, 1), 4)
  await run({ entries: entries(31, 33, 2, 8), hardState: hardState(2, 30, 2) })
  await run({ snapshot: snapshot(40, 3), entries: entries(41, 42, 3, 4), hardState: hardState(3, 40, 0) })
  for (let i = 43; i <= 60; i += 6)
    await run({ entries: entries(i, i + 5, 3, 24), hardState: hardState(3, i) })
}

async function rewrite(): Promise<void> {
  rmSync(FIXTURE, { recursive: true, force: true })
  const { wal } = await openWal(FIXTURE, META, OPTIONS)
  await history(wal, new Reference())
  await wal.close()
  for (const n of readdirSync(FIXTURE)) if (n.endsWith('.tmp')) rmSync(join(FIXTURE, n))
}

if (process.argv.includes('--rewrite')) await rewrite()

describe('storage/wal fixture', () => {
  it('reopens a data directory an older run wrote, and goes on writing to it', async () => {
    const ref = new Reference()
    await history(undefined, ref)
    await withTmpDir(async (dir) => {
      cpSync(FIXTURE, dir, { recursive: true })
      const names = readdirSync(dir).sort()
      assert.ok(
        names.filter((n) => n.endsWith('.wal')).length >= 2 && names.some((n) => n.endsWith('.snap')),
        `${names}`,
      )
      const opened = await openWal(dir, new Uint8Array(0), OPTIONS)
      assert.deepStrictEqual(opened.metadata, META)
      assert.deepStrictEqual(normalize(opened.durable), normalize(ref.state))
      const more = { entries: entries(61, 70, 3, 30), hardState: hardState(4, 60) }
      await persist(opened.wal, more)
      ref.persist(more)
      await opened.wal.close()
      const again = await openWal(dir, META, OPTIONS)
      assert.deepStrictEqual(normalize(again.durable), normalize(ref.state))
      await again.wal.close()
    })
  })
})
