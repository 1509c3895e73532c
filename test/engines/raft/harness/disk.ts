import { type Index, index, type NodeId, type Term } from '../../../../src/core/ids.js'
import type { Entry, HardState, Ready, Snapshot } from '../../../../src/engines/engine.js'
import type { RaftStart } from '../../../../src/engines/raft/start.js'

/** Fail reports a broken host duty or invariant; it never returns. */
export type Fail = (invariant: string, detail: string) => never

/**
 * SimDisk is one node's simulated durable storage: HardState, the newest snapshot and the log
 * entries. A Ready's persist is applied in one call, so a crash (which happens between calls)
 * either keeps all of it or none: the atomic batch with one fsync of DESIGN.md's host loop.
 *
 * Invariant: `entries` are contiguous; they start at most one past the snapshot's index (they
 * may start earlier: entries the host retained at compaction) and their terms never decrease.
 */
export class SimDisk {
  private hard: HardState | undefined
  private snap: Snapshot | undefined
  private log: Entry[] = []

  constructor(private readonly fail: Fail) {}

  get hardState(): HardState | undefined {
    return this.hard
  }

  get snapshot(): Snapshot | undefined {
    return this.snap
  }

  get snapIndex(): Index {
    return this.snap ? this.snap.meta.index : index(0)
  }

  /** firstIndex is the index of the oldest entry held (snapIndex + 1 when none is). */
  firstIndex(): Index {
    return (this.log[0]?.index ?? this.snapIndex + 1) as Index
  }

  lastIndex(): Index {
    const last = this.log[this.log.length - 1]
    return last ? last.index : this.snapIndex
  }

  isEmpty(): boolean {
    return this.hard === undefined && this.snap === undefined && this.log.length === 0
  }

  entryAt(i: number): Entry | undefined {
    const first = this.log[0]
    return first ? this.log[i - first.index] : undefined
  }

  /** termAt is the term of entry `i`: from the log, the snapshot, 0 for index 0, else undefined. */
  termAt(i: number): Term | undefined {
    const e = this.entryAt(i)
    if (e) return e.term
    if (this.snap && i === this.snap.meta.index) return this.snap.meta.term
    if (i === 0) return 0 as Term
    return undefined
  }

  /** entries returns the durable entries in [from, lastIndex]. */
  entries(from: number = this.firstIndex()): Entry[] {
    const first = this.firstIndex()
    return this.log.slice(Math.max(0, from - first))
  }

  /**
   * write applies one Ready's persist (host duty 1): the snapshot, then the entries, which
   * replace any entries held at the same or later indexes, then the HardState. It returns the
   * lowest index whose entry changed (for incremental checks), or undefined.
   *
   * A snapshot from a Ready (InstallSnapshot) replaces the log below it; the entries above it are
   * kept only if the disk holds the snapshot's last entry with the snapshot's term (then they
   * extend it, by Log Matching), and are dropped otherwise, as etcd's MemoryStorage does.
   */
  write(p: Ready['persist']): Index | undefined {
    let changedFrom: Index | undefined
    if (p.snapshot) {
      const s = p.snapshot.meta
      if (s.index < this.snapIndex) {
        this.fail(
          'Host duty 1 (persist)',
          `snapshot ${s.index}@${s.term} is older than the disk's ${this.snapIndex}`,
        )
      }
      const keepTail = this.termAt(s.index) === s.term
      this.log = keepTail ? this.log.filter((e) => e.index > s.index) : []
      this.snap = p.snapshot
      changedFrom = index(s.index)
    }
    if (p.entries.length > 0) {
      const from = this.appendEntries(p.entries)
      changedFrom = changedFrom === undefined ? from : (Math.min(changedFrom, from) as Index)
    }
    if (p.hardState) this.hard = p.hardState
    return changedFrom
  }

  private appendEntries(es: readonly Entry[]): Index {
    const k = (es[0] as Entry).index
    for (let j = 1; j < es.length; j++) {
      const prev = es[j - 1] as Entry
      const e = es[j] as Entry
      if (e.index !== prev.index + 1 || e.term < prev.term) {
        this.fail(
          'Host duty 1 (persist)',
          `Ready.persist.entries not contiguous with non-decreasing terms: ${prev.index}@${prev.term} then ${e.index}@${e.term}`,
        )
      }
    }
    if (k <= this.snapIndex || k > this.lastIndex() + 1) {
      this.fail(
        'Host duty 1 (persist)',
        `entries from ${k} are not contiguous with the disk (snapshot ${this.snapIndex}, last ${this.lastIndex()})`,
      )
    }
    const prevTerm = this.termAt(k - 1)
    const firstTerm = (es[0] as Entry).term
    if (prevTerm !== undefined && firstTerm < prevTerm) {
      this.fail(
        'Log terms never decrease (Raft §5.3)',
        `entry ${k}@${firstTerm} follows ${k - 1}@${prevTerm}`,
      )
    }
    this.log.length = Math.max(0, k - this.firstIndex())
    for (const e of es) this.log.push(e)
    return k
  }

  /**
   * compact records a snapshot the host took of its own state machine (it is durable before the
   * engine hears of it) and drops the entries the engine may drop: those up to index - retain.
   */
  compact(s: Snapshot, retain: number): void {
    if (s.meta.index <= this.snapIndex) {
      this.fail('Host (compact)', `snapshot ${s.meta.index} is not newer than the disk's ${this.snapIndex}`)
    }
    if (s.meta.index > this.lastIndex()) {
      this.fail(
        'Host (compact)',
        `snapshot ${s.meta.index} is past the disk's last entry ${this.lastIndex()}`,
      )
    }
    this.snap = s
    const keepFrom = s.meta.index - retain + 1
    this.log = this.log.filter((e) => e.index >= keepFrom)
  }

  /**
   * startState is what a node restarting from this disk passes to the engine: entries after the
   * snapshot only, and the state machine restored from the snapshot (applied = its index). A node
   * whose disk is still empty bootstraps again, as a host would with its initial-cluster setting.
   */
  startState(id: NodeId, bootstrap: readonly NodeId[] | undefined): RaftStart {
    if (this.isEmpty()) return bootstrap ? { id, bootstrap } : { id }
    const start: { -readonly [K in keyof RaftStart]: RaftStart[K] } = {
      id,
      entries: this.entries(this.snapIndex + 1),
      applied: this.snapIndex,
    }
    if (this.hard) start.hardState = this.hard
    if (this.snap) start.snapshot = this.snap
    return start
  }
}
