import { assert } from '../../core/assert.js'
import type { Index, Term } from '../../core/ids.js'
import type { Entry, Snapshot } from '../engine.js'

/**
 * RaftLog is one node's view of the replicated log: the entries it still holds (those after the
 * last compacted entry), how far they are durable, committed and applied, and a snapshot waiting
 * to be installed. Like ZooKeeper, we keep the log tail in memory; the host compacts it after
 * taking snapshots, so memory stays bounded by the snapshot interval.
 *
 * Watermarks, all indexes:
 *   compacted <= applied <= applying <= committed <= last,   stable <= last
 * where `applying` is what has been handed to the host and not yet acknowledged by advance().
 */
export class RaftLog {
  /** The last compacted entry. Invariant: entries[k].index === compactedIndex + 1 + k. */
  private compactedIndex: Index
  private compactedTerm: Term
  private entries: Entry[] = []
  private entryBytes: number[] = []

  committed: Index
  applied: Index
  applying: Index
  /** stable: entries up to here are on disk. */
  stable: Index
  /** pendingSnapshot was received from a leader and awaits persistence and installation. */
  pendingSnapshot: Snapshot | undefined
  /** snapshot is the newest snapshot the host holds; the leader sends it to lagging followers. */
  snapshot: Snapshot | undefined

  constructor(snapshot: Snapshot | undefined, entries: readonly Entry[], committed: Index, applied: Index) {
    this.snapshot = snapshot
    this.compactedIndex = snapshot?.meta.index ?? (0 as Index)
    this.compactedTerm = snapshot?.meta.term ?? (0 as Term)
    for (const e of entries) {
      if (e.index <= this.compactedIndex) continue
      assert(e.index === this.lastIndex() + 1, () => `log: entries not contiguous at ${e.index}`)
      this.push(e)
    }
    this.stable = this.lastIndex()
    this.committed = clamp(committed, this.compactedIndex, this.lastIndex())
    this.applied = clamp(applied, this.compactedIndex, this.committed)
    this.applying = this.applied
  }

  private push(e: Entry): void {
    this.entries.push(e)
    this.entryBytes.push(e.data.length)
  }

  firstIndex(): Index {
    return (this.compactedIndex + 1) as Index
  }

  lastIndex(): Index {
    return (this.compactedIndex + this.entries.length) as Index
  }

  lastTerm(): Term {
    return this.term(this.lastIndex()) as Term
  }

  compacted(): { index: Index; term: Term } {
    return { index: this.compactedIndex, term: this.compactedTerm }
  }

  /** term returns the term of entry i, or undefined if i is compacted away or beyond the log. */
  term(i: Index): Term | undefined {
    if (i === this.compactedIndex) return this.compactedTerm
    if (i < this.compactedIndex || i > this.lastIndex()) return undefined
    return (this.entries[i - this.compactedIndex - 1] as Entry).term
  }

  entry(i: Index): Entry | undefined {
    if (i <= this.compactedIndex || i > this.lastIndex()) return undefined
    return this.entries[i - this.compactedIndex - 1]
  }

  /** hasConfigEntry: some entry in [lo, hi] that we hold is a config entry. */
  hasConfigEntry(lo: Index, hi: Index): boolean {
    for (let i = lo; i <= hi; i++) if (this.entry(i as Index)?.type === 'config') return true
    return false
  }

  matchTerm(i: Index, t: Term): boolean {
    return this.term(i) === t
  }

  /** isUpToDate: a log ending at (lastIndex, lastTerm) is at least as up to date as ours (§5.4.1). */
  isUpToDate(lastIndex: Index, lastTerm: Term): boolean {
    const ourTerm = this.lastTerm()
    return lastTerm > ourTerm || (lastTerm === ourTerm && lastIndex >= this.lastIndex())
  }

  /** append adds entries at the end of the log (the leader's own proposals). */
  append(ents: readonly Entry[]): void {
    for (const e of ents) {
      assert(e.index === this.lastIndex() + 1, () => `log: append at ${e.index}, last is ${this.lastIndex()}`)
      this.push(e)
    }
  }

  /**
   * maybeAppend applies a leader's MsgApp: if our log has (prevIndex, prevTerm) it keeps matching
   * entries, drops everything from the first conflicting one on, appends the rest, and advances
   * the commit index; it returns the index of the last entry the message covered. If our log does
   * not match at prevIndex it changes nothing and returns undefined (Raft §5.3).
   */
  maybeAppend(prevIndex: Index, prevTerm: Term, commit: Index, ents: readonly Entry[]): Index | undefined {
    if (!this.matchTerm(prevIndex, prevTerm)) return undefined
    const lastNew = (prevIndex + ents.length) as Index
    let k = 0
    // Entries we already hold with the same term are identical (Log Matching); skip them.
    while (k < ents.length) {
      const e = ents[k] as Entry
      if (e.index <= this.compactedIndex || this.matchTerm(e.index, e.term)) k++
      else break
    }
    if (k < ents.length) {
      const first = (ents[k] as Entry).index
      assert(
        first > this.committed,
        () => `log: conflict at ${first} would overwrite committed ${this.committed}`,
      )
      this.truncateFrom(first)
      this.append(ents.slice(k))
    }
    this.commitTo(Math.min(commit, lastNew) as Index)
    return lastNew
  }

