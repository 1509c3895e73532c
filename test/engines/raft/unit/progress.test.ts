import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { AssertionFailure } from '../../../../src/core/assert.js'
import type { Index } from '../../../../src/core/ids.js'
import { Inflights } from '../../../../src/engines/raft/inflights.js'
import { Progress, type ProgressState } from '../../../../src/engines/raft/progress.js'

// Reference: etcd raft's tracker package — inflights.go / inflights_test.go (TestInflightsAdd,
// TestInflightFreeTo, TestInflightFreeFirstOne, TestInflightsFull) and progress.go /
// progress_test.go (TestProgressIsPaused, TestProgressResume, TestProgressBecomeProbe,
// TestProgressBecomeReplicate, TestProgressBecomeSnapshot, TestProgressUpdate,
// TestProgressMaybeDecr); the states are described in etcd raft's design.md ("Progress").

const I = (n: number) => n as Index

// ---- Inflights --------------------------------------------------------------------------------

describe('raft/inflights: tables', () => {
  it('adds up to the count limit, then refuses (TestInflightsAdd)', () => {
    const inf = new Inflights(10, 0)
    for (let i = 0; i < 10; i++) {
      assert.ok(!inf.full(), `full after ${i}`)
      inf.add(I(i), 1_000_000)
    }
    assert.equal(inf.count(), 10)
    assert.ok(inf.full())
    assert.throws(() => inf.add(I(10), 0), AssertionFailure)
  })

  it('refuses indexes that do not increase', () => {
    const inf = new Inflights(10, 0)
    inf.add(I(5), 1)
    assert.throws(() => inf.add(I(5), 1), AssertionFailure)
    assert.throws(() => inf.add(I(4), 1), AssertionFailure)
    assert.equal(inf.count(), 1)
  })

  it('freeLE frees every message ending at or before i (TestInflightFreeTo)', () => {
    const inf = new Inflights(10, 0)
    for (let i = 0; i < 10; i++) inf.add(I(i), 0)
    inf.freeLE(I(0))
    assert.equal(inf.count(), 9)
    inf.freeLE(I(4))
    assert.equal(inf.count(), 5)
    inf.freeLE(I(4)) // again: nothing more
    assert.equal(inf.count(), 5)
    inf.freeLE(I(8))
    assert.equal(inf.count(), 1)
    inf.freeLE(I(100))
    assert.equal(inf.count(), 0)
    inf.freeLE(I(100)) // on empty: fine
    assert.equal(inf.count(), 0)
  })

  it('freeLE below the oldest frees nothing', () => {
    const inf = new Inflights(10, 0)
    inf.add(I(5), 1)
    inf.add(I(9), 1)
    inf.freeLE(I(4))
    assert.equal(inf.count(), 2)
  })

  it('freeFirst frees exactly the oldest (TestInflightFreeFirstOne)', () => {
    const inf = new Inflights(10, 0)
    for (let i = 0; i < 10; i++) inf.add(I(i), 0)
    inf.freeFirst()
    assert.equal(inf.count(), 9)
    inf.freeLE(I(0)) // 0 is gone already
    assert.equal(inf.count(), 9)
    inf.freeLE(I(1))
    assert.equal(inf.count(), 8)
    const empty = new Inflights(3, 0)
    empty.freeFirst()
    assert.equal(empty.count(), 0)
  })

  it('reset empties the window, bytes included', () => {
    const inf = new Inflights(3, 100)
    inf.add(I(1), 100)
    assert.ok(inf.full())
    inf.reset()
    assert.equal(inf.count(), 0)
    assert.ok(!inf.full())
  })

  // TestInflightsFull: add (i, 100 + i) until full, free up to freeLE, add again until full.
  const full: {
    name: string
    size: number
    maxBytes: number
    fullAt: number
    freeLE: number
    againAt: number
  }[] = [
    { name: 'always full', size: 0, maxBytes: 0, fullAt: 0, freeLE: 0, againAt: 0 },
    { name: 'single entry', size: 1, maxBytes: 0, fullAt: 1, freeLE: 1, againAt: 2 },
    { name: 'single entry, bytes overflow', size: 1, maxBytes: 10, fullAt: 1, freeLE: 1, againAt: 2 },
    { name: 'multi entry', size: 15, maxBytes: 0, fullAt: 15, freeLE: 6, againAt: 22 },
    { name: 'slight bytes overflow', size: 8, maxBytes: 400, fullAt: 4, freeLE: 2, againAt: 7 },
    { name: 'exactly max bytes', size: 8, maxBytes: 406, fullAt: 4, freeLE: 3, againAt: 8 },
    { name: 'larger bytes overflow', size: 15, maxBytes: 408, fullAt: 5, freeLE: 1, againAt: 6 },
  ]
  for (const t of full) {
    it(`full: ${t.name}`, () => {
      const inf = new Inflights(t.size, t.maxBytes)
      const addUntilFull = (begin: number, end: number) => {
        for (let i = begin; i < end; i++) {
          assert.ok(!inf.full(), `full at ${i}, want ${end}`)
          inf.add(I(i), 100 + i)
        }
        assert.ok(inf.full(), `not full at ${end}`)
      }
      addUntilFull(0, t.fullAt)
      inf.freeLE(I(t.freeLE))
      addUntilFull(t.fullAt, t.againAt)
      assert.throws(() => inf.add(I(100), 1024), AssertionFailure)
    })
  }
})

