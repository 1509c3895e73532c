import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { AssertionFailure } from '../../../../src/core/assert.js'
import type { Index, Term } from '../../../../src/core/ids.js'
import type { Entry, Snapshot } from '../../../../src/engines/engine.js'
import { RaftLog } from '../../../../src/engines/raft/log.js'
import { EMPTY_MEMBERSHIP } from '../../../../src/engines/raft/membership.js'

// Reference: Raft §5.3 (AppendEntries consistency check, conflict truncation, commit =
// min(leaderCommit, index of last new entry)), §7 (compaction, InstallSnapshot), and etcd raft's
// raftLog (log_test.go: TestLogMaybeAppend, TestFindConflictByTerm, TestSlice with a size limit,
// TestStableTo / TestUnstableEntries, TestNextCommittedEnts, TestCompaction, TestTerm).

const I = (n: number) => n as Index
const T = (n: number) => n as Term

function ent(index: number, term: number, bytes = 0): Entry {
  return { index: I(index), term: T(term), type: 'normal', data: new Uint8Array(bytes) }
}
/** entsFrom(3, 1, 1, 2): entries 3, 4, 5 with terms 1, 1, 2. */
const entsFrom = (first: number, ...terms: number[]): Entry[] => terms.map((t, k) => ent(first + k, t))
function snap(index: number, term: number): Snapshot {
  return { meta: { index: I(index), term: T(term), membership: EMPTY_MEMBERSHIP }, data: new Uint8Array() }
}
const pairs = (es: readonly Entry[]): [number, number][] => es.map((e) => [e.index, e.term])
const indexes = (es: readonly Entry[]): number[] => es.map((e) => e.index)

