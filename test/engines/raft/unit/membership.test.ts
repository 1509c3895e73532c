import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import type { NodeId } from '../../../../src/core/ids.js'
import type { MemberChange, MemberChangeOp, Membership } from '../../../../src/engines/engine.js'
import {
  applyMemberChange,
  type ChangeOutcome,
  EMPTY_MEMBERSHIP,
  isJoint,
  isVoter,
  memberIds,
} from '../../../../src/engines/raft/membership.js'

// Reference: Raft dissertation §4.1 (one server at a time), §4.3 (joint consensus), in the form of
// etcd raft's confchange package (confchange.go: Simple, EnterJoint, LeaveJoint, checkInvariants)
// and its data-driven tests (testdata/simple_safety.txt, joint_autoleave.txt,
// joint_learners_next.txt).

type Transition = NonNullable<MemberChange['transition']>
type Op = { op: MemberChangeOp; node: NodeId }

const ids = (...n: number[]): NodeId[] => n as NodeId[]
const v = (n: number): Op => ({ op: 'addVoter', node: n as NodeId })
const l = (n: number): Op => ({ op: 'addLearner', node: n as NodeId })
const r = (n: number): Op => ({ op: 'remove', node: n as NodeId })

function config(
  voters: number[],
  more: { outgoing?: number[]; learners?: number[]; learnersNext?: number[]; autoLeave?: boolean } = {},
): Membership {
  return {
    voters: voters as NodeId[],
    votersOutgoing: (more.outgoing ?? []) as NodeId[],
    learners: (more.learners ?? []) as NodeId[],
    learnersNext: (more.learnersNext ?? []) as NodeId[],
    autoLeave: more.autoLeave ?? false,
  }
}

function expectOk(o: ChangeOutcome): Membership {
  if (!o.ok) assert.fail(`change refused: ${o.reason}`)
  return o.membership
}

function expectRefused(o: ChangeOutcome, reason: RegExp): void {
  assert.ok(!o.ok, `change accepted: ${JSON.stringify(o.ok && o.membership)}`)
  assert.match(o.reason, reason)
}

/** bootstrap applies one simple addVoter per voter, as bootstrapEntries does. */
function bootstrap(voters: readonly NodeId[]): Membership {
  let m = EMPTY_MEMBERSHIP
  for (const node of voters) m = expectOk(applyMemberChange(m, { changes: [{ op: 'addVoter', node }] }))
  return m
}

/** The invariants stated on Membership (engine.ts) and checked by etcd's checkInvariants. */
function checkInvariants(m: Membership): void {
  const show = JSON.stringify(m)
  for (const [name, list] of Object.entries({
    voters: m.voters,
    votersOutgoing: m.votersOutgoing,
    learners: m.learners,
    learnersNext: m.learnersNext,
  })) {
    for (let k = 1; k < list.length; k++)
      assert.ok((list[k - 1] as number) < (list[k] as number), `${name} not sorted and unique: ${show}`)
  }
  assert.ok(m.voters.length > 0, `no voters: ${show}`)
  for (const id of m.learners) assert.ok(!isVoter(m, id), `learner ${id} is a voter: ${show}`)
  for (const id of m.learnersNext) {
    assert.ok(m.votersOutgoing.includes(id), `next learner ${id} is no outgoing voter: ${show}`)
    assert.ok(!m.voters.includes(id), `next learner ${id} is an incoming voter: ${show}`)
    assert.ok(!m.learners.includes(id), `next learner ${id} is also a learner: ${show}`)
  }
  if (!isJoint(m)) {
    assert.deepEqual(m.learnersNext, [], `learnersNext outside a joint config: ${show}`)
    assert.equal(m.autoLeave, false, `autoLeave outside a joint config: ${show}`)
  }
}

const sortedIds = (s: Iterable<NodeId>): NodeId[] => [...s].sort((a, b) => a - b)

