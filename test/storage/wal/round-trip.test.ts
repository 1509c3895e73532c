import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { openWal, type Wal } from '../../../src/storage/wal/index.js'
import { META, normalize, persist, Reference, save, withTmpDir } from './helpers.js'
import { arbRawOps, type Op, shapeOps } from './ops.js'

/**
 * Round trip: whatever sequence of calls a host makes, reopening the directory gives exactly the
 * state the contract's reference (MemoryStorage's applyBatchTo / applySnapshotTo) holds — with
 * segments small enough that batches roll over, snapshots remove segments and restarts happen
 * in the middle of all that.
 */

async function runOps(dir: string, ops: readonly Op[], segmentBytes: number): Promise<void> {
  const options = { segmentBytes }
  const ref = new Reference()
  let { wal } = await openWal(dir, META, options)
  const reopen = async (): Promise<Wal> => {
    await wal.close()
    const opened = await openWal(dir, new Uint8Array(0), options)
    assert.deepStrictEqual(opened.metadata, META)
    assert.deepStrictEqual(normalize(opened.durable), normalize(ref.state))
    return opened.wal
  }
  for (const op of ops) {
    if (op.kind === 'persist') {
      await persist(wal, op.batch)
      ref.persist(op.batch)
    } else if (op.kind === 'save') {
      await save(wal, op.snapshot, op.retain)
      ref.save(op.snapshot, op.retain)
    } else {
      wal = await reopen()
    }
  }
  wal = await reopen()
  await wal.close()
}

describe('storage/wal round trip', () => {
  it('reopens to exactly what the reference holds, for random call sequences', async () => {
    await fc.assert(
      fc.asyncProperty(arbRawOps(40), fc.constantFrom(512, 1024, 4096), async (raw, segmentBytes) => {
        await withTmpDir((dir) => runOps(dir, shapeOps(raw), segmentBytes))
      }),
      { numRuns: 60 },
    )
  })

  it('keeps calls in order when they are made without waiting', async () => {
    await withTmpDir(async (dir) => {
      const ops = shapeOps(fc.sample(arbRawOps(60), { numRuns: 1, seed: 7 })[0] ?? [], false)
      const ref = new Reference()
      const { wal } = await openWal(dir, META, { segmentBytes: 512 })
      const order: number[] = []
      const all = ops.map(
        (op, k) =>
          new Promise<void>((resolve, reject) => {
            const done = (err?: Error) => {
              order.push(k)
              if (err) reject(err)
              else resolve()
            }
            if (op.kind === 'persist') {
              wal.persist(op.batch, done)
              ref.persist(op.batch)
            } else if (op.kind === 'save') {
              wal.saveSnapshot(op.snapshot, op.retain, done)
              ref.save(op.snapshot, op.retain)
            } else resolve()
          }),
      )
      assert.deepStrictEqual(order, [], 'no callback runs inside the call')
      await Promise.all(all)
      assert.deepStrictEqual(
        order,
        [...order].sort((a, b) => a - b),
      )
      await wal.close()
      const reopened = await openWal(dir, META, { segmentBytes: 512 })
      assert.deepStrictEqual(normalize(reopened.durable), normalize(ref.state))
      await reopened.wal.close()
    })
  })
})