describe('raft/log: maybeAppend (Raft §5.3, etcd TestLogMaybeAppend)', () => {
  // Log 1..3 with terms 1, 2, 3; committed 1.
  const previous = entsFrom(1, 1, 2, 3)
  const table: {
    name: string
    prevTerm: number
    prevIndex: number
    commit: number
    ents: Entry[]
    want: number | undefined | 'assert'
    wantCommit: number
    wantTerms: number[]
  }[] = [
    {
      name: 'no match: term differs',
      prevTerm: 2,
      prevIndex: 3,
      commit: 3,
      ents: [ent(4, 4)],
      want: undefined,
      wantCommit: 1,
      wantTerms: [1, 2, 3],
    },
    {
      name: 'no match: index beyond the log',
      prevTerm: 3,
      prevIndex: 4,
      commit: 3,
      ents: [ent(5, 4)],
      want: undefined,
      wantCommit: 1,
      wantTerms: [1, 2, 3],
    },
    {
      name: 'match the last entry, no entries',
      prevTerm: 3,
      prevIndex: 3,
      commit: 3,
      ents: [],
      want: 3,
      wantCommit: 3,
      wantTerms: [1, 2, 3],
    },
    {
      name: 'commit not beyond the last new entry',
      prevTerm: 3,
      prevIndex: 3,
      commit: 4,
      ents: [],
      want: 3,
      wantCommit: 3,
      wantTerms: [1, 2, 3],
    },
    {
      name: 'commit up to the message’s commit',
      prevTerm: 3,
      prevIndex: 3,
      commit: 2,
      ents: [],
      want: 3,
      wantCommit: 2,
      wantTerms: [1, 2, 3],
    },
    {
      name: 'commit never decreases',
      prevTerm: 3,
      prevIndex: 3,
      commit: 0,
      ents: [],
      want: 3,
      wantCommit: 1,
      wantTerms: [1, 2, 3],
    },
    {
      name: 'match the empty prefix (0, 0)',
      prevTerm: 0,
      prevIndex: 0,
      commit: 3,
      ents: [],
      want: 0,
      wantCommit: 1,
      wantTerms: [1, 2, 3],
    },
    {
      name: 'append one',
      prevTerm: 3,
      prevIndex: 3,
      commit: 3,
      ents: [ent(4, 4)],
      want: 4,
      wantCommit: 3,
      wantTerms: [1, 2, 3, 4],
    },
    {
      name: 'append one, commit it',
      prevTerm: 3,
      prevIndex: 3,
      commit: 4,
      ents: [ent(4, 4)],
      want: 4,
      wantCommit: 4,
      wantTerms: [1, 2, 3, 4],
    },
    {
      name: 'append one, commit only up to it',
      prevTerm: 3,
      prevIndex: 3,
      commit: 5,
      ents: [ent(4, 4)],
      want: 4,
      wantCommit: 4,
      wantTerms: [1, 2, 3, 4],
    },
    {
      name: 'append two',
      prevTerm: 3,
      prevIndex: 3,
      commit: 5,
      ents: entsFrom(4, 4, 4),
      want: 5,
      wantCommit: 5,
      wantTerms: [1, 2, 3, 4, 4],
    },
    {
      name: 'conflict in the middle replaces the tail',
      prevTerm: 2,
      prevIndex: 2,
      commit: 3,
      ents: [ent(3, 4)],
      want: 3,
      wantCommit: 3,
      wantTerms: [1, 2, 4],
    },
    {
      name: 'conflict after the commit point',
      prevTerm: 1,
      prevIndex: 1,
      commit: 3,
      ents: [ent(2, 4)],
      want: 2,
      wantCommit: 2,
      wantTerms: [1, 4],
    },
    {
      name: 'conflict with a committed entry is a programmer error',
      prevTerm: 0,
      prevIndex: 0,
      commit: 3,
      ents: [ent(1, 4)],
      want: 'assert',
      wantCommit: 1,
      wantTerms: [1, 2, 3],
    },
    {
      name: 'conflict, two new entries',
      prevTerm: 1,
      prevIndex: 1,
      commit: 3,
      ents: entsFrom(2, 4, 4),
      want: 3,
      wantCommit: 3,
      wantTerms: [1, 4, 4],
    },
    {
      name: 'identical entries are skipped, the tail stays',
      prevTerm: 1,
      prevIndex: 1,
      commit: 3,
      ents: [ent(2, 2)],
      want: 2,
      wantCommit: 2,
      wantTerms: [1, 2, 3],
    },
    {
      name: 'identical prefix, then new entries',
      prevTerm: 1,
      prevIndex: 1,
      commit: 2,
      ents: entsFrom(2, 2, 3, 3),
      want: 4,
      wantCommit: 2,
      wantTerms: [1, 2, 3, 3],
    },
  ]
  for (const t of table) {
    it(t.name, () => {
      const log = new RaftLog(undefined, previous, I(1), I(0))
      if (t.want === 'assert') {
        assert.throws(
          () => log.maybeAppend(I(t.prevIndex), T(t.prevTerm), I(t.commit), t.ents),
          AssertionFailure,
        )
      } else {
        assert.equal(log.maybeAppend(I(t.prevIndex), T(t.prevTerm), I(t.commit), t.ents), t.want)
      }
      assert.equal(log.committed, t.wantCommit)
      assert.deepEqual(
        log.all().map((e) => e.term),
        t.wantTerms,
      )
      if (t.want !== undefined && t.want !== 'assert' && t.ents.length > 0)
        assert.deepEqual(log.entry(I(t.want))?.term, t.ents.at(-1)?.term)
    })
  }

  it('a rejected message changes nothing', () => {
    const log = new RaftLog(undefined, previous, I(1), I(0))
    log.append(entsFrom(4, 3))
    const before = pairs(log.all())
    assert.equal(log.maybeAppend(I(4), T(4), I(4), [ent(5, 4)]), undefined)
    assert.deepEqual(pairs(log.all()), before)
    assert.equal(log.committed, 1)
    assert.equal(log.stable, 3)
  })

  it('skipping identical entries keeps the very same objects (no rewrite, nothing unstable)', () => {
    const log = new RaftLog(undefined, previous, I(1), I(0))
    const held = log.all()
    assert.equal(log.maybeAppend(I(0), T(0), I(0), entsFrom(1, 1, 2, 3)), 3)
    assert.deepEqual(log.all(), held)
    log.all().forEach((e, k) => {
      assert.equal(e, held[k])
    })
    assert.deepEqual(log.unstableEntries(), [])
  })
})

