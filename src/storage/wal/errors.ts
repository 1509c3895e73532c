/**
 * The errors the write-ahead log reports. Corruption of what is on disk is a WalCorruptionError,
 * which names the file and offset and tells the operator what to do; a failed write or fsync is
 * an ordinary Error (see ioFailure) after which the Wal accepts nothing more.
 */

/** REPAIR_HINT is what an operator can do about a member whose disk cannot be trusted. */
export const REPAIR_HINT =
  'restore this member from a snapshot or remove it and re-add it (member remove / member add)'

/**
 * WalCorruptionError: data on disk failed verification somewhere recovery must not guess (not a
 * torn tail of the last segment). The member must not start: it could forget a vote or an entry
 * it acknowledged. `file` is a name within the WAL directory ('0000000000000003.wal'), `offset`
 * the byte where the bad record (or the problem) starts.
 */
export class WalCorruptionError extends Error {
  override readonly name = 'WalCorruptionError'

  constructor(
    readonly file: string,
    readonly offset: number,
    problem: string,
  ) {
    super(`wal: ${file} is corrupt at offset ${offset}: ${problem}; ${REPAIR_HINT}`)
  }
}

/** errorCode returns a Node system error's code ('ENOSPC', 'EIO', …), if it has one. */
export function errorCode(e: unknown): string | undefined {
  const code = (e as { code?: unknown } | null)?.code
  return typeof code === 'string' ? code : undefined
}

export function isDiskFull(e: unknown): boolean {
  const code = errorCode(e)
  return code === 'ENOSPC' || code === 'EDQUOT'
}

/**
 * ioFailure wraps an I/O error with what we were doing. A full disk says so in plain words, since
 * it is the one failure an operator can fix by themselves: what is on disk is still recoverable.
 */
export function ioFailure(doing: string, e: unknown): Error {
  if (e instanceof WalCorruptionError) return e
  const detail = e instanceof Error ? e.message : String(e)
  if (isDiskFull(e)) {
    return new Error(
      `wal: the disk is full (${errorCode(e)}) while ${doing}; the log on disk is intact up to the last ` +
        'completed write: free some space and restart this member',
      { cause: e },
    )
  }
  return new Error(`wal: ${doing} failed: ${detail}`, { cause: e })
}

/** toError turns anything thrown into an Error without losing it. */
export function toError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e))
}