/** symdiff counts the voters that one config has and the other lacks. */
const symdiff = (a: readonly NodeId[], b: readonly NodeId[]): number =>
  a.filter((id) => !b.includes(id)).length + b.filter((id) => !a.includes(id)).length

/**
 * The dumb reference: a configuration is two plain sets, and each op moves one node between
 * them. It predicts the configuration once any joint phase is over.
 */
function refApply(
  voters: readonly NodeId[],
  learners: readonly NodeId[],
  changes: readonly Op[],
): { voters: NodeId[]; learners: NodeId[] } {
  const vs = new Set(voters)
  const ls = new Set(learners)
  for (const { op, node } of changes) {
    vs.delete(node)
    ls.delete(node)
    if (op === 'addVoter') vs.add(node)
    if (op === 'addLearner') ls.add(node)
  }
  return { voters: sortedIds(vs), learners: sortedIds(ls) }
}

describe('raft/membership: applyMemberChange tables', () => {
  const table: {
    name: string
    from: Membership
    change: MemberChange
    want: Membership | RegExp
  }[] = [
    // §4.1: one voter at a time needs no joint phase.
    { name: 'add one voter', from: config([1]), change: { changes: [v(2)] }, want: config([1, 2]) },
    { name: 'remove one voter', from: config([1, 2, 3]), change: { changes: [r(3)] }, want: config([1, 2]) },
    {
      name: 'one voter plus learners is still simple (simple_safety: v2 l3)',
      from: config([1]),
      change: { changes: [v(2), l(3)] },
      want: config([1, 2], { learners: [3] }),
    },
    {
      name: 'learners only (simple_safety: l2 l3 l4 l5)',
      from: config([1]),
      change: { changes: [l(2), l(3), l(4), l(5)] },
      want: config([1], { learners: [2, 3, 4, 5] }),
    },
    {
      name: 'remove learners (simple_safety: r2 r3 r4 r5)',
      from: config([1], { learners: [2, 3, 4, 5] }),
      change: { changes: [r(2), r(3), r(4), r(5)] },
      want: config([1]),
    },
    {
      name: 'promote a learner',
      from: config([1], { learners: [2] }),
      change: { changes: [v(2)] },
      want: config([1, 2]),
    },
    {
      name: 'demote a voter, simply',
      from: config([1, 2, 3]),
      change: { changes: [l(3)] },
      want: config([1, 2], { learners: [3] }),
    },
    {
      name: 'remove and re-add the same voter changes nothing',
      from: config([1, 2, 3]),
      change: { changes: [r(3), v(3)] },
      want: config([1, 2, 3]),
    },
    {
      name: 'adding a present voter is a no-op',
      from: config([1, 2]),
      change: { changes: [v(2)] },
      want: config([1, 2]),
    },
    // Refusals.
    {
      name: 'demote the only voter (simple_safety: l1)',
      from: config([1]),
      change: { changes: [l(1)] },
      want: /every voter/,
    },
    {
      name: 'remove the only voter (simple_safety: r1)',
      from: config([1]),
      change: { changes: [r(1)] },
      want: /every voter/,
    },
    {
      name: 'remove every voter (simple_safety: r1 r2)',
      from: config([1, 2]),
      change: { changes: [r(1), r(2)] },
      want: /every voter/,
    },
    {
      name: 'remove every voter in a joint change',
      from: config([1, 2]),
      change: { changes: [r(1), r(2), l(3)], transition: 'joint-explicit' },
      want: /every voter/,
    },
    {
      name: 'no change while joint (joint_autoleave: already joint)',
      from: config([1, 2, 3], { outgoing: [1], autoLeave: true }),
      change: { changes: [v(4)] },
      want: /joint/,
    },
    {
      name: 'no simple change while joint, whatever the transition',
      from: config([1, 2, 3], { outgoing: [1] }),
      change: { changes: [l(5)], transition: 'joint' },
      want: /joint/,
    },
    { name: 'nothing to leave', from: config([1, 2, 3]), change: { changes: [] }, want: /not joint/ },
    // auto turns a change of more than one voter into a joint config left automatically (§4.1: not
    // safe otherwise; etcd's Simple refuses it instead, "more than one voter changed").
    {
      name: 'auto: replace a voter (simple_safety: r1 v5)',
      from: config([1, 2, 3]),
      change: { changes: [r(1), v(5)] },
      want: config([2, 3, 5], { outgoing: [1, 2, 3], autoLeave: true }),
    },
    {
      name: 'auto: add two voters (simple_safety: v3 v4)',
      from: config([1, 2]),
      change: { changes: [v(3), v(4)] },
      want: config([1, 2, 3, 4], { outgoing: [1, 2], autoLeave: true }),
    },
    {
      name: 'auto: demote one voter, add another (simple_safety: l1 v5)',
      from: config([1, 2, 3]),
      change: { changes: [l(1), v(5)] },
      want: config([2, 3, 5], { outgoing: [1, 2, 3], learnersNext: [1], autoLeave: true }),
    },
    {
      name: 'auto: swap a learner and a voter',
      from: config([1, 2], { learners: [3] }),
      change: { changes: [v(3), l(2)] },
      want: config([1, 3], { outgoing: [1, 2], learnersNext: [2], autoLeave: true }),
    },
    // Explicit joint changes (§4.3).
    {
      name: 'joint: autoLeave (joint_autoleave: v2 v3)',
      from: config([1]),
      change: { changes: [v(2), v(3)], transition: 'joint' },
      want: config([1, 2, 3], { outgoing: [1], autoLeave: true }),
    },
    {
      name: 'joint: even a single voter goes through a joint config',
      from: config([1, 2, 3]),
      change: { changes: [v(4)], transition: 'joint' },
      want: config([1, 2, 3, 4], { outgoing: [1, 2, 3], autoLeave: true }),
    },
    {
      name: 'joint-explicit: not left automatically',
      from: config([1, 2, 3]),
      change: { changes: [v(4)], transition: 'joint-explicit' },
      want: config([1, 2, 3, 4], { outgoing: [1, 2, 3] }),
    },
    {
      name: 'joint: demoting a voter goes to learnersNext (joint_learners_next: v2 l1)',
      from: config([1]),
      change: { changes: [v(2), l(1)], transition: 'joint-explicit' },
      want: config([2], { outgoing: [1], learnersNext: [1] }),
    },
    {
      name: 'joint: a new node made learner goes straight to learners',
      from: config([1, 2, 3]),
      change: { changes: [v(4), l(4)], transition: 'joint' },
      want: config([1, 2, 3], { outgoing: [1, 2, 3], learners: [4], autoLeave: true }),
    },
    {
      name: 'joint: demoted then promoted again is a voter',
      from: config([1, 2, 3]),
      change: { changes: [l(3), v(3)], transition: 'joint' },
      want: config([1, 2, 3], { outgoing: [1, 2, 3], autoLeave: true }),
    },
    {
      name: 'joint: a removed voter keeps voting in the outgoing half',
      from: config([1, 2, 3], { learners: [4] }),
      change: { changes: [r(3), r(4)], transition: 'joint' },
      want: config([1, 2], { outgoing: [1, 2, 3], autoLeave: true }),
    },
    {
      name: 'joint: demoted, then removed, is nothing after the joint phase',
      from: config([1, 2, 3]),
      change: { changes: [l(3), r(3)], transition: 'joint-explicit' },
      want: config([1, 2], { outgoing: [1, 2, 3] }),
    },
    // Leaving.
    {
      name: 'leave: learnersNext become learners (joint_learners_next: leave-joint)',
      from: config([2], { outgoing: [1], learnersNext: [1] }),
      change: { changes: [] },
      want: config([2], { learners: [1] }),
    },
    {
      name: 'leave: keeps learners, drops the outgoing half and autoLeave',
      from: config([1, 2, 3, 5], {
        outgoing: [1, 2, 3, 4],
        learners: [6],
        learnersNext: [4],
        autoLeave: true,
      }),
      change: { changes: [] },
      want: config([1, 2, 3, 5], { learners: [4, 6] }),
    },
    {
      name: 'leave: the empty change leaves whatever its transition says',
      from: config([1, 2], { outgoing: [1, 2, 3] }),
      change: { changes: [], transition: 'joint' },
      want: config([1, 2]),
    },
  ]
  for (const t of table) {
    it(t.name, () => {
      const before = structuredClone(t.from)
      const got = applyMemberChange(t.from, t.change)
      if (t.want instanceof RegExp) expectRefused(got, t.want)
      else {
        const m = expectOk(got)
        assert.deepEqual(m, t.want)
        checkInvariants(m)
      }
      assert.deepEqual(t.from, before, 'applyMemberChange changed its input')
    })
  }

  it('enter, then leave: etcd joint_learners_next end to end', () => {
    let m = bootstrap(ids(1))
    m = expectOk(applyMemberChange(m, { changes: [v(2), l(1)], transition: 'joint-explicit' }))
    assert.ok(isVoter(m, 1 as NodeId), 'a demoted voter votes until the joint phase ends')
    assert.deepEqual(memberIds(m), ids(1, 2))
    expectRefused(applyMemberChange(m, { changes: [v(3)] }), /joint/)
    m = expectOk(applyMemberChange(m, { changes: [] }))
    assert.deepEqual(m, config([2], { learners: [1] }))
    assert.ok(!isVoter(m, 1 as NodeId))
    expectRefused(applyMemberChange(m, { changes: [] }), /not joint/)
  })

  // etcd's EnterJoint refuses "can't make a zero-voter config joint", and its checkInvariants
  // refuses "AutoLeave must be false when not joint". Here, a multi-voter `auto` change or any
  // `joint` change from the empty configuration yields a NON-joint config with autoLeave: true
  // (votersOutgoing = the previous voters = []), and `joint-explicit` silently yields a plain
  // config — contradicting MemberChange's "joint: always use a joint configuration".
  it('a joint change from a zero-voter configuration is refused, never a non-joint config with autoLeave', () => {
    const rows: MemberChange[] = [
      { changes: [v(1), v(2), v(3)] },
      { changes: [v(1)], transition: 'joint' },
      { changes: [v(1), v(2)], transition: 'joint-explicit' },
    ]
    for (const change of rows) {
      const got = applyMemberChange(EMPTY_MEMBERSHIP, change)
      assert.ok(
        !got.ok,
        `from the empty config, ${JSON.stringify(change)} gave ${JSON.stringify(got.ok && got.membership)}`,
      )
    }
  })
})