describe('raft/log: findConflictByTerm (etcd TestFindConflictByTerm)', () => {
  // A log from index 1: terms 2, 2, 5, 5, 5. A log compacted at (10, 3): 11..15 terms 3, 3, 4, 4, 4.
  const fromOne = () => new RaftLog(undefined, entsFrom(1, 2, 2, 5, 5, 5), I(0), I(0))
  const compacted = () => new RaftLog(snap(10, 3), entsFrom(11, 3, 3, 4, 4, 4), I(10), I(10))
  const table: { log: () => RaftLog; i: number; t: number; want: [number, number] }[] = [
    { log: fromOne, i: 5, t: 6, want: [5, 5] },
    { log: fromOne, i: 5, t: 5, want: [5, 5] },
    { log: fromOne, i: 5, t: 4, want: [2, 2] },
    { log: fromOne, i: 5, t: 2, want: [2, 2] },
    { log: fromOne, i: 5, t: 1, want: [0, 0] },
    { log: fromOne, i: 1, t: 2, want: [1, 2] },
    { log: fromOne, i: 1, t: 1, want: [0, 0] },
    { log: fromOne, i: 0, t: 0, want: [0, 0] },
    { log: compacted, i: 15, t: 9, want: [15, 4] },
    { log: compacted, i: 15, t: 4, want: [15, 4] },
    { log: compacted, i: 15, t: 3, want: [12, 3] },
    { log: compacted, i: 11, t: 5, want: [11, 3] },
    { log: compacted, i: 10, t: 5, want: [10, 3] },
    { log: compacted, i: 10, t: 3, want: [10, 3] },
    // Below the compaction point the term is unknown: etcd answers (index, 0), a possible match.
    { log: compacted, i: 15, t: 2, want: [9, 0] },
    { log: compacted, i: 10, t: 2, want: [9, 0] },
    { log: compacted, i: 9, t: 2, want: [9, 0] },
    { log: compacted, i: 4, t: 2, want: [4, 0] },
    { log: compacted, i: 0, t: 0, want: [0, 0] },
    // Beyond the last index we start from the last index (etcd's callers clamp; ours clamps itself).
    { log: fromOne, i: 100, t: 2, want: [2, 2] },
    { log: compacted, i: 30, t: 3, want: [12, 3] },
  ]
  for (const t of table) {
    it(`${t.log === fromOne ? 'from 1' : 'compacted at 10'}: (${t.i}, ${t.t}) -> ${t.want}`, () => {
      const got = t.log().findConflictByTerm(I(t.i), T(t.t))
      assert.deepEqual([got.index, got.term], t.want)
    })
  }
})

describe('raft/log: term, entry, matchTerm, isUpToDate', () => {
  const log = new RaftLog(snap(3, 2), entsFrom(4, 2, 3, 3), I(3), I(3))
  const table: [number, number | undefined][] = [
    [0, undefined],
    [2, undefined],
    [3, 2],
    [4, 2],
    [5, 3],
    [6, 3],
    [7, undefined],
    [100, undefined],
  ]
  for (const [i, want] of table) {
    it(`term(${i}) of a log compacted at (3, 2) ending at 6 is ${want}`, () => {
      assert.equal(log.term(I(i)), want)
      assert.equal(log.entry(I(i))?.term, i === 3 ? undefined : want)
      if (want !== undefined) assert.ok(log.matchTerm(I(i), T(want)))
    })
  }

  it('reports its bounds', () => {
    assert.equal(log.firstIndex(), 4)
    assert.equal(log.lastIndex(), 6)
    assert.equal(log.lastTerm(), 3)
    assert.deepEqual(log.compacted(), { index: 3, term: 2 })
  })

  it('empty log: term(0) = 0, last (0, 0)', () => {
    const empty = new RaftLog(undefined, [], I(0), I(0))
    assert.equal(empty.term(I(0)), 0)
    assert.equal(empty.term(I(1)), undefined)
    assert.equal(empty.lastIndex(), 0)
    assert.equal(empty.lastTerm(), 0)
    assert.equal(empty.firstIndex(), 1)
  })

  // §5.4.1: the later term wins; with equal terms the longer log wins.
  const upToDate: [number, number, boolean][] = [
    [6, 4, true],
    [1, 4, true],
    [6, 3, true],
    [7, 3, true],
    [5, 3, false],
    [100, 2, false],
  ]
  for (const [i, t, want] of upToDate) {
    it(`isUpToDate(${i}, ${t}) against (6, 3) is ${want} (§5.4.1)`, () => {
      assert.equal(log.isUpToDate(I(i), T(t)), want)
    })
  }
})

