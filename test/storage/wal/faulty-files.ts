import { type FileOps, nodeFileOps, type WalFile } from '../../../src/storage/wal/index.js'

/**
 * FaultyFiles is a FileOps over the real one that records every call and fails the ones a test
 * arms: the WAL's seam for a disk that fails an fsync or fills up, with no test code in the WAL.
 */

export type FileOp = 'open' | 'write' | 'datasync' | 'sync' | 'truncate' | 'rename' | 'unlink' | 'syncDir'

export interface Fault {
  readonly op: FileOp
  /** path: only calls on a path that matches; default any. */
  readonly path?: RegExp
  /** after: let this many matching calls through first; default 0. */
  readonly after?: number
  /** times: how many calls fail once it triggers; default every later one. */
  readonly times?: number
  readonly error: () => Error
  /** partial: a failing write writes the first half of its data first. */
  readonly partial?: boolean
}

export const sysError = (code: string, message: string): Error =>
  Object.assign(new Error(`${code}: ${message}`), { code })
export const ENOSPC = () => sysError('ENOSPC', 'no space left on device, write')
export const EIO = () => sysError('EIO', 'i/o error, fdatasync')

export class FaultyFiles implements FileOps {
  readonly calls: { op: FileOp; path: string }[] = []
  private readonly armed: { fault: Fault; seen: number; failed: number }[] = []

  constructor(private readonly base: FileOps = nodeFileOps) {}

  arm(fault: Fault): this {
    this.armed.push({ fault, seen: 0, failed: 0 })
    return this
  }

  count(op: FileOp, path?: RegExp): number {
    return this.calls.filter((c) => c.op === op && (!path || path.test(c.path))).length
  }

  /** check records a call and returns the fault it must fail with, if any. */
  private check(op: FileOp, path: string): Fault | undefined {
    this.calls.push({ op, path })
    for (const a of this.armed) {
      if (a.fault.op !== op || (a.fault.path && !a.fault.path.test(path))) continue
      a.seen++
      if (a.seen > (a.fault.after ?? 0) && a.failed < (a.fault.times ?? Number.POSITIVE_INFINITY)) {
        a.failed++
        return a.fault
      }
    }
    return undefined
  }

  private async run<T>(op: FileOp, path: string, call: () => Promise<T>): Promise<T> {
    const fault = this.check(op, path)
    if (fault) throw fault.error()
    return call()
  }

  /** named: the current name of each open file (a rename renames it), for matching calls by path. */
  private readonly named: { path: string }[] = []

  async open(path: string, mode: 'create' | 'existing'): Promise<WalFile> {
    const file = await this.run('open', path, () => this.base.open(path, mode))
    const name = { path }
    this.named.push(name)
    const self = this
    return {
      async write(data, position) {
        const fault = self.check('write', name.path)
        if (fault?.partial) await file.write(data.subarray(0, data.length >> 1), position)
        if (fault) throw fault.error()
        return file.write(data, position)
      },
      datasync: () => self.run('datasync', name.path, () => file.datasync()),
      sync: () => self.run('sync', name.path, () => file.sync()),
      truncate: (n) => self.run('truncate', name.path, () => file.truncate(n)),
      close: () => file.close(),
    }
  }

  rename = async (from: string, to: string): Promise<void> => {
    await this.run('rename', from, () => this.base.rename(from, to))
    for (const n of this.named) if (n.path === from) n.path = to
  }

  readFile = (path: string) => this.base.readFile(path)
  size = (path: string) => this.base.size(path)
  readdir = (dir: string) => this.base.readdir(dir)
  mkdir = (dir: string) => this.base.mkdir(dir)
  unlink = (path: string) => this.run('unlink', path, () => this.base.unlink(path))
  syncDir = (dir: string) => this.run('syncDir', dir, () => this.base.syncDir(dir))
}
