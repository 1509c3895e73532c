import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import type { NodeId } from '../../../src/core/ids.js'
import {
  jointAcked,
  jointVote,
  majorityAcked,
  majorityVote,
  type VoteResult,
} from '../../../src/engines/quorum/quorum.js'

// Reference: Raft dissertation §3.6 (commit by majority match), §4.3 (joint consensus: a decision
// needs a majority of each half); etcd raft quorum/majority.go and quorum/joint.go (CommittedIndex,
// VoteResult, and an empty config that never holds the other half back).

const ids = (...n: number[]): NodeId[] => n as NodeId[]
/** ackedBy turns {id: value} into the lookup the quorum functions take (0 if unknown). */
const ackedBy =
  (values: Record<number, number>) =>
  (id: NodeId): number =>
    values[id] ?? 0
const votesOf = (v: Record<number, boolean>): Map<NodeId, boolean> =>
  new Map(Object.entries(v).map(([k, b]) => [Number(k) as NodeId, b]))

// ---- deliberately dumb references ------------------------------------------------------------

/** For every candidate value among the acked ones, count who reached it; keep the largest a majority reached. */
function refMajorityAcked(voters: readonly NodeId[], acked: (id: NodeId) => number): number {
  if (voters.length === 0) return Number.POSITIVE_INFINITY
  let best = Number.NEGATIVE_INFINITY
  for (const candidate of voters.map(acked)) {
    const reached = voters.filter((id) => acked(id) >= candidate).length
    if (reached * 2 > voters.length && candidate > best) best = candidate
  }
  return best
}

const halfWins = (voters: readonly NodeId[], votes: ReadonlyMap<NodeId, boolean>): boolean =>
  voters.length === 0 || voters.filter((id) => votes.get(id) === true).length * 2 > voters.length

/**
 * Enumerate every way the missing votes could still go (a node in both halves votes once): won if
 * every completion wins, lost if none does, pending otherwise.
 */
function refJointVote(
  incoming: readonly NodeId[],
  outgoing: readonly NodeId[],
  votes: ReadonlyMap<NodeId, boolean>,
): VoteResult {
  const missing = [...new Set([...incoming, ...outgoing])].filter((id) => !votes.has(id))
  let wins = 0
  const completions = 2 ** missing.length
  for (let mask = 0; mask < completions; mask++) {
    const complete = new Map(votes)
    missing.forEach((id, k) => {
      complete.set(id, ((mask >> k) & 1) === 1)
    })
    if (halfWins(incoming, complete) && halfWins(outgoing, complete)) wins++
  }
  if (wins === completions) return 'won'
  if (wins === 0) return 'lost'
  return 'pending'
}

// ---- arbitraries -----------------------------------------------------------------------------

/** Voter sets over ids 1..9, so halves overlap often and ties are common. */
const arbVoters = fc.uniqueArray(fc.integer({ min: 1, max: 9 }), { maxLength: 7 }).map((a) => a as NodeId[])
/** acked values: mostly small (many ties), sometimes large; index 0 unused (ids start at 1). */
const arbAcked = fc.array(fc.oneof(fc.nat(5), fc.nat(1_000_000)), { minLength: 10, maxLength: 10 })
/** votes for ids 1..9, including some of non-voters (which must not count). */
const arbVotes = fc
  .array(fc.constantFrom<boolean | undefined>(true, false, undefined), { minLength: 10, maxLength: 10 })
  .map((a) => {
    const m = new Map<NodeId, boolean>()
    a.forEach((v, id) => {
      if (id > 0 && v !== undefined) m.set(id as NodeId, v)
    })
    return m
  })