describe('raft/log: construction', () => {
  it('skips entries covered by the snapshot and clamps committed/applied', () => {
    const log = new RaftLog(snap(2, 1), entsFrom(1, 1, 1, 1, 2), I(100), I(50))
    assert.deepEqual(pairs(log.all()), [
      [3, 1],
      [4, 2],
    ])
    assert.equal(log.committed, 4)
    assert.equal(log.applied, 4)
    assert.equal(log.applying, 4)
    assert.equal(log.stable, 4)
    const low = new RaftLog(snap(2, 1), entsFrom(3, 1), I(0), I(0))
    assert.equal(low.committed, 2)
    assert.equal(low.applied, 2)
  })

  it('refuses a gap', () => {
    assert.throws(() => new RaftLog(undefined, [ent(1, 1), ent(3, 1)], I(0), I(0)), AssertionFailure)
    assert.throws(() => new RaftLog(snap(2, 1), [ent(4, 1)], I(0), I(0)), AssertionFailure)
  })

  it('append refuses a gap or an overlap', () => {
    const log = new RaftLog(undefined, entsFrom(1, 1, 1), I(0), I(0))
    assert.throws(() => log.append([ent(4, 1)]), AssertionFailure)
    assert.throws(() => log.append([ent(2, 2)]), AssertionFailure)
  })
})

describe('raft/log: slice and bytes (etcd TestSlice, size limit)', () => {
  // Entries 4..8 with data sizes 1, 2, 3, 4, 5, compacted at 3.
  const make = () =>
    new RaftLog(
      snap(3, 1),
      [4, 5, 6, 7, 8].map((i) => ent(i, 1, i - 3)),
      I(3),
      I(3),
    )
  const table: { lo: number; hi: number; max: number; want: number[] }[] = [
    { lo: 4, hi: 9, max: Infinity, want: [4, 5, 6, 7, 8] },
    { lo: 4, hi: 9, max: 0, want: [4] },
    { lo: 4, hi: 9, max: 1, want: [4] },
    { lo: 4, hi: 9, max: 2, want: [4] },
    { lo: 4, hi: 9, max: 3, want: [4, 5] },
    { lo: 4, hi: 9, max: 5, want: [4, 5] },
    { lo: 4, hi: 9, max: 6, want: [4, 5, 6] },
    { lo: 8, hi: 9, max: 0, want: [8] },
    { lo: 6, hi: 8, max: 100, want: [6, 7] },
    { lo: 5, hi: 9, max: 1, want: [5] },
    { lo: 5, hi: 5, max: 100, want: [] },
    { lo: 9, hi: 9, max: 100, want: [] },
  ]
  for (const t of table) {
    it(`slice [${t.lo}, ${t.hi}) with at most ${t.max} bytes`, () => {
      assert.deepEqual(indexes(make().slice(I(t.lo), I(t.hi), t.max)), t.want)
    })
  }

  it('refuses compacted or out-of-range bounds', () => {
    const log = make()
    assert.throws(() => log.slice(I(3), I(5), 100), AssertionFailure)
    assert.throws(() => log.slice(I(4), I(10), 100), AssertionFailure)
  })

  it('bytesBetween sums (lo, hi], ignoring the compacted part', () => {
    const log = make()
    assert.equal(log.bytesBetween(I(3), I(8)), 15)
    assert.equal(log.bytesBetween(I(0), I(5)), 3)
    assert.equal(log.bytesBetween(I(5), I(7)), 7)
    assert.equal(log.bytesBetween(I(7), I(7)), 0)
  })

  it('is a greedy prefix of at least one entry, per a dumb reference', () => {
    fc.assert(
      fc.property(
        fc.array(fc.nat(6), { minLength: 1, maxLength: 12 }),
        fc.nat(),
        fc.nat(),
        fc.nat(20),
        (sizes, a, b, max) => {
          const log = new RaftLog(
            undefined,
            sizes.map((s, k) => ent(k + 1, 1, s)),
            I(0),
            I(0),
          )
          const lo = 1 + (a % sizes.length)
          const hi = lo + (b % (sizes.length - lo + 2))
          const want: number[] = []
          let total = 0
          for (let i = lo; i < hi; i++) {
            total += sizes[i - 1] as number
            if (want.length > 0 && total > max) break
            want.push(i)
          }
          assert.deepEqual(indexes(log.slice(I(lo), I(hi), max)), want)
        },
      ),
    )
  })
})

