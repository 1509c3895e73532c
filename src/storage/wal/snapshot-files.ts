import type { Logger } from '../../core/logger.js'
import type { Snapshot } from '../../engines/engine.js'
import type { FileOps } from './file-ops.js'
import { pathOf, snapshotName } from './layout.js'
import { writeSnapshotFile } from './snapshot-file.js'

/**
 * SnapshotFiles keeps the snapshot files of a WAL directory: writes new ones and, once the log
 * refers to a new snapshot, removes all but it and the one before it. The previous file is kept
 * for an operator who finds the newest one damaged; recovery itself uses only the file the log's
 * last marker names (DESIGN.md, "Snapshots").
 */
export class SnapshotFiles {
  /** sizes maps the index of every snapshot file on disk to its size. */
  private readonly sizes: Map<number, number>

  constructor(
    private readonly fs: FileOps,
    private readonly dir: string,
    private readonly metadata: Uint8Array,
    private readonly logger: Logger,
    sizes: ReadonlyMap<number, number>,
    /** current is the index of the snapshot the log refers to; previous, the one before it. */
    private current: number | undefined,
    private previous: number | undefined,
  ) {
    this.sizes = new Map(sizes)
  }

  bytes(): number {
    let n = 0
    for (const b of this.sizes.values()) n += b
    return n
  }

  /** write makes `s` durable in its file (see writeSnapshotFile); the log does not refer to it yet. */
  async write(s: Snapshot): Promise<void> {
    const bytes = await writeSnapshotFile(this.fs, this.dir, this.metadata, s)
    this.sizes.set(s.meta.index, bytes)
  }

  /**
   * retain is called once the log's marker for the snapshot at `index` is durable: that snapshot
   * is current from now on, and files other than it and the previous one are removed.
   */
  async retain(index: number): Promise<void> {
    if (index !== this.current) {
      this.previous = this.current
      this.current = index
    }
    const remove = [...this.sizes.keys()].filter((i) => i !== this.current && i !== this.previous)
    if (remove.length === 0) return
    for (const i of remove) {
      await this.fs.unlink(pathOf(this.dir, snapshotName(i)))
      this.sizes.delete(i)
    }
    await this.fs.syncDir(this.dir)
    this.logger.info({ dir: this.dir, removed: remove }, 'wal: removed old snapshot files')
  }
}
