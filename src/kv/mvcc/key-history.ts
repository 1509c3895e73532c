import { assert } from '../../core/assert.js'
import type { KeyValue, Revision } from './types.js'

/**
 * KeyRecord is one change of one key: a put (a new version) or a tombstone (a delete).
 * `sub` orders the changes of one revision (etcd's sub-revision), so the feed replays a txn's
 * writes in the order they were made.
 */
export interface KeyRecord {
  readonly rev: Revision
  readonly sub: number
  readonly tombstone: boolean
  /** value, lease, createRevision and version are those of the written version (zero for a tombstone). */
  readonly value: Uint8Array
  readonly lease: number
  readonly createRevision: Revision
  readonly version: number
}

/**
 * KeyHistory is the list of changes of one key still kept (everything after the compacted
 * revision, plus the version that was live at it).
 */
export class KeyHistory {
  /**
   * Invariant: sorted by (rev, sub), strictly ascending; never empty while the key is indexed;
   * one revision holds at most a put followed by a tombstone (nested txns may put a key and then
   * delete it: etcd's duplicate-key check lets that through);
   * a put's version is 1 after a tombstone (or at the start) and previous + 1 after a put.
   */
  readonly records: KeyRecord[] = []

  constructor(readonly key: Uint8Array) {}

  /** indexAt returns the index of the newest record (highest sub) with rev <= r, or -1 if there is none. */
  indexAt(r: number): number {
    let lo = 0
    let hi = this.records.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if ((this.records[mid] as KeyRecord).rev <= r) lo = mid + 1
      else hi = mid
    }
    return lo - 1
  }

  /** liveAt returns the version live at revision r, or undefined if the key did not exist then. */
  liveAt(r: number): KeyValue | undefined {
    const rec = this.records[this.indexAt(r)]
    return rec === undefined || rec.tombstone ? undefined : this.kvOf(rec)
  }

  /** latest returns the newest record. */
  latest(): KeyRecord | undefined {
    return this.records[this.records.length - 1]
  }

  /** append adds a change newer than every kept one. */
  append(rec: KeyRecord): void {
    const last = this.latest()
    assert(
      last === undefined || rec.rev > last.rev || (rec.rev === last.rev && rec.sub > last.sub),
      () => `key history: (${rec.rev}, ${rec.sub}) after (${last?.rev}, ${last?.sub})`,
    )
    this.records.push(rec)
  }

  /**
   * compactTo drops every record at or below `rev` except the newest of them when it is a put
   * (that version stays readable at `rev`). It returns whether the history is now empty.
   */
  compactTo(rev: Revision): boolean {
    const i = this.indexAt(rev)
    if (i < 0) return this.records.length === 0
    const keepFrom = (this.records[i] as KeyRecord).tombstone ? i + 1 : i
    this.records.splice(0, keepFrom)
    return this.records.length === 0
  }

  /** kvOf presents a put record as a KeyValue. */
  kvOf(rec: KeyRecord): KeyValue {
    assert(!rec.tombstone, 'kvOf: a tombstone has no key-value')
    return {
      key: this.key,
      createRevision: rec.createRevision,
      modRevision: rec.rev,
      version: rec.version,
      value: rec.value,
      lease: rec.lease,
    }
  }
}
