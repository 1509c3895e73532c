import { dirname } from 'node:path'
import { type Logger, silentLogger } from '../../core/logger.js'
import type { DurableState } from '../storage.js'
import { ioFailure, WalCorruptionError } from './errors.js'
import { type FileOps, nodeFileOps } from './file-ops.js'
import { type DirListing, parseListing, pathOf, segmentName, snapshotName } from './layout.js'
import { resolveWalOptions, type WalOptions } from './options.js'
import { recoverSegments } from './recover.js'
import { installSegment, preallocateSegment } from './segment.js'
import { readSnapshotFile } from './snapshot-file.js'
import { SnapshotFiles } from './snapshot-files.js'
import { Wal } from './wal.js'

/** OpenedWal is a ready Wal, what its directory held, and the metadata its segments carry. */
export interface OpenedWal {
  readonly wal: Wal
  readonly durable: DurableState
  readonly metadata: Uint8Array
}

/** WalEnv: what the process supplies besides options. Tests put a faulty disk under `fileOps`. */
export interface WalEnv {
  readonly fileOps?: FileOps
  readonly logger?: Logger
}

/**
 * openWal creates `dir` if it holds no log — writing `metadata` (e.g. cluster and member id),
 * which every segment and snapshot file carries — or recovers the log in it. For an existing log
 * it returns the stored metadata for the caller to compare. It throws WalCorruptionError on
 * corruption other than a torn tail of the last segment (DESIGN.md, "Recovery"), and an Error
 * for failed I/O (one that says so if the disk is full).
 */
export async function openWal(
  dir: string,
  metadata: Uint8Array,
  options?: Partial<WalOptions>,
  env: WalEnv = {},
): Promise<OpenedWal> {
  const opts = resolveWalOptions(options)
  const fs = env.fileOps ?? nodeFileOps
  const logger = env.logger ?? silentLogger
  let listing: DirListing
  try {
    const created = await fs.mkdir(dir)
    if (created !== undefined) await syncAncestors(fs, dir, created)
    listing = parseListing(await fs.readdir(dir))
    await removeTemporaries(fs, dir, listing.temporaries)
  } catch (e) {
    throw ioFailure(`opening ${dir}`, e)
  }
  const ctx = { dir, fs, logger, options: opts }
  if (listing.segments.length > 0) return recoverWal(ctx, listing)
  if (listing.snapshots.length > 0) {
    throw new WalCorruptionError(snapshotName(listing.snapshots[0] as number), 0, 'snapshot files but no log')
  }
  return createWal(ctx, metadata)
}

interface Ctx {
  readonly dir: string
  readonly fs: FileOps
  readonly logger: Logger
  readonly options: WalOptions
}

/** syncAncestors makes new directories durable: each one's entry lives in its parent. */
async function syncAncestors(fs: FileOps, dir: string, firstCreated: string): Promise<void> {
  const stop = dirname(firstCreated)
  for (let d = dirname(dir); ; d = dirname(d)) {
    await fs.syncDir(d)
    if (d === stop || dirname(d) === d) return
  }
}

/** removeTemporaries removes files a crash left half-written; they were never part of the log. */
async function removeTemporaries(fs: FileOps, dir: string, names: readonly string[]): Promise<void> {
  for (const name of names) await fs.unlink(pathOf(dir, name))
  if (names.length > 0) await fs.syncDir(dir)
}

async function createWal(ctx: Ctx, metadata: Uint8Array): Promise<OpenedWal> {
  const { dir, fs, options } = ctx
  const seg = await preallocateSegment(fs, dir, 1, metadata, options.segmentBytes).catch((e: unknown) => {
    throw ioFailure(`creating ${segmentName(1)} in ${dir}`, e)
  })
  try {
    await installSegment(fs, dir, seg)
  } catch (e) {
    await seg.file.close().catch(() => {})
    throw ioFailure(`creating ${segmentName(1)} in ${dir}`, e)
  }
  ctx.logger.info({ dir }, 'wal: created')
  const wal = new Wal({
    ...ctx,
    metadata,
    segments: [{ seq: 1, bytes: seg.bytes, maxEntryIndex: 0 }],
    file: seg.file,
    offset: seg.headerEnd,
    headerEnd: seg.headerEnd,
    snapshot: undefined,
    hardState: undefined,
    lastEntryIndex: undefined,
    snapshotFiles: new SnapshotFiles(fs, dir, metadata, ctx.logger, new Map(), undefined, undefined),
  })
  return { wal, durable: { entries: [] }, metadata }
}

async function recoverWal(ctx: Ctx, listing: DirListing): Promise<OpenedWal> {
  const { dir, fs, logger } = ctx
  const found = await recoverSegments(ctx, listing.segments)
  const { replay, metadata } = found
  const loaded = replay.snapshot
    ? await readSnapshotFile(fs, dir, { ...replay.snapshot, metadata })
    : undefined
  // Everything verified: only now touch the disk (clear the torn tail, if any).
  const tail = await found.openLast()
  const sizes = new Map<number, number>()
  try {
    for (const i of listing.snapshots) sizes.set(i, await fs.size(pathOf(dir, snapshotName(i))))
  } catch (e) {
    await tail.file.close().catch(() => {})
    throw ioFailure(`reading the snapshot files in ${dir}`, e)
  }
  const current = replay.snapshot?.index
  const previous = listing.snapshots.filter((i) => current !== undefined && i < current).at(-1)
  const wal = new Wal({
    ...ctx,
    metadata,
    segments: found.segments,
    file: tail.file,
    offset: tail.offset,
    headerEnd: tail.headerEnd,
    snapshot: replay.snapshot,
    hardState: replay.hardState,
    lastEntryIndex: replay.entries.at(-1)?.index,
    snapshotFiles: new SnapshotFiles(fs, dir, metadata, logger, sizes, current, previous),
  })
  const durable: DurableState = {
    entries: replay.entries,
    ...(replay.hardState && { hardState: replay.hardState }),
    ...(loaded && { snapshot: loaded.snapshot }),
  }
  logger.info({ dir, entries: replay.entries.length, snapshot: current }, 'wal: recovered')
  return { wal, durable, metadata }
}
