import fc from 'fast-check'
import type { Entry, Snapshot } from '../../../src/engines/engine.js'
import type { PersistBatch } from '../../../src/storage/storage.js'
import { entry, hardState, Reference, snapshot } from './helpers.js'

/**
 * Random call sequences a host could make: batches of entries (some replacing a suffix of the
 * log), hard states, snapshots saved with some entries retained, snapshots installed by a leader,
 * and restarts. Each op is drawn as raw numbers and shaped against the reference's state, so that
 * every sequence is one the Storage contract allows (entries contiguous, never past last + 1).
 */

export type Op =
  | { readonly kind: 'persist'; readonly batch: PersistBatch }
  | { readonly kind: 'save'; readonly snapshot: Snapshot; readonly retain: number }
  | { readonly kind: 'reopen' }

const rawOp = fc.record(
  {
    k: fc.nat(99),
    a: fc.nat(1000),
    b: fc.nat(1000),
    data: fc.uint8Array({ maxLength: 90 }),
  },
  { noNullPrototype: true },
)

export type RawOp = typeof rawOp extends fc.Arbitrary<infer T> ? T : never

export const arbRawOps = (maxLength: number): fc.Arbitrary<RawOp[]> =>
  fc.array(rawOp, { maxLength, size: 'max' })

/** shapeOps turns raw draws into valid ops, tracking a Reference as it goes. */
export function shapeOps(raw: readonly RawOp[], withReopen = true): Op[] {
  const ref = new Reference()
  let t = 1
  const out: Op[] = []
  for (const r of raw) {
    const op = shapeOne(r, ref, () => t, withReopen)
    if (op.kind === 'persist') {
      ref.persist(op.batch)
      t = op.batch.hardState?.term ?? t
    } else if (op.kind === 'save') ref.save(op.snapshot, op.retain)
    out.push(op)
  }
  return out
}

function shapeOne(r: RawOp, ref: Reference, currentTerm: () => number, withReopen: boolean): Op {
  const last = ref.lastIndex()
  const t = currentTerm() + (r.b % 7 === 0 ? 1 : 0)
  const hs = r.a % 2 === 0 ? { hardState: hardState(t, Math.min(last, r.b), r.b % 3) } : {}
  if (r.k < 55) {
    const first = Math.max(1, last + 1 - (r.b % 3))
    return { kind: 'persist', batch: { entries: makeEntries(first, 1 + (r.a % 4), t, r.data), ...hs } }
  }
  if (r.k < 68) return { kind: 'persist', batch: { entries: [], hardState: hardState(t, r.a, r.b % 4) } }
  if (r.k < 84 && last >= 1) {
    const at = 1 + (r.a % last)
    return { kind: 'save', snapshot: snapshot(at, t, r.data), retain: r.b % 6 }
  }
  if (r.k < 92) {
    const at = last + 1 + (r.a % 5)
    const after = makeEntries(at + 1, r.b % 3, t, r.data)
    return { kind: 'persist', batch: { snapshot: snapshot(at, t, r.data), entries: after, ...hs } }
  }
  return withReopen
    ? { kind: 'reopen' }
    : { kind: 'persist', batch: { entries: [], hardState: hardState(t) } }
}

function makeEntries(first: number, count: number, t: number, data: Uint8Array): Entry[] {
  const out: Entry[] = []
  for (let k = 0; k < count; k++)
    out.push(entry(first + k, t, data.subarray(0, (data.length * (k + 1)) / count)))
  return out
}
