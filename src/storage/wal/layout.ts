import { join } from 'node:path'

/**
 * The names of the files in a WAL directory (DESIGN.md, "Files"). Numbers are 16 hex digits, so
 * that names sort in numeric order.
 *
 *   0000000000000001.wal       segment 1 (segments are numbered from 1, without gaps)
 *   0000000000000002.wal.tmp   the next segment, being preallocated
 *   000000000000002a.snap      the snapshot at index 42
 *   000000000000002a.snap.tmp  a snapshot being written
 */

const hex16 = (n: number): string => n.toString(16).padStart(16, '0')

export const segmentName = (seq: number): string => `${hex16(seq)}.wal`
export const snapshotName = (index: number): string => `${hex16(index)}.snap`
export const TMP_SUFFIX = '.tmp'

const SEGMENT = /^([0-9a-f]{16})\.wal$/
const SNAPSHOT = /^([0-9a-f]{16})\.snap$/

export interface DirListing {
  /** segments: sequence numbers, ascending. */
  readonly segments: readonly number[]
  /** snapshots: snapshot indexes, ascending. */
  readonly snapshots: readonly number[]
  /** temporaries: names of unfinished files, to remove. */
  readonly temporaries: readonly string[]
}

/** parseListing sorts the names of a WAL directory; names it does not know are left alone. */
export function parseListing(names: readonly string[]): DirListing {
  const segments: number[] = []
  const snapshots: number[] = []
  const temporaries: string[] = []
  for (const name of names) {
    const seg = SEGMENT.exec(name)
    const snap = SNAPSHOT.exec(name)
    const n = Number.parseInt((seg ?? snap)?.[1] ?? '', 16)
    if (seg && Number.isSafeInteger(n)) segments.push(n)
    else if (snap && Number.isSafeInteger(n)) snapshots.push(n)
    else if (
      name.endsWith(TMP_SUFFIX) &&
      (SEGMENT.test(name.slice(0, -4)) || SNAPSHOT.test(name.slice(0, -4)))
    )
      temporaries.push(name)
  }
  const ascending = (a: number, b: number) => a - b
  return { segments: segments.sort(ascending), snapshots: snapshots.sort(ascending), temporaries }
}

export const pathOf = (dir: string, name: string): string => join(dir, name)