/** The dumb reference: a plain array of (last index, bytes). */
type RefInflight = { index: number; bytes: number }
const refFull = (ref: RefInflight[], countMax: number, bytesMax: number): boolean =>
  ref.length >= countMax || (bytesMax > 0 && ref.reduce((s, x) => s + x.bytes, 0) >= bytesMax)

describe('raft/inflights: against a plain array', () => {
  it('count and full agree after any sequence of add / freeLE / freeFirst / reset', () => {
    const arbOp = fc.record({ kind: fc.nat(9), a: fc.nat(20), b: fc.nat(60) })
    fc.assert(
      fc.property(fc.nat(6), fc.nat(200), fc.array(arbOp, { maxLength: 60 }), (countMax, bytesMax, ops) => {
        const inf = new Inflights(countMax, bytesMax)
        let ref: RefInflight[] = []
        let top = 0
        for (const op of ops) {
          if (op.kind <= 4) {
            top += 1 + (op.a % 3)
            if (refFull(ref, countMax, bytesMax)) {
              assert.throws(() => inf.add(I(top), op.b), AssertionFailure)
            } else {
              inf.add(I(top), op.b)
              ref.push({ index: top, bytes: op.b })
            }
          } else if (op.kind <= 7) {
            const i = Math.max(0, top - op.a)
            inf.freeLE(I(i))
            ref = ref.filter((x) => x.index > i)
          } else if (op.kind === 8) {
            inf.freeFirst()
            ref = ref.slice(1)
          } else {
            inf.reset()
            ref = []
          }
          assert.equal(inf.count(), ref.length)
          assert.equal(inf.full(), refFull(ref, countMax, bytesMax))
        }
      }),
      { numRuns: 300 },
    )
  })
})

// ---- Progress ---------------------------------------------------------------------------------

/** progress builds a Progress in a given state with (match, next), as etcd's tests write them. */
function progress(
  state: ProgressState,
  match: number,
  next: number,
  more: { pendingSnapshot?: number; inflight?: number } = {},
): Progress {
  const pr = new Progress(I(next), false, more.inflight ?? 256, 0)
  pr.state = state
  pr.match = I(match)
  pr.pendingSnapshot = I(more.pendingSnapshot ?? 0)
  return pr
}