describe('raft/log: stable tracking (etcd TestStableTo, TestUnstableEntries)', () => {
  it('unstable entries are those after stable; stableTo moves it on a matching term only', () => {
    const log = new RaftLog(undefined, entsFrom(1, 1, 1), I(0), I(0))
    assert.equal(log.stable, 2)
    log.append(entsFrom(3, 2, 2, 2))
    assert.deepEqual(indexes(log.unstableEntries()), [3, 4, 5])
    log.stableTo(I(4), T(1)) // the wrong term: a write of entries since replaced
    assert.equal(log.stable, 2)
    log.stableTo(I(4), T(2))
    assert.equal(log.stable, 4)
    assert.deepEqual(indexes(log.unstableEntries()), [5])
    log.stableTo(I(3), T(2)) // never backwards
    assert.equal(log.stable, 4)
    log.stableTo(I(9), T(2)) // beyond the log
    assert.equal(log.stable, 4)
  })

  it('a truncation below stable drops stable to just before it', () => {
    const log = new RaftLog(undefined, entsFrom(1, 1, 1, 1, 1, 1), I(2), I(0))
    assert.equal(log.stable, 5)
    assert.equal(log.maybeAppend(I(3), T(1), I(2), entsFrom(4, 3, 3)), 5)
    assert.equal(log.stable, 3)
    assert.deepEqual(pairs(log.unstableEntries()), [
      [4, 3],
      [5, 3],
    ])
    // The host's acknowledgement of the old write (5, 1) comes late: ignored.
    log.stableTo(I(5), T(1))
    assert.equal(log.stable, 3)
    log.stableTo(I(5), T(3))
    assert.equal(log.stable, 5)
  })

  it('a truncation above stable leaves it alone', () => {
    const log = new RaftLog(undefined, entsFrom(1, 1, 1), I(0), I(0))
    log.append(entsFrom(3, 1, 1, 1))
    assert.equal(log.maybeAppend(I(4), T(1), I(0), [ent(5, 2)]), 5)
    assert.equal(log.stable, 2)
    assert.deepEqual(indexes(log.unstableEntries()), [3, 4, 5])
  })
})

describe('raft/log: applying watermarks (etcd TestNextCommittedEnts, TestAppliedTo)', () => {
  const make = () =>
    new RaftLog(
      undefined,
      [1, 2, 3, 4, 5, 6].map((i) => ent(i, 1, 10)),
      I(0),
      I(0),
    )

  it('hands out committed entries once each, bounded by bytes (>= 1 entry) and upTo', () => {
    const log = make()
    assert.deepEqual(log.nextCommitted(Infinity), [])
    log.commitTo(I(4))
    assert.deepEqual(indexes(log.nextCommitted(Infinity)), [1, 2, 3, 4])
    assert.deepEqual(indexes(log.nextCommitted(0)), [1])
    assert.deepEqual(indexes(log.nextCommitted(25)), [1, 2])
    assert.deepEqual(indexes(log.nextCommitted(Infinity, I(2))), [1, 2])
    log.acceptApplying(I(2))
    assert.equal(log.applying, 2)
    assert.equal(log.applied, 0)
    assert.deepEqual(indexes(log.nextCommitted(Infinity)), [3, 4])
    log.appliedTo(I(2))
    assert.equal(log.applied, 2)
    log.acceptApplying(I(4))
    assert.deepEqual(log.nextCommitted(Infinity), [])
    log.commitTo(I(6))
    assert.deepEqual(indexes(log.nextCommitted(Infinity)), [5, 6])
    log.appliedTo(I(4))
    log.appliedTo(I(3)) // never backwards
    assert.equal(log.applied, 4)
  })

  it('refuses to move applying back, to commit beyond the log, or to apply beyond what was handed out', () => {
    const log = make()
    log.commitTo(I(3))
    log.acceptApplying(I(3))
    assert.throws(() => log.acceptApplying(I(2)), AssertionFailure)
    assert.throws(() => log.commitTo(I(7)), AssertionFailure)
    assert.throws(() => log.appliedTo(I(5)), AssertionFailure)
    log.commitTo(I(2)) // commit never decreases
    assert.equal(log.committed, 3)
  })
})

