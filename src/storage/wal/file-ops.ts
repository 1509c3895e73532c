import { constants } from 'node:fs'
import { type FileHandle, mkdir, open, readdir, readFile, rename, stat, unlink } from 'node:fs/promises'

/**
 * FileOps is every file-system call the WAL makes, so that tests can put a failing or slow disk
 * underneath it (an fsync that fails, a disk that fills up) without `if (test)` in the WAL. The
 * real node passes nothing and gets nodeFileOps. All calls are asynchronous: an fsync never
 * blocks the event loop.
 */
export interface FileOps {
  /** open opens a file for positional reads and writes; 'create' makes it empty (or new). */
  open(path: string, mode: 'create' | 'existing'): Promise<WalFile>
  readFile(path: string): Promise<Uint8Array>
  /** size returns a file's size in bytes. */
  size(path: string): Promise<number>
  /** readdir lists the names in `dir`. */
  readdir(dir: string): Promise<string[]>
  /** mkdir creates `dir` and its parents; returns the first directory it created, if any. */
  mkdir(dir: string): Promise<string | undefined>
  rename(from: string, to: string): Promise<void>
  unlink(path: string): Promise<void>
  /** syncDir makes the creations, renames and removals of names in `dir` durable. */
  syncDir(dir: string): Promise<void>
}

export interface WalFile {
  /** write writes all of `data` at `position` (retrying short writes). */
  write(data: Uint8Array, position: number): Promise<void>
  /** datasync is fdatasync: the data and the metadata needed to read it back (the size). */
  datasync(): Promise<void>
  /** sync is fsync: the data and all metadata. */
  sync(): Promise<void>
  truncate(length: number): Promise<void>
  close(): Promise<void>
}

class NodeFile implements WalFile {
  constructor(private readonly fh: FileHandle) {}

  async write(data: Uint8Array, position: number): Promise<void> {
    let done = 0
    while (done < data.length) {
      const { bytesWritten } = await this.fh.write(data, done, data.length - done, position + done)
      if (bytesWritten <= 0) throw new Error(`short write: ${done} of ${data.length} bytes`)
      done += bytesWritten
    }
  }

  datasync(): Promise<void> {
    return this.fh.datasync()
  }

  sync(): Promise<void> {
    return this.fh.sync()
  }

  truncate(length: number): Promise<void> {
    return this.fh.truncate(length)
  }

  close(): Promise<void> {
    return this.fh.close()
  }
}

export const nodeFileOps: FileOps = {
  async open(path, mode) {
    const flags =
      mode === 'create' ? constants.O_RDWR | constants.O_CREAT | constants.O_TRUNC : constants.O_RDWR
    return new NodeFile(await open(path, flags, 0o600))
  },
  async readFile(path) {
    // A plain Uint8Array over the Buffer's memory: values decoded from it are Uint8Arrays too.
    const b = await readFile(path)
    return new Uint8Array(b.buffer, b.byteOffset, b.byteLength)
  },
  async size(path) {
    return (await stat(path)).size
  },
  readdir(dir) {
    return readdir(dir)
  },
  mkdir(dir) {
    return mkdir(dir, { recursive: true, mode: 0o700 })
  },
  rename,
  unlink,
  async syncDir(dir) {
    const fh = await open(dir, constants.O_RDONLY)
    try {
      await fh.sync()
    } finally {
      await fh.close()
    }
  },
}