// ---- properties ------------------------------------------------------------------------------

const arbNode = fc.integer({ min: 1, max: 6 }).map((n) => n as NodeId)
const arbOp: fc.Arbitrary<Op> = fc.record({
  op: fc.constantFrom<MemberChangeOp>('addVoter', 'addLearner', 'remove'),
  node: arbNode,
})
const arbTransition = fc.constantFrom<Transition | undefined>(undefined, 'auto', 'joint', 'joint-explicit')
const arbChange: fc.Arbitrary<MemberChange> = fc.oneof(
  { arbitrary: fc.constant<MemberChange>({ changes: [] }), weight: 1 },
  {
    arbitrary: fc
      .record({ changes: fc.array(arbOp, { minLength: 1, maxLength: 4 }), transition: arbTransition })
      .map(({ changes, transition }): MemberChange => (transition ? { changes, transition } : { changes })),
    weight: 4,
  },
)
const arbStart = fc.uniqueArray(arbNode, { minLength: 1, maxLength: 5 }).map(bootstrap)
/** arbConfig: a configuration reached from a bootstrap by random valid changes. */
const arbConfig = fc.tuple(arbStart, fc.array(arbChange, { maxLength: 8 })).map(([m, changes]) => {
  for (const c of changes) {
    const o = applyMemberChange(m, c)
    if (o.ok) m = o.membership
  }
  return m
})
/** arbPlainConfig: a non-joint configuration (left, if needed). */
const arbPlainConfig = arbConfig.map((m) =>
  isJoint(m) ? expectOk(applyMemberChange(m, { changes: [] })) : m,
)