describe('raft/log: compact and restore (§7, etcd TestCompaction, TestRestoreSnap)', () => {
  const make = () => {
    const log = new RaftLog(undefined, entsFrom(1, 1, 1, 2, 2, 3), I(4), I(0))
    log.acceptApplying(I(4))
    log.appliedTo(I(4))
    return log
  }

  it('compact drops entries up to upTo and keeps the term of the compaction point', () => {
    const log = make()
    const s = snap(4, 2)
    log.compact(s, I(3))
    assert.equal(log.snapshot, s)
    assert.deepEqual(log.compacted(), { index: 3, term: 2 })
    assert.equal(log.firstIndex(), 4)
    assert.equal(log.lastIndex(), 5)
    assert.equal(log.term(I(3)), 2)
    assert.equal(log.term(I(2)), undefined)
    assert.equal(log.entry(I(3)), undefined)
    assert.deepEqual(indexes(log.all()), [4, 5])
    assert.throws(() => log.slice(I(3), I(5), Infinity), AssertionFailure)
  })

  it('compact to or below the compaction point only updates the snapshot, and only to a newer one', () => {
    const log = make()
    log.compact(snap(3, 2), I(3))
    const newer = snap(4, 2)
    log.compact(newer, I(2))
    assert.equal(log.snapshot, newer)
    assert.deepEqual(log.compacted(), { index: 3, term: 2 })
    log.compact(snap(2, 1), I(1))
    assert.equal(log.snapshot, newer)
  })

  it('compact refuses a snapshot or a compaction beyond applied, or beyond stable', () => {
    const log = make()
    assert.throws(() => log.compact(snap(5, 3), I(3)), AssertionFailure)
    assert.throws(() => log.compact(snap(4, 2), I(5)), AssertionFailure)
    log.append([ent(6, 3)])
    log.commitTo(I(6))
    log.acceptApplying(I(6))
    log.appliedTo(I(6))
    assert.throws(() => log.compact(snap(6, 3), I(6)), AssertionFailure, 'entry 6 is not stable yet')
  })

  it('compacting everything leaves an empty log that still matches at the compaction point', () => {
    const log = make()
    log.compact(snap(4, 2), I(4))
    log.commitTo(I(5))
    log.acceptApplying(I(5))
    log.appliedTo(I(5))
    log.compact(snap(5, 3), I(5))
    assert.deepEqual(log.all(), [])
    assert.equal(log.lastIndex(), 5)
    assert.equal(log.lastTerm(), 3)
    assert.equal(log.maybeAppend(I(5), T(3), I(6), [ent(6, 3)]), 6)
    assert.equal(log.committed, 6)
  })

  it('restore replaces every entry; applied follows when the host applies the snapshot', () => {
    const log = make()
    log.append([ent(6, 3)])
    const s = snap(9, 4)
    log.restore(s)
    assert.deepEqual(log.all(), [])
    assert.deepEqual(log.compacted(), { index: 9, term: 4 })
    assert.equal(log.lastIndex(), 9)
    assert.equal(log.lastTerm(), 4)
    assert.equal(log.term(I(5)), undefined)
    assert.equal(log.committed, 9)
    assert.equal(log.stable, 9)
    assert.equal(log.applying, 9)
    assert.equal(log.applied, 4, 'the host has not applied the snapshot yet')
    assert.equal(log.pendingSnapshot, s)
    assert.equal(log.snapshot, s)
    assert.deepEqual(log.nextCommitted(Infinity), [])
    assert.deepEqual(log.unstableEntries(), [])
    log.appliedTo(I(9))
    assert.equal(log.applied, 9)
    assert.equal(log.maybeAppend(I(9), T(4), I(10), [ent(10, 4)]), 10)
  })

  it('restore below the last index also drops the conflicting tail', () => {
    const log = make()
    log.restore(snap(5, 9))
    assert.equal(log.lastIndex(), 5)
    assert.equal(log.term(I(5)), 9)
  })
})

// ---- property: RaftLog against a plain array ------------------------------------------------

/**
 * The dumb reference: terms[i] is the term of entry i for every index ever held (terms[0] = 0),
 * compacted ones included; term(i) is known only from the compaction point on.
 */
class RefLog {
  terms: number[] = [0]
  compacted = 0
  committed = 0
  stable = 0
  applied = 0
  last(): number {
    return this.terms.length - 1
  }
  term(i: number): number | undefined {
    return i < this.compacted || i > this.last() ? undefined : this.terms[i]
  }
}