describe('quorum: majorityAcked / jointAcked', () => {
  const table: { name: string; voters: NodeId[]; acked: Record<number, number>; want: number }[] = [
    { name: 'empty config never holds anything back', voters: [], acked: {}, want: Infinity },
    { name: 'single voter', voters: ids(1), acked: { 1: 5 }, want: 5 },
    { name: 'single voter, unknown', voters: ids(1), acked: {}, want: 0 },
    { name: '3 voters: the median', voters: ids(1, 2, 3), acked: { 1: 1, 2: 2, 3: 3 }, want: 2 },
    { name: '3 voters: order does not matter', voters: ids(3, 1, 2), acked: { 1: 3, 2: 1, 3: 2 }, want: 2 },
    { name: '3 voters: one unknown', voters: ids(1, 2, 3), acked: { 1: 7, 2: 4 }, want: 4 },
    { name: '3 voters: two unknown', voters: ids(1, 2, 3), acked: { 1: 7 }, want: 0 },
    { name: '3 voters: ties', voters: ids(1, 2, 3), acked: { 1: 7, 2: 7, 3: 7 }, want: 7 },
    { name: '4 voters need 3', voters: ids(1, 2, 3, 4), acked: { 1: 1, 2: 2, 3: 3, 4: 4 }, want: 2 },
    { name: '4 voters: 2 of 4 is not enough', voters: ids(1, 2, 3, 4), acked: { 1: 9, 2: 9 }, want: 0 },
    { name: '5 voters need 3', voters: ids(1, 2, 3, 4, 5), acked: { 1: 5, 2: 4, 3: 3, 4: 2, 5: 1 }, want: 3 },
    { name: 'non-voters do not count', voters: ids(1, 2, 3), acked: { 1: 1, 4: 9, 5: 9 }, want: 0 },
  ]
  for (const t of table) {
    it(`majorityAcked: ${t.name}`, () => {
      assert.equal(majorityAcked(t.voters, ackedBy(t.acked)), t.want)
    })
  }

  const joint: {
    name: string
    incoming: NodeId[]
    outgoing: NodeId[]
    acked: Record<number, number>
    want: number
  }[] = [
    { name: 'both empty', incoming: [], outgoing: [], acked: {}, want: Infinity },
    {
      name: 'empty outgoing = plain majority',
      incoming: ids(1, 2, 3),
      outgoing: [],
      acked: { 1: 5, 2: 5 },
      want: 5,
    },
    {
      name: 'empty incoming = plain majority',
      incoming: [],
      outgoing: ids(1, 2, 3),
      acked: { 1: 5, 2: 5 },
      want: 5,
    },
    {
      name: 'the smaller half decides',
      incoming: ids(1, 2, 3),
      outgoing: ids(4, 5, 6),
      acked: { 1: 5, 2: 5, 3: 1, 4: 2, 5: 3, 6: 9 },
      want: 3,
    },
    {
      name: 'overlapping halves (§4.3: {1,2,3} -> {2,3,4})',
      incoming: ids(2, 3, 4),
      outgoing: ids(1, 2, 3),
      acked: { 1: 9, 2: 8, 3: 2, 4: 1 },
      want: 2,
    },
    {
      name: 'a majority of the union is not enough',
      incoming: ids(1, 2, 3),
      outgoing: ids(4, 5, 6),
      acked: { 1: 9, 2: 9, 3: 9, 4: 9 },
      want: 0,
    },
  ]
  for (const t of joint) {
    it(`jointAcked: ${t.name}`, () => {
      assert.equal(jointAcked(t.incoming, t.outgoing, ackedBy(t.acked)), t.want)
    })
  }

  it('majorityAcked agrees with counting voters for every candidate value', () => {
    fc.assert(
      fc.property(arbVoters, arbAcked, (voters, values) => {
        const acked = (id: NodeId) => values[id] ?? 0
        assert.equal(majorityAcked(voters, acked), refMajorityAcked(voters, acked))
      }),
      { numRuns: 500 },
    )
  })

  it('jointAcked is the smaller of the two halves per the reference, and symmetric', () => {
    fc.assert(
      fc.property(arbVoters, arbVoters, arbAcked, (incoming, outgoing, values) => {
        const acked = (id: NodeId) => values[id] ?? 0
        const want = Math.min(refMajorityAcked(incoming, acked), refMajorityAcked(outgoing, acked))
        assert.equal(jointAcked(incoming, outgoing, acked), want)
        assert.equal(jointAcked(outgoing, incoming, acked), want)
      }),
      { numRuns: 500 },
    )
  })

  it('does not reorder the caller’s voter list', () => {
    const voters = ids(3, 1, 2)
    majorityAcked(voters, ackedBy({ 1: 1, 2: 2, 3: 3 }))
    assert.deepEqual(voters, ids(3, 1, 2))
  })
})