describe('raft/progress: state transitions', () => {
  it('starts in probe at the given next, nothing matched', () => {
    const pr = new Progress(I(7), true, 4, 0)
    assert.equal(pr.state, 'probe')
    assert.equal(pr.match, 0)
    assert.equal(pr.next, 7)
    assert.equal(pr.isLearner, true)
    assert.ok(!pr.isPaused())
  })

  // TestProgressBecomeProbe.
  const toProbe: { name: string; pr: () => Progress; wantNext: number }[] = [
    { name: 'from replicate: probe from match + 1', pr: () => progress('replicate', 1, 5), wantNext: 2 },
    {
      name: 'from snapshot, finished: probe after the snapshot',
      pr: () => progress('snapshot', 1, 5, { pendingSnapshot: 10 }),
      wantNext: 11,
    },
    {
      name: 'from snapshot, given up: probe from match + 1',
      pr: () => progress('snapshot', 1, 5, { pendingSnapshot: 0 }),
      wantNext: 2,
    },
    {
      name: 'from snapshot, the follower got further than the snapshot',
      pr: () => progress('snapshot', 12, 13, { pendingSnapshot: 10 }),
      wantNext: 13,
    },
    { name: 'from probe: probe from match + 1', pr: () => progress('probe', 3, 9), wantNext: 4 },
  ]
  for (const t of toProbe) {
    it(`becomeProbe ${t.name}`, () => {
      const pr = t.pr()
      pr.probeSent = true
      pr.snapshotTicks = 3
      pr.becomeProbe()
      assert.equal(pr.state, 'probe')
      assert.equal(pr.next, t.wantNext)
      assert.equal(pr.probeSent, false)
      assert.equal(pr.pendingSnapshot, 0)
      assert.equal(pr.snapshotTicks, 0)
    })
  }

  it('becomeReplicate streams from match + 1 with an empty window (TestProgressBecomeReplicate)', () => {
    const pr = progress('probe', 1, 5)
    pr.probeSent = true
    pr.becomeReplicate()
    assert.equal(pr.state, 'replicate')
    assert.equal(pr.match, 1)
    assert.equal(pr.next, 2)
    assert.equal(pr.inflights.count(), 0)
    assert.ok(!pr.isPaused())
  })

  it('becomeSnapshot remembers the snapshot index and pauses (TestProgressBecomeSnapshot)', () => {
    const pr = progress('replicate', 1, 5)
    pr.sentEntries(I(5), 1, 10)
    pr.becomeSnapshot(I(10))
    assert.equal(pr.state, 'snapshot')
    assert.equal(pr.match, 1)
    assert.equal(pr.pendingSnapshot, 10)
    assert.equal(pr.inflights.count(), 0, 'the window is reset')
    assert.ok(pr.isPaused())
    assert.throws(() => pr.sentEntries(I(11), 1, 1), AssertionFailure)
  })

  it('probe -> replicate -> snapshot -> probe, as a leader drives a lagging follower', () => {
    const pr = new Progress(I(11), false, 2, 0)
    pr.sentEntries(I(10), 1, 1) // probe at next 11
    assert.ok(pr.isPaused())
    assert.ok(pr.maybeDecrTo(I(10), I(4)), 'the follower has only up to 4')
    assert.equal(pr.next, 5)
    assert.ok(!pr.isPaused())
    assert.ok(pr.maybeUpdate(I(4)))
    pr.becomeReplicate()
    assert.equal(pr.next, 5)
    pr.sentEntries(I(6), 2, 2)
    pr.sentEntries(I(8), 2, 2)
    assert.equal(pr.next, 9)
    assert.ok(pr.isPaused(), 'two MsgApps in flight fill a window of 2')
    pr.inflights.freeLE(I(6))
    assert.ok(!pr.isPaused())
    pr.becomeSnapshot(I(20))
    assert.ok(pr.maybeUpdate(I(20)))
    pr.becomeProbe()
    assert.equal(pr.state, 'probe')
    assert.equal(pr.next, 21)
  })
})

describe('raft/progress: maybeUpdate (TestProgressUpdate)', () => {
  // match 3, next 5.
  const table: { n: number; wantMatch: number; wantNext: number; want: boolean }[] = [
    { n: 2, wantMatch: 3, wantNext: 5, want: false },
    { n: 3, wantMatch: 3, wantNext: 5, want: false },
    { n: 4, wantMatch: 4, wantNext: 5, want: true },
    { n: 5, wantMatch: 5, wantNext: 6, want: true },
    { n: 9, wantMatch: 9, wantNext: 10, want: true },
  ]
  for (const t of table) {
    it(`acknowledgement of ${t.n} at (match 3, next 5)`, () => {
      const pr = progress('probe', 3, 5)
      assert.equal(pr.maybeUpdate(I(t.n)), t.want)
      assert.equal(pr.match, t.wantMatch)
      assert.equal(pr.next, t.wantNext)
    })
  }

  it('a new acknowledgement resumes a paused probe; a stale one does not (TestProgressResume)', () => {
    const pr = progress('probe', 3, 5)
    pr.sentEntries(I(4), 0, 0)
    assert.ok(pr.isPaused())
    pr.maybeUpdate(I(2))
    assert.ok(pr.isPaused())
    pr.maybeUpdate(I(4))
    assert.ok(!pr.isPaused())
  })
})

