import { assert } from '../../core/assert.js'
import type { KeyHistory, KeyRecord } from './key-history.js'
import type { KeyString } from './keys.js'
import { type Event, type KeyValue, type Revision, revision } from './types.js'

/** Change names one kept record: the key it belongs to and its (revision, sub-revision). */
export interface Change {
  readonly rev: Revision
  readonly sub: number
  readonly key: KeyString
}

/**
 * ChangeLog is the change feed's index: every change newer than the compacted revision, in the
 * order it was made, so a watcher catching up from revision r reads only what happened after r
 * instead of scanning every key of its range. The records themselves stay in the key histories.
 */
export class ChangeLog {
  /** Invariant: sorted by (rev, sub), strictly; exactly the kept records with rev > the compacted revision. */
  private changes: Change[] = []

  get length(): number {
    return this.changes.length
  }

  append(c: Change): void {
    const last = this.changes[this.changes.length - 1]
    assert(
      last === undefined || last.rev < c.rev || (last.rev === c.rev && last.sub < c.sub),
      () => `change log: (${c.rev}, ${c.sub}) after (${last?.rev}, ${last?.sub})`,
    )
    this.changes.push(c)
  }

  /** since returns the changes with rev > after, oldest first. */
  since(after: number): readonly Change[] {
    return this.changes.slice(this.firstAfter(after))
  }

  /** compactTo forgets the changes at or below `rev`. */
  compactTo(rev: number): void {
    this.changes = this.changes.slice(this.firstAfter(rev))
  }

  private firstAfter(rev: number): number {
    let lo = 0
    let hi = this.changes.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if ((this.changes[mid] as Change).rev <= rev) lo = mid + 1
      else hi = mid
    }
    return lo
  }

  /** rebuild indexes the records of `histories` newer than `compacted` (after a restore). */
  static rebuild(histories: ReadonlyMap<KeyString, KeyHistory>, compacted: number): ChangeLog {
    const all: Change[] = []
    for (const [key, h] of histories) {
      for (const rec of h.records) if (rec.rev > compacted) all.push({ rev: rec.rev, sub: rec.sub, key })
    }
    all.sort((a, b) => a.rev - b.rev || a.sub - b.sub)
    const log = new ChangeLog()
    for (const c of all) log.append(c)
    return log
  }
}

/**
 * eventOf presents the record of `h` at (rev, sub) as a feed event. Its prevKv is, as in etcd's
 * watch, the version live at rev - 1 — so when a txn puts a key and then deletes it, both events
 * carry the version from before the txn. That version is always kept for rev > compacted: it is
 * newer than the compaction or the one live at it.
 */
export function eventOf(h: KeyHistory, rev: number, sub: number): Event {
  let i = h.indexAt(rev)
  while (i >= 0 && (h.records[i] as KeyRecord).sub !== sub && (h.records[i] as KeyRecord).rev === rev) i--
  const rec = h.records[i]
  assert(rec !== undefined && rec.rev === rev && rec.sub === sub, () => `feed: no record at (${rev}, ${sub})`)
  const prevKv = h.liveAt(rev - 1)
  const type = rec.tombstone ? 'delete' : 'put'
  const kv = rec.tombstone ? tombstoneKv(h.key, rec.rev) : h.kvOf(rec)
  return prevKv ? { type, kv, prevKv } : { type, kv }
}

/** tombstoneKv is a delete event's kv: the key and the deleting revision, as etcd reports it. */
function tombstoneKv(key: Uint8Array, rev: Revision): KeyValue {
  return {
    key,
    createRevision: revision(0),
    modRevision: rev,
    version: 0,
    value: new Uint8Array(0),
    lease: 0,
  }
}