type Kind = 'propose' | 'msgApp' | 'commit' | 'persist' | 'apply' | 'snapshot'
type Op = { kind: Kind; a: number; b: number; c: number; ts: number[] }
const arbOp: fc.Arbitrary<Op> = fc.record({
  // Weighted by repetition; an incoming snapshot resets so much that it must stay rare.
  kind: fc.constantFrom<Kind>(
    'propose',
    'propose',
    'msgApp',
    'msgApp',
    'msgApp',
    'commit',
    'persist',
    'persist',
    'apply',
    'apply',
    'snapshot',
  ),
  a: fc.nat(1000),
  b: fc.nat(1000),
  c: fc.nat(1000),
  ts: fc.array(fc.nat(5), { maxLength: 4 }),
})

/** sizeOf: an entry's data size, a function of (index, term) so the reference can recompute it. */
const sizeOf = (i: number, t: number): number => (i * 7 + t) % 4

/** step runs one op on both logs. */
function step(log: RaftLog, ref: RefLog, op: Op): void {
  const last = ref.last()
  const lastTerm = ref.terms[last] as number
  switch (op.kind) {
    case 'propose': {
      // A leader's own proposals.
      const t = lastTerm + (op.b % 2)
      const es = Array.from({ length: 1 + (op.a % 3) }, (_, k) =>
        ent(last + 1 + k, t, sizeOf(last + 1 + k, t)),
      )
      log.append(es)
      for (const e of es) ref.terms.push(e.term)
      return
    }
    case 'msgApp': {
      // A MsgApp, often matching, with entries that are often identical to ours.
      // Often between the commit point and the end, where a new leader overwrites an old one's tail.
      const prevIndex =
        op.a % 2 === 0 ? ref.committed + (op.a % (last - ref.committed + 1)) : op.a % (last + 2)
      const prevTerm = op.c % 3 === 0 ? op.c % 5 : (ref.term(prevIndex) ?? 0)
      let running = prevTerm
      const es = op.ts.map((x, k) => {
        const i = prevIndex + 1 + k
        const ours = ref.term(i)
        const t = Math.max(running, x % 2 === 0 && ours !== undefined ? ours : running + (x % 3))
        running = t
        return ent(i, t, sizeOf(i, t))
      })
      const lastNew = prevIndex + es.length
      // Usually the leader's commit lags what it sends (so uncommitted tails pile up).
      const commit = op.b % 3 === 0 ? op.b % (lastNew + 3) : Math.min(ref.committed, op.b % (lastNew + 1))
      // Reference: find the first entry that differs from ours.
      let want: number | undefined | 'assert' = lastNew
      let first: number | undefined
      if (ref.term(prevIndex) !== prevTerm) want = undefined
      else {
        for (const e of es) {
          if (e.index <= ref.last() && ref.terms[e.index] === e.term) continue
          first = e.index
          if (first <= ref.committed) want = 'assert'
          break
        }
      }
      if (want === 'assert') {
        assert.throws(() => log.maybeAppend(I(prevIndex), T(prevTerm), I(commit), es), AssertionFailure)
        return
      }
      assert.equal(log.maybeAppend(I(prevIndex), T(prevTerm), I(commit), es), want)
      if (want === undefined) return
      if (first !== undefined) {
        ref.terms.length = first
        ref.stable = Math.min(ref.stable, first - 1)
        for (const e of es) if (e.index >= first) ref.terms.push(e.term)
      }
      ref.committed = Math.max(ref.committed, Math.min(commit, lastNew))
      return
    }
    case 'commit': {
      const i = ref.committed + (op.a % (last - ref.committed + 1))
      log.commitTo(I(i))
      ref.committed = i
      return
    }
    case 'persist': {
      // The host reports a write done: usually the current last entry, sometimes a stale one.
      const i = op.a % 2 === 0 ? last : op.a % (last + 2)
      const t = op.b % 3 === 0 ? op.b % 5 : (ref.term(i) ?? 0)
      log.stableTo(I(i), T(t))
      if (i > ref.stable && ref.term(i) === t) ref.stable = i
      return
    }
    case 'apply': {
      // Apply what nextCommitted hands out (bounded by bytes), then compact.
      const max = op.a % 4 === 0 ? Infinity : op.a % 7
      const got = log.nextCommitted(max)
      const want: number[] = []
      let bytes = 0
      for (let i = ref.applied + 1; i <= ref.committed; i++) {
        bytes += sizeOf(i, ref.terms[i] as number)
        if (want.length > 0 && bytes > max) break
        want.push(i)
      }
      assert.deepEqual(indexes(got), want)
      const end = got.at(-1)
      if (end) {
        log.acceptApplying(end.index)
        log.appliedTo(end.index)
        ref.applied = end.index
      }
      const hi = Math.min(ref.applied, ref.stable)
      const upTo = ref.compacted + (op.b % (Math.max(0, hi - ref.compacted) + 1))
      const snapIndex = upTo + (op.c % (ref.applied - upTo + 1))
      log.compact(snap(snapIndex, ref.term(snapIndex) as number), I(upTo))
      assert.ok((log.snapshot?.meta.index ?? 0) >= snapIndex)
      ref.compacted = Math.max(ref.compacted, upTo)
      return
    }
    case 'snapshot': {
      // A leader's snapshot beyond our commit index; the host persists and applies it.
      const i = ref.committed + 1 + (op.a % (last - ref.committed + 3))
      const t = (ref.term(i) ?? lastTerm) + (op.b % 2)
      log.restore(snap(i, t))
      log.appliedTo(I(i))
      while (ref.terms.length <= i) ref.terms.push(t)
      ref.terms.length = i + 1
      ref.terms[i] = t
      ref.compacted = ref.committed = ref.stable = ref.applied = i
      return
    }
  }
}