describe('quorum: majorityVote / jointVote', () => {
  const table: { name: string; voters: NodeId[]; votes: Record<number, boolean>; want: VoteResult }[] = [
    { name: 'empty config wins', voters: [], votes: {}, want: 'won' },
    { name: 'empty config wins whatever others say', voters: [], votes: { 1: false }, want: 'won' },
    { name: '1 voter, no answer', voters: ids(1), votes: {}, want: 'pending' },
    { name: '1 voter, granted', voters: ids(1), votes: { 1: true }, want: 'won' },
    { name: '1 voter, rejected', voters: ids(1), votes: { 1: false }, want: 'lost' },
    { name: '3 voters, 2 granted', voters: ids(1, 2, 3), votes: { 1: true, 2: true }, want: 'won' },
    { name: '3 voters, 1-1', voters: ids(1, 2, 3), votes: { 1: true, 2: false }, want: 'pending' },
    { name: '3 voters, 2 rejected', voters: ids(1, 2, 3), votes: { 1: false, 3: false }, want: 'lost' },
    {
      name: '4 voters, 2 granted is not enough yet',
      voters: ids(1, 2, 3, 4),
      votes: { 1: true, 2: true },
      want: 'pending',
    },
    {
      name: '4 voters, 2-2 is lost',
      voters: ids(1, 2, 3, 4),
      votes: { 1: true, 2: true, 3: false, 4: false },
      want: 'lost',
    },
    {
      name: '4 voters, 3 granted',
      voters: ids(1, 2, 3, 4),
      votes: { 1: true, 2: true, 4: true },
      want: 'won',
    },
    {
      name: 'non-voters do not count',
      voters: ids(1, 2, 3),
      votes: { 1: true, 4: true, 5: true },
      want: 'pending',
    },
  ]
  for (const t of table) {
    it(`majorityVote: ${t.name}`, () => {
      assert.equal(majorityVote(t.voters, votesOf(t.votes)), t.want)
    })
  }

  // incoming {1,2,3}, outgoing {4,5,6}: one row per pair of half results.
  const joint: {
    name: string
    incoming: NodeId[]
    outgoing: NodeId[]
    votes: Record<number, boolean>
    want: VoteResult
  }[] = [
    {
      name: 'won + won',
      incoming: ids(1, 2, 3),
      outgoing: ids(4, 5, 6),
      votes: { 1: true, 2: true, 4: true, 5: true },
      want: 'won',
    },
    {
      name: 'won + pending',
      incoming: ids(1, 2, 3),
      outgoing: ids(4, 5, 6),
      votes: { 1: true, 2: true, 4: true },
      want: 'pending',
    },
    {
      name: 'won + lost',
      incoming: ids(1, 2, 3),
      outgoing: ids(4, 5, 6),
      votes: { 1: true, 2: true, 4: false, 5: false },
      want: 'lost',
    },
    {
      name: 'pending + lost',
      incoming: ids(1, 2, 3),
      outgoing: ids(4, 5, 6),
      votes: { 1: true, 4: false, 5: false },
      want: 'lost',
    },
    { name: 'pending + pending', incoming: ids(1, 2, 3), outgoing: ids(4, 5, 6), votes: {}, want: 'pending' },
    {
      name: 'lost + lost',
      incoming: ids(1, 2, 3),
      outgoing: ids(4, 5, 6),
      votes: { 1: false, 2: false, 4: false, 5: false },
      want: 'lost',
    },
    {
      name: 'empty outgoing = plain majority',
      incoming: ids(1, 2, 3),
      outgoing: [],
      votes: { 1: true, 2: true },
      want: 'won',
    },
    {
      name: 'empty incoming = plain majority',
      incoming: [],
      outgoing: ids(1, 2, 3),
      votes: { 1: false, 2: false },
      want: 'lost',
    },
    { name: 'both empty', incoming: [], outgoing: [], votes: {}, want: 'won' },
    {
      name: 'a shared voter counts in both halves ({1,2,3} -> {2,3,4})',
      incoming: ids(2, 3, 4),
      outgoing: ids(1, 2, 3),
      votes: { 2: true, 3: true },
      want: 'won',
    },
    {
      name: 'a majority of the union is not enough',
      incoming: ids(1, 2, 3),
      outgoing: ids(4, 5, 6),
      votes: { 1: true, 2: true, 3: true, 4: true, 5: false, 6: false },
      want: 'lost',
    },
  ]
  for (const t of joint) {
    it(`jointVote: ${t.name}`, () => {
      assert.equal(jointVote(t.incoming, t.outgoing, votesOf(t.votes)), t.want)
    })
  }

  it('majorityVote agrees with enumerating every completion of the missing votes', () => {
    fc.assert(
      fc.property(arbVoters, arbVotes, (voters, votes) => {
        assert.equal(majorityVote(voters, votes), refJointVote(voters, [], votes))
      }),
      { numRuns: 500 },
    )
  })

  it('jointVote agrees with enumerating every completion, and is symmetric', () => {
    fc.assert(
      fc.property(arbVoters, arbVoters, arbVotes, (incoming, outgoing, votes) => {
        const want = refJointVote(incoming, outgoing, votes)
        assert.equal(jointVote(incoming, outgoing, votes), want)
        assert.equal(jointVote(outgoing, incoming, votes), want)
      }),
      { numRuns: 500 },
    )
  })

  it('a joint config whose halves are equal is the plain majority', () => {
    fc.assert(
      fc.property(arbVoters, arbVotes, arbAcked, (voters, votes, values) => {
        const acked = (id: NodeId) => values[id] ?? 0
        assert.equal(jointVote(voters, voters, votes), majorityVote(voters, votes))
        assert.equal(jointAcked(voters, voters, acked), majorityAcked(voters, acked))
      }),
    )
  })
})