describe('raft/membership: properties', () => {
  it('keeps the invariants of Membership after any sequence of changes, and never mutates its input', () => {
    fc.assert(
      fc.property(arbStart, fc.array(arbChange, { maxLength: 12 }), (start, changes) => {
        let m = start
        checkInvariants(m)
        for (const c of changes) {
          const before = structuredClone(m)
          const o = applyMemberChange(m, c)
          assert.deepEqual(m, before)
          if (o.ok) m = o.membership
          checkInvariants(m)
        }
      }),
      { numRuns: 300 },
    )
  })

  it('a joint or joint-explicit change enters a joint config whose outgoing half is the previous voters', () => {
    fc.assert(
      fc.property(
        arbPlainConfig,
        fc.array(arbOp, { minLength: 1, maxLength: 4 }),
        fc.constantFrom<Transition>('joint', 'joint-explicit'),
        (m, changes, transition) => {
          const o = applyMemberChange(m, { changes, transition })
          if (!o.ok) return
          assert.ok(isJoint(o.membership))
          assert.deepEqual(o.membership.votersOutgoing, m.voters)
          assert.equal(o.membership.autoLeave, transition === 'joint')
        },
      ),
      { numRuns: 300 },
    )
  })

  it('auto: a change of more than one voter is joint (left automatically), of at most one is not', () => {
    fc.assert(
      fc.property(
        arbPlainConfig,
        fc.array(arbOp, { minLength: 1, maxLength: 4 }),
        fc.boolean(),
        (m, changes, spellOut) => {
          const o = applyMemberChange(m, spellOut ? { changes, transition: 'auto' } : { changes })
          if (!o.ok) return
          const next = o.membership
          if (symdiff(m.voters, next.voters) > 1) {
            assert.ok(isJoint(next), `${JSON.stringify(m)} -> ${JSON.stringify(next)} is not joint`)
            assert.deepEqual(next.votersOutgoing, m.voters)
            assert.equal(next.autoLeave, true)
          } else {
            assert.ok(!isJoint(next), `${JSON.stringify(next)} is joint for a simple change`)
          }
        },
      ),
      { numRuns: 300 },
    )
  })

  it('after entering and leaving, voters and learners are what plain sets predict', () => {
    fc.assert(
      fc.property(
        arbPlainConfig,
        fc.array(arbOp, { minLength: 1, maxLength: 5 }),
        arbTransition,
        (m, changes, transition) => {
          const want = refApply(m.voters, m.learners, changes)
          const o = applyMemberChange(m, transition ? { changes, transition } : { changes })
          if (want.voters.length === 0) {
            expectRefused(o, /every voter/)
            return
          }
          let next = expectOk(o)
          // While joint, the incoming half is already the predicted voter set.
          assert.deepEqual(next.voters, want.voters)
          if (isJoint(next)) next = expectOk(applyMemberChange(next, { changes: [] }))
          assert.deepEqual({ voters: next.voters, learners: next.learners }, want)
          checkInvariants(next)
        },
      ),
      { numRuns: 500 },
    )
  })

  it('applies the same change to the same configuration the same way (replicas agree)', () => {
    fc.assert(
      fc.property(arbConfig, arbChange, (m, c) => {
        assert.deepEqual(applyMemberChange(structuredClone(m), c), applyMemberChange(m, c))
      }),
    )
  })
})