describe('raft/progress: maybeDecrTo (TestProgressMaybeDecr)', () => {
  const table: {
    name: string
    state: ProgressState
    match: number
    next: number
    rejected: number
    hint: number
    want: boolean
    wantNext: number
  }[] = [
    {
      name: 'replicate: rejected == match is stale',
      state: 'replicate',
      match: 5,
      next: 10,
      rejected: 5,
      hint: 5,
      want: false,
      wantNext: 10,
    },
    {
      name: 'replicate: rejected < match is stale',
      state: 'replicate',
      match: 5,
      next: 10,
      rejected: 4,
      hint: 4,
      want: false,
      wantNext: 10,
    },
    {
      name: 'replicate: fresh, back to match + 1',
      state: 'replicate',
      match: 5,
      next: 10,
      rejected: 9,
      hint: 9,
      want: true,
      wantNext: 6,
    },
    {
      name: 'replicate: fresh, the hint does not matter',
      state: 'replicate',
      match: 5,
      next: 10,
      rejected: 7,
      hint: 2,
      want: true,
      wantNext: 6,
    },
    {
      name: 'probe: rejected != next - 1 is stale',
      state: 'probe',
      match: 0,
      next: 10,
      rejected: 5,
      hint: 5,
      want: false,
      wantNext: 10,
    },
    {
      name: 'probe: rejected > next - 1 is stale',
      state: 'probe',
      match: 0,
      next: 10,
      rejected: 12,
      hint: 3,
      want: false,
      wantNext: 10,
    },
    {
      name: 'probe: decrement by one',
      state: 'probe',
      match: 0,
      next: 10,
      rejected: 9,
      hint: 9,
      want: true,
      wantNext: 9,
    },
    {
      name: 'probe: decrement to 1',
      state: 'probe',
      match: 0,
      next: 2,
      rejected: 1,
      hint: 1,
      want: true,
      wantNext: 1,
    },
    {
      name: 'probe: next 1 stays 1',
      state: 'probe',
      match: 0,
      next: 1,
      rejected: 0,
      hint: 0,
      want: true,
      wantNext: 1,
    },
    {
      name: 'probe: jump to hint + 1',
      state: 'probe',
      match: 0,
      next: 10,
      rejected: 9,
      hint: 2,
      want: true,
      wantNext: 3,
    },
    {
      name: 'probe: hint 0 -> 1',
      state: 'probe',
      match: 0,
      next: 10,
      rejected: 9,
      hint: 0,
      want: true,
      wantNext: 1,
    },
    {
      name: 'probe: a hint beyond rejected is capped',
      state: 'probe',
      match: 0,
      next: 10,
      rejected: 9,
      hint: 50,
      want: true,
      wantNext: 9,
    },
    {
      name: 'probe: never below match + 1',
      state: 'probe',
      match: 5,
      next: 10,
      rejected: 9,
      hint: 2,
      want: true,
      wantNext: 6,
    },
    {
      name: 'snapshot: a stale rejection is ignored',
      state: 'snapshot',
      match: 5,
      next: 10,
      rejected: 4,
      hint: 2,
      want: false,
      wantNext: 10,
    },
  ]
  for (const t of table) {
    it(t.name, () => {
      const pr = progress(t.state, t.match, t.next)
      if (t.state === 'probe') pr.probeSent = true
      assert.equal(pr.maybeDecrTo(I(t.rejected), I(t.hint)), t.want)
      assert.equal(pr.next, t.wantNext)
      assert.equal(pr.match, t.match, 'a rejection never moves match')
      assert.equal(pr.state, t.state, 'a rejection never changes the state by itself')
      if (t.state === 'probe') assert.equal(pr.probeSent, !t.want, 'a fresh rejection resumes the probe')
    })
  }
})

