import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { AssertionFailure } from '../../../src/core/assert.js'
import { encodeBatch } from '../../../src/storage/wal/batch.js'
import { openWal, WalCorruptionError } from '../../../src/storage/wal/index.js'
import { dataEndOf } from '../../../src/storage/wal/record.js'
import { type SegmentScan, scanSegment } from '../../../src/storage/wal/scan.js'
import { encodeSegmentHeader } from '../../../src/storage/wal/segment.js'
import { decodeSnapshotFile, encodeSnapshotFile } from '../../../src/storage/wal/snapshot-file.js'
import { entries, entry, hardState, META, persist, snapshot, withTmpDir } from './helpers.js'

/**
 * The record format and the recovery rule on buffers, without a disk: garbage never makes the
 * reader throw anything but WalCorruptionError, and the rule that tells a torn tail from damage
 * holds where etcd's zero-sector heuristic does not — a last record whose payload is mostly zeros.
 */

const header = encodeSegmentHeader(1, META)

/** segment lays out a header, batches and `zeros` bytes of unwritten space. */
function segment(batches: readonly Uint8Array[], zeros: number): { buf: Uint8Array; ends: number[] } {
  const total = header.length + batches.reduce((n, b) => n + b.length, 0) + zeros
  const buf = new Uint8Array(total)
  buf.set(header)
  const ends: number[] = []
  let at = header.length
  for (const b of batches) {
    buf.set(b, at)
    at += b.length
    ends.push(at)
  }
  return { buf, ends }
}

function scanOrCorruption(buf: Uint8Array, isLast: boolean): SegmentScan | WalCorruptionError {
  try {
    return scanSegment(buf, 'seg', isLast)
  } catch (e) {
    if (e instanceof WalCorruptionError) return e
    throw new Error(`the scan threw a non-WalCorruptionError: ${e}`, { cause: e })
  }
}

const ZEROS_ENTRY = encodeBatch(
  { entries: [entry(2, 1, new Uint8Array(3000))], hardState: hardState(1, 0, 0) },
  1 << 20,
)
const FIRST = encodeBatch({ entries: entries(1, 1), hardState: hardState(1, 1) }, 1 << 20)

describe('storage/wal format', () => {
  it('refuses any damage to a last record whose payload is thousands of zeros', () => {
    const { buf, ends } = segment([FIRST, ZEROS_ENTRY], 700)
    const [firstEnd, lastEnd] = ends as [number, number]
    for (let at = 0; at < lastEnd; at++) {
      for (const mask of [1 << (at % 8), 0xff]) {
        const damaged = buf.slice()
        damaged[at] = (damaged[at] as number) ^ mask
        const r = scanOrCorruption(damaged, true)
        assert.ok(r instanceof WalCorruptionError, `byte ${at} ^ ${mask} (first batch ends at ${firstEnd})`)
      }
    }
  })

  it('refuses every damaged length of the last record, whatever bits changed', () => {
    const { buf, ends } = segment([FIRST, ZEROS_ENTRY], 700)
    const start = ends[0] as number
    const view = new DataView(buf.buffer)
    const length = view.getUint32(start, true)
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 0xffff_ffff }), (bad) => {
        fc.pre(bad !== length)
        const damaged = buf.slice()
        new DataView(damaged.buffer).setUint32(start, bad, true)
        assert.ok(scanOrCorruption(damaged, true) instanceof WalCorruptionError, `length ${length} -> ${bad}`)
      }),
      { numRuns: 300 },
    )
  })

  it('drops a torn last batch cut at any byte, and keeps the batches before it', () => {
    const { buf, ends } = segment([FIRST, ZEROS_ENTRY], 700)
    const [firstEnd, lastEnd] = ends as [number, number]
    for (let at = firstEnd; at < lastEnd; at++) {
      for (const torn of [buf.slice(0, at), buf.slice().fill(0, at)]) {
        const r = scanOrCorruption(torn, true)
        assert.ok(!(r instanceof WalCorruptionError), `torn at ${at}: ${r}`)
        assert.equal(r.end, firstEnd)
        assert.equal(r.batches.length, 1)
      }
    }
  })

  it('reads garbage and mangled segments and snapshot files only as WalCorruptionError or data', () => {
    const { buf } = segment([FIRST, FIRST], 64)
    const snap = encodeSnapshotFile(META, snapshot(7))
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 300 }),
        fc.array(fc.record({ at: fc.nat(), value: fc.nat(255) }), { minLength: 1, maxLength: 4 }),
        fc.boolean(),
        (garbage, edits, isLast) => {
          scanOrCorruption(garbage, isLast)
          for (const base of [buf, snap]) {
            const mangled = base.slice()
            for (const e of edits) mangled[e.at % mangled.length] = e.value
            if (base === buf) scanOrCorruption(mangled, isLast)
            else if (!mangled.every((b, i) => b === snap[i]))
              assert.throws(() => decodeSnapshotFile(mangled, 'snap'), WalCorruptionError)
          }
        },
      ),
      { numRuns: 500 },
    )
  })

  it('finds the end of the written data like a byte-by-byte scan would', () => {
    const naive = (b: Uint8Array) => {
      let i = b.length
      while (i > 0 && b[i - 1] === 0) i--
      return i
    }
    fc.assert(
      fc.property(fc.nat(7), fc.nat(400), fc.array(fc.nat(), { maxLength: 3 }), (offset, length, marks) => {
        const b = new Uint8Array(new ArrayBuffer(offset + length), offset, length)
        for (const m of marks) if (length > 0) b[m % length] = 1 + (m % 255)
        assert.equal(dataEndOf(b), naive(b))
      }),
      { numRuns: 2000 },
    )
  })

  it('asserts that a batch leaves no gap in the log (a programmer error, not a disk one)', async () => {
    await withTmpDir(async (dir) => {
      const { wal } = await openWal(dir, META, { segmentBytes: 4096 })
      await persist(wal, { entries: entries(1, 3) })
      assert.throws(() => wal.persist({ entries: entries(5, 6) }, () => {}), AssertionFailure)
      assert.throws(() => wal.persist({ entries: [entry(4), entry(6)] }, () => {}), AssertionFailure)
      await wal.close()
    })
  })
})