  private truncateFrom(i: Index): void {
    const keep = i - this.compactedIndex - 1
    this.entries.length = Math.max(0, keep)
    this.entryBytes.length = this.entries.length
    if (this.stable >= i) this.stable = (i - 1) as Index
  }

  /**
   * findConflictByTerm returns the largest index <= i whose term is <= t (or the compaction
   * point): the leader's probe can jump straight there instead of stepping back one entry at a
   * time (the "fast backtracking" optimisation of Raft §5.3 in etcd's form).
   */
  findConflictByTerm(i: Index, t: Term): { index: Index; term: Term } {
    let j = Math.min(i, this.lastIndex()) as Index
    for (;;) {
      const jt = this.term(j)
      if (jt === undefined || jt <= t) return { index: j, term: jt ?? (0 as Term) }
      j = (j - 1) as Index
    }
  }

  /** slice returns entries [lo, hi) with at most bytesMax of data, but always at least one. */
  slice(lo: Index, hi: Index, bytesMax: number): Entry[] {
    assert(
      lo > this.compactedIndex && hi <= this.lastIndex() + 1,
      () => `log: slice [${lo}, ${hi}) out of range`,
    )
    const out: Entry[] = []
    let bytes = 0
    for (let i = lo; i < hi; i++) {
      const k = i - this.compactedIndex - 1
      const size = this.entryBytes[k] as number
      if (out.length > 0 && bytes + size > bytesMax) break
      bytes += size
      out.push(this.entries[k] as Entry)
    }
    return out
  }

  /** bytesBetween sums the data bytes of entries (lo, hi]. */
  bytesBetween(lo: Index, hi: Index): number {
    let sum = 0
    for (let i = Math.max(lo, this.compactedIndex) + 1; i <= hi; i++)
      sum += this.entryBytes[i - this.compactedIndex - 1] ?? 0
    return sum
  }

  commitTo(i: Index): void {
    if (i <= this.committed) return
    assert(i <= this.lastIndex(), () => `log: commit ${i} beyond last index ${this.lastIndex()}`)
    this.committed = i
  }

  /** unstableEntries are the entries the host has not yet made durable. */
  unstableEntries(): Entry[] {
    return this.entries.slice(this.stable - this.compactedIndex)
  }

  /** stableTo records that the host persisted up to (i, t); ignored if the log changed meanwhile. */
  stableTo(i: Index, t: Term): void {
    if (i > this.stable && this.matchTerm(i, t)) this.stable = i
  }

  /** nextCommitted returns the committed entries not yet handed out, at most bytesMax (>= 1 entry). */
  nextCommitted(bytesMax: number, upTo: Index = this.committed): Entry[] {
    const hi = Math.min(upTo, this.lastIndex())
    if (this.applying >= hi) return []
    return this.slice((this.applying + 1) as Index, (hi + 1) as Index, bytesMax)
  }

  /** acceptApplying notes that entries up to i have been handed to the host. */
  acceptApplying(i: Index): void {
    assert(i >= this.applying, 'log: applying must not go back')
    this.applying = i
  }

  appliedTo(i: Index): void {
    assert(i <= this.applying || i <= this.committed, () => `log: applied ${i} beyond what was handed out`)
    if (i > this.applied) this.applied = i
  }

  /**
   * restore replaces the log with a leader's snapshot (InstallSnapshot, §7): every entry goes,
   * since the snapshot supersedes them and ours may conflict with the leader's.
   */
  restore(s: Snapshot): void {
    this.compactedIndex = s.meta.index
    this.compactedTerm = s.meta.term
    this.entries = []
    this.entryBytes = []
    this.stable = s.meta.index
    this.committed = s.meta.index
    this.applying = s.meta.index
    this.pendingSnapshot = s
    this.snapshot = s
  }

  /** compact drops entries up to `upTo` (<= applied); `snapshot` is the one to send from now on. */
  compact(snapshot: Snapshot, upTo: Index): void {
    assert(snapshot.meta.index <= this.applied, 'log: snapshot beyond applied index')
    if (!this.snapshot || snapshot.meta.index > this.snapshot.meta.index) this.snapshot = snapshot
    if (upTo <= this.compactedIndex) return
    assert(upTo <= this.applied && upTo <= this.stable, () => `log: compact to ${upTo} beyond applied/stable`)
    const drop = upTo - this.compactedIndex
    this.compactedTerm = this.term(upTo) as Term
    this.entries.splice(0, drop)
    this.entryBytes.splice(0, drop)
    this.compactedIndex = upTo
  }

  /** all returns a copy of the entries held, for inspection. */
  all(): Entry[] {
    return this.entries.slice()
  }
}

function clamp(v: Index, lo: Index, hi: Index): Index {
  return Math.max(lo, Math.min(v, hi)) as Index
}