describe('raft/progress: isPaused per state (TestProgressIsPaused)', () => {
  it('probe: paused while a probe is out', () => {
    const pr = progress('probe', 0, 1)
    assert.ok(!pr.isPaused())
    pr.sentEntries(I(0), 0, 0)
    assert.ok(pr.isPaused())
    pr.sentEntries(I(0), 0, 0) // a second send while paused keeps it paused
    assert.ok(pr.isPaused())
  })

  it('replicate: paused when the window is full, by count or by bytes', () => {
    const byCount = progress('replicate', 0, 1, { inflight: 2 })
    byCount.sentEntries(I(1), 1, 1)
    assert.ok(!byCount.isPaused())
    byCount.sentEntries(I(2), 1, 1)
    assert.ok(byCount.isPaused())
    byCount.probeSent = true // irrelevant in replicate
    byCount.inflights.freeLE(I(1))
    assert.ok(!byCount.isPaused())

    const byBytes = new Progress(I(1), false, 100, 10)
    byBytes.becomeReplicate()
    byBytes.sentEntries(I(3), 3, 9)
    assert.ok(!byBytes.isPaused())
    byBytes.sentEntries(I(4), 1, 1)
    assert.ok(byBytes.isPaused())
  })

  it('replicate: an empty MsgApp takes no slot and does not move next', () => {
    const pr = progress('replicate', 3, 4, { inflight: 1 })
    pr.sentEntries(I(3), 0, 0)
    assert.equal(pr.next, 4)
    assert.equal(pr.inflights.count(), 0)
    assert.ok(!pr.isPaused())
  })

  it('snapshot: always paused', () => {
    const pr = progress('snapshot', 0, 1, { pendingSnapshot: 10 })
    assert.ok(pr.isPaused())
    pr.probeSent = false
    assert.ok(pr.isPaused())
  })
})

describe('raft/progress: properties', () => {
  it('match < next and match never decreases, whatever the leader does; stale rejections change nothing', () => {
    const arbOp = fc.record({ kind: fc.nat(8), a: fc.nat(30), b: fc.nat(30) })
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 20 }), fc.array(arbOp, { maxLength: 50 }), (next0, ops) => {
        const pr = new Progress(I(next0), false, 3, 0)
        let top = next0 + 10 // the leader's last index
        for (const op of ops) {
          const before = { state: pr.state, match: pr.match, next: pr.next, probeSent: pr.probeSent }
          switch (op.kind) {
            case 0:
              pr.maybeUpdate(I(Math.min(top, op.a)))
              break
            case 1: {
              const rejected = op.a % 2 === 0 ? pr.next - 1 : op.a
              const stale = pr.state === 'replicate' ? rejected <= pr.match : rejected !== pr.next - 1
              const ok = pr.maybeDecrTo(I(Math.max(0, rejected)), I(op.b))
              assert.equal(ok, !stale)
              if (!ok)
                assert.deepEqual(
                  { state: pr.state, match: pr.match, next: pr.next, probeSent: pr.probeSent },
                  before,
                )
              else if (before.state === 'probe') assert.ok(pr.next <= Math.max(rejected, pr.match + 1))
              // The leader probes after a fresh rejection in replicate (etcd stepLeader).
              if (ok && pr.state === 'replicate') pr.becomeProbe()
              break
            }
            case 2:
              pr.becomeProbe()
              break
            case 3:
              pr.becomeReplicate()
              break
            case 4:
              pr.becomeSnapshot(I(op.a))
              break
            case 5:
            case 6:
              if (pr.isPaused()) break
              if (pr.state === 'replicate') {
                const last = Math.min(top, pr.next - 1 + (op.a % 4))
                pr.sentEntries(I(last), Math.max(0, last - pr.next + 1), op.b)
              } else pr.sentEntries(I(pr.next - 1), 0, 0)
              top += op.b % 3
              break
            case 7:
              pr.inflights.freeLE(I(op.a))
              break
          }
          assert.ok(pr.match < pr.next, `match ${pr.match} >= next ${pr.next} after ${JSON.stringify(op)}`)
          assert.ok(pr.match >= before.match, 'match went back')
          const paused =
            pr.state === 'probe' ? pr.probeSent : pr.state === 'replicate' ? pr.inflights.count() >= 3 : true
          assert.equal(pr.isPaused(), paused)
        }
      }),
      { numRuns: 300 },
    )
  })
})
