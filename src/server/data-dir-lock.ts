import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

/**
 * DataDirLock keeps two processes off one data dir: the second would recover the WAL (cutting
 * what it takes for a torn tail, re-making the preallocated segment) while the first writes it.
 * The lock is a file created exclusively and holding the owner's PID; a lock whose process is
 * gone (kill -9) is stale and taken over. Node has no flock(2); a PID file is what remains, with
 * the small risk that a reused PID keeps a stale lock — the error then says which file to remove.
 */
export class DataDirLock {
  private constructor(private readonly path: string) {}

  static acquire(dataDir: string): DataDirLock {
    mkdirSync(dataDir, { recursive: true })
    const path = join(dataDir, 'LOCK')
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        writeFileSync(path, `${process.pid}\n`, { flag: 'wx' })
        return new DataDirLock(path)
      } catch (err) {
        if ((err as { code?: string }).code !== 'EEXIST') throw err
      }
      const owner = Number.parseInt(readFileSync(path, 'utf8'), 10)
      if (Number.isSafeInteger(owner) && owner !== process.pid && isAlive(owner)) {
        throw new Error(
          `${dataDir} is in use by process ${owner}; stop it first (or, if that process is not Synod, remove ${path})`,
        )
      }
      rmSync(path, { force: true }) // stale: its process is gone
    }
    throw new Error(`${dataDir}: could not take ${path}; another process is starting on it`)
  }

  release(): void {
    rmSync(this.path, { force: true })
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    // EPERM: it exists but is not ours — alive all the same.
    return (err as { code?: string }).code === 'EPERM'
  }
}
