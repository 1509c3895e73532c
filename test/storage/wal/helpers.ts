import {
  closeSync,
  constants,
  cpSync,
  fstatSync,
  ftruncateSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  unlinkSync,
  writeSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type Index, index, type NodeId, nodeId, type Term, term } from '../../../src/core/ids.js'
import type { Entry, HardState, Membership, Snapshot } from '../../../src/engines/engine.js'
import { applyBatchTo, applySnapshotTo } from '../../../src/storage/memory-storage.js'
import type { DurableState, PersistBatch } from '../../../src/storage/storage.js'
import type { Wal } from '../../../src/storage/wal/index.js'
import { scanSegment } from '../../../src/storage/wal/scan.js'

/** Shared pieces of the WAL tests: temporary directories, promises over callbacks, values, a reference. */

export const META = new TextEncoder().encode('cluster c1 / member 1')

/** withTmpDir runs `fn` in a fresh directory under os.tmpdir(), removed afterwards. */
export async function withTmpDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'synod-wal-'))
  try {
    return await fn(dir)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

export function persist(wal: Wal, batch: PersistBatch): Promise<void> {
  return new Promise((resolve, reject) => wal.persist(batch, (err) => (err ? reject(err) : resolve())))
}

export function save(wal: Wal, s: Snapshot, retainEntries: number): Promise<void> {
  return new Promise((resolve, reject) =>
    wal.saveSnapshot(s, retainEntries, (err) => (err ? reject(err) : resolve())),
  )
}

export const entry = (i: number, t = 1, data: Uint8Array = new Uint8Array([i & 0xff, 7])): Entry => ({
  term: term(t),
  index: index(i),
  type: 'normal',
  data,
})

export function entries(from: number, to: number, t = 1, bytes = 2): Entry[] {
  const out: Entry[] = []
  for (let i = from; i <= to; i++) out.push(entry(i, t, new Uint8Array(bytes).fill((i * 31) & 0xff)))
  return out
}

export const hardState = (t: number, commit = 0, vote = 1): HardState => ({
  term: term(t),
  vote: vote as NodeId,
  commit: index(commit),
})

export const MEMBERS: Membership = {
  voters: [nodeId(1), nodeId(2), nodeId(3)],
  votersOutgoing: [],
  learners: [],
  learnersNext: [],
  autoLeave: false,
}

export const snapshot = (
  i: number,
  t = 1,
  data: Uint8Array = new Uint8Array([1, 2, 3, i & 0xff]),
): Snapshot => ({
  meta: { index: i as Index, term: t as Term, membership: MEMBERS },
  data,
})

/** Reference is the contract's reading of a sequence of calls: MemoryStorage's rules. */
export class Reference {
  state: DurableState = { entries: [] }

  persist(b: PersistBatch): void {
    this.state = applyBatchTo(this.state, b)
  }

  save(s: Snapshot, retainEntries: number): void {
    this.state = applySnapshotTo(this.state, s, retainEntries)
  }

  lastIndex(): number {
    return this.state.entries.at(-1)?.index ?? this.state.snapshot?.meta.index ?? 0
  }
}

/** normalize drops absent fields and copies bytes into plain Uint8Arrays, for deepStrictEqual. */
export function normalize(s: DurableState): object {
  const bytes = (b: Uint8Array) => new Uint8Array(b)
  return {
    ...(s.hardState && { hardState: { ...s.hardState } }),
    ...(s.snapshot && {
      snapshot: { meta: structuredClone(s.snapshot.meta), data: bytes(s.snapshot.data) },
    }),
    entries: s.entries.map((e) => ({ term: e.term, index: e.index, type: e.type, data: bytes(e.data) })),
  }
}

/** DirImage is every file of a directory, to put back between trials. */
export type DirImage = ReadonlyMap<string, Uint8Array>

export function captureDir(dir: string): DirImage {
  return new Map(readdirSync(dir).map((n) => [n, new Uint8Array(readFileSync(join(dir, n)))]))
}

/**
 * restoreDir makes `dir` hold exactly `image`: files not in it are removed, and those in it are
 * rewritten — only the ones named in `dirty`, if given (the ones a trial may have changed).
 */
export function restoreDir(dir: string, image: DirImage, dirty?: readonly string[]): void {
  for (const n of readdirSync(dir)) if (!image.has(n)) unlinkSync(join(dir, n))
  for (const [n, b] of image) if (!dirty || dirty.includes(n)) overwrite(join(dir, n), b)
}

/**
 * overwrite makes the file at `path` hold `data`, writing in place rather than truncating it to
 * zero first (ext4 makes a close after O_TRUNC slow, and the trials do this thousands of times).
 */
export function overwrite(path: string, data: Uint8Array): void {
  const fd = openSync(path, constants.O_RDWR | constants.O_CREAT, 0o600)
  try {
    writeSync(fd, data, 0, data.length, 0)
    if (fstatSync(fd).size !== data.length) ftruncateSync(fd, data.length)
  } finally {
    closeSync(fd)
  }
}

export function copyDir(from: string, to: string): void {
  cpSync(from, to, { recursive: true })
}

/** lastSegment is the name of the highest-numbered segment in an image. */
export function lastSegment(image: DirImage): string {
  return [...image.keys()]
    .filter((n) => n.endsWith('.wal'))
    .sort()
    .at(-1) as string
}

/** tornRange finds where the torn batch's write began and ended in the last segment. */
export function tornRange(before: DirImage, after: DirImage) {
  const name = lastSegment(after)
  const scanAfter = scanSegment(after.get(name) as Uint8Array, name, true)
  const prev = before.get(name)
  // Without a previous image the batch opened a new segment: its write began after the header.
  const start = prev ? scanSegment(prev, name, true).end : (scanAfter.batches[0]?.offset as number)
  return { name, start, end: scanAfter.end, newSegment: prev === undefined }
}

/**
 * inParallel runs `trial` for every item, WORKERS at a time, each worker in its own copy of the
 * directory under `dir`: the trials wait on the disk, not on the CPU.
 */
export async function inParallel<T>(
  items: readonly T[],
  dir: string,
  image: DirImage,
  trial: (item: T, scratch: string) => Promise<void>,
): Promise<void> {
  let next = 0
  const worker = async (w: number) => {
    const scratch = join(dir, `worker-${w}`)
    mkdirSync(scratch)
    restoreDir(scratch, image)
    while (next < items.length) await trial(items[next++] as T, scratch)
  }
  await Promise.all(Array.from({ length: WORKERS }, (_, w) => worker(w)))
}

/** WORKERS: trials wait mostly on the disk, so a few run at once. */
const WORKERS = 4
