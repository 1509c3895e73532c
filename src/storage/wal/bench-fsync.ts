import { constants } from 'node:fs'
import { open, unlink } from 'node:fs/promises'
import { join } from 'node:path'

/**
 * measureFsyncLatency measures the disk under `dir` the way the WAL uses it: `samples` writes of
 * `writeBytes` each, at increasing offsets of a preallocated file, each followed by an fdatasync,
 * timed together. The file is filled with zeros and fsynced first, so that no sample pays for
 * allocating blocks or growing the file, and removed at the end. This is the floor under any
 * durable commit on that disk.
 */
export async function measureFsyncLatency(
  dir: string,
  samples: number,
  writeBytes: number,
): Promise<{ p50Ms: number; p99Ms: number; meanMs: number; samples: number }> {
  if (!Number.isSafeInteger(samples) || samples < 1)
    throw new RangeError(`samples must be >= 1, got ${samples}`)
  if (!Number.isSafeInteger(writeBytes) || writeBytes < 1)
    throw new RangeError(`writeBytes must be >= 1, got ${writeBytes}`)
  const path = join(dir, `fsync-bench-${process.pid}.tmp`)
  const fh = await open(path, constants.O_RDWR | constants.O_CREAT | constants.O_TRUNC, 0o600)
  const times: number[] = []
  try {
    const chunk = new Uint8Array(Math.min(1024 * 1024, samples * writeBytes))
    for (let at = 0; at < samples * writeBytes; at += chunk.length) {
      await fh.write(chunk, 0, Math.min(chunk.length, samples * writeBytes - at), at)
    }
    await fh.sync()
    const data = new Uint8Array(writeBytes).fill(0xa5)
    for (let i = 0; i < samples; i++) {
      const start = performance.now()
      await fh.write(data, 0, writeBytes, i * writeBytes)
      await fh.datasync()
      times.push(performance.now() - start)
    }
  } finally {
    await fh.close()
    await unlink(path)
  }
  times.sort((a, b) => a - b)
  const at = (q: number) => times[Math.min(times.length - 1, Math.floor(q * times.length))] as number
  const meanMs = times.reduce((a, b) => a + b, 0) / times.length
  return { p50Ms: at(0.5), p99Ms: at(0.99), meanMs, samples }
}