function agree(log: RaftLog, ref: RefLog): void {
  const last = ref.last()
  const held = Array.from({ length: last - ref.compacted }, (_, k) => [
    ref.compacted + 1 + k,
    ref.terms[ref.compacted + 1 + k],
  ])
  assert.deepEqual(pairs(log.all()), held)
  assert.equal(log.lastIndex(), last)
  assert.equal(log.firstIndex(), ref.compacted + 1)
  assert.equal(log.lastTerm(), ref.terms[last])
  assert.deepEqual(log.compacted(), { index: ref.compacted, term: ref.terms[ref.compacted] })
  assert.equal(log.committed, ref.committed)
  assert.equal(log.stable, ref.stable)
  assert.equal(log.applied, ref.applied)
  assert.equal(log.applying, ref.applied)
  for (let i = 0; i <= last + 2; i++) assert.equal(log.term(I(i)), ref.term(i), `term(${i})`)
  assert.deepEqual(
    indexes(log.unstableEntries()),
    Array.from({ length: last - ref.stable }, (_, k) => ref.stable + 1 + k),
  )
  // compacted <= applied <= applying <= committed <= last, stable <= last.
  assert.ok(ref.compacted <= ref.applied && ref.applied <= ref.committed && ref.committed <= last)
  assert.ok(ref.compacted <= ref.stable && ref.stable <= last)
}

/** The largest index <= i (clamped to the log) whose term is known and <= t; else (i', 0) below the compaction point. */
function refFindConflict(ref: RefLog, i: number, t: number): [number, number] {
  const top = Math.min(i, ref.last())
  if (top < ref.compacted) return [top, 0]
  const candidates = []
  for (let j = ref.compacted; j <= top; j++) if ((ref.terms[j] as number) <= t) candidates.push(j)
  const best = candidates.at(-1)
  return best === undefined ? [ref.compacted - 1, 0] : [best, ref.terms[best] as number]
}

describe('raft/log: property against a plain array', () => {
  it('entries, lastIndex, term(i), committed, stable and applied always agree with the reference', () => {
    fc.assert(
      fc.property(
        fc.array(arbOp, { minLength: 5, maxLength: 50, size: 'max' }),
        fc.nat(),
        fc.nat(),
        (ops, fi, ft) => {
          const log = new RaftLog(undefined, [], I(0), I(0))
          const ref = new RefLog()
          for (const op of ops) {
            step(log, ref, op)
            agree(log, ref)
          }
          const i = fi % (ref.last() + 3)
          const t = ft % 7
          const got = log.findConflictByTerm(I(i), T(t))
          assert.deepEqual([got.index, got.term], refFindConflict(ref, i, t))
        },
      ),
      { numRuns: 500 },
    )
  })
})
