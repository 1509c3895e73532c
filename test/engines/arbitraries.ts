import fc from 'fast-check'
import { CodecError } from '../../src/core/codec.js'
import type { Index, NodeId, ReadId, Term } from '../../src/core/ids.js'
import type {
  Entry,
  HardState,
  MemberChange,
  MemberChangeOp,
  Membership,
  Snapshot,
  SnapshotMeta,
} from '../../src/engines/engine.js'
import type { MsgApp, RaftMessage } from '../../src/engines/raft/messages.js'

/**
 * fast-check arbitraries for the engine contract's values and Raft's messages, shared by every test
 * that needs them. Integers mix small values (the common case, 1-byte varints) with the whole safe
 * range (the edges: 2^53 - 1 takes 8 varint bytes).
 */

const noNull = { noNullPrototype: true } as const

/** safeNat: small naturals most of the time, any safe one sometimes, and the two extremes. */
export const safeNat = (min = 0): fc.Arbitrary<number> =>
  fc.oneof(
    { arbitrary: fc.integer({ min, max: min + 20 }), weight: 3 },
    { arbitrary: fc.integer({ min, max: Number.MAX_SAFE_INTEGER }), weight: 2 },
    { arbitrary: fc.constantFrom(min, Number.MAX_SAFE_INTEGER), weight: 1 },
  )

export const arbNodeId: fc.Arbitrary<NodeId> = safeNat(1).map((n) => n as NodeId)
/** arbVote is a node id or NO_NODE (0). */
export const arbVote: fc.Arbitrary<NodeId> = safeNat(0).map((n) => n as NodeId)
export const arbTerm: fc.Arbitrary<Term> = safeNat().map((n) => n as Term)
export const arbIndex: fc.Arbitrary<Index> = safeNat().map((n) => n as Index)
export const arbReadId: fc.Arbitrary<ReadId> = safeNat().map((n) => n as ReadId)
export const arbData: fc.Arbitrary<Uint8Array> = fc.uint8Array({ maxLength: 40 })

export const arbEntryType = fc.constantFrom<Entry['type']>('normal', 'config')

export const arbEntry: fc.Arbitrary<Entry> = fc.record(
  { term: arbTerm, index: arbIndex, type: arbEntryType, data: arbData },
  noNull,
)

/** arbEntriesAfter gives up to `maxLength` entries with consecutive indexes from prevIndex + 1. */
export function arbEntriesAfter(prevIndex: Index, maxLength = 4): fc.Arbitrary<Entry[]> {
  return fc
    .array(fc.record({ term: arbTerm, type: arbEntryType, data: arbData }, noNull), { maxLength })
    .map((es) =>
      es.map((e, i) => ({ term: e.term, index: (prevIndex + 1 + i) as Index, type: e.type, data: e.data })),
    )
}

export const arbHardState: fc.Arbitrary<HardState> = fc.record(
  { term: arbTerm, vote: arbVote, commit: arbIndex },
  noNull,
)

const arbNodeList = fc.uniqueArray(arbNodeId, { maxLength: 6 })

/** arbMembership: each list has distinct ids; the lists' relations are not constrained here. */
export const arbMembership: fc.Arbitrary<Membership> = fc.record(
  {
    voters: arbNodeList,
    votersOutgoing: arbNodeList,
    learners: arbNodeList,
    learnersNext: arbNodeList,
    autoLeave: fc.boolean(),
  },
  noNull,
)

export const arbSnapshotMeta: fc.Arbitrary<SnapshotMeta> = fc.record(
  { index: arbIndex, term: arbTerm, membership: arbMembership },
  noNull,
)

export const arbSnapshot: fc.Arbitrary<Snapshot> = fc.record({ meta: arbSnapshotMeta, data: arbData }, noNull)

export const arbMemberChange: fc.Arbitrary<MemberChange> = fc.record(
  {
    changes: fc.array(
      fc.record(
        { op: fc.constantFrom<MemberChangeOp>('addVoter', 'addLearner', 'remove'), node: arbNodeId },
        noNull,
      ),
      { maxLength: 5 },
    ),
    transition: fc.constantFrom<NonNullable<MemberChange['transition']>>('auto', 'joint', 'joint-explicit'),
    context: arbData,
  },
  { requiredKeys: ['changes'], ...noNull },
)

// ---- Raft messages ----------------------------------------------------------------------------

const envelope = { from: arbNodeId, to: arbNodeId, term: arbTerm }

/** arbMsgApp keeps prevIndex low enough that the entries' indexes stay safe integers. */
export const arbMsgApp: fc.Arbitrary<MsgApp> = fc
  .record(
    {
      ...envelope,
      prevIndex: arbIndex.map((i) => Math.min(i, Number.MAX_SAFE_INTEGER - 10) as Index),
      prevTerm: arbTerm,
      commit: arbIndex,
    },
    noNull,
  )
  .chain((m) => arbEntriesAfter(m.prevIndex).map((entries): MsgApp => ({ type: 'MsgApp', ...m, entries })))

/** arbRaftMessageByType gives arbitraries for each variant, keyed by type, so tests can cover them all. */
export const arbRaftMessageByType: { readonly [T in RaftMessage['type']]: fc.Arbitrary<RaftMessage> } = {
  MsgApp: arbMsgApp,
  MsgAppResp: fc.record(
    {
      type: fc.constant('MsgAppResp' as const),
      ...envelope,
      index: arbIndex,
      reject: fc.boolean(),
      hintIndex: arbIndex,
      hintTerm: arbTerm,
    },
    noNull,
  ),
  MsgVote: arbVoteMsg('MsgVote'),
  MsgPreVote: arbVoteMsg('MsgPreVote'),
  MsgVoteResp: fc.record(
    { type: fc.constant('MsgVoteResp' as const), ...envelope, reject: fc.boolean() },
    noNull,
  ),
  MsgPreVoteResp: fc.record(
    { type: fc.constant('MsgPreVoteResp' as const), ...envelope, reject: fc.boolean() },
    noNull,
  ),
  MsgSnap: fc.record({ type: fc.constant('MsgSnap' as const), ...envelope, snapshot: arbSnapshot }, noNull),
  MsgHeartbeat: fc.record(
    { type: fc.constant('MsgHeartbeat' as const), ...envelope, commit: arbIndex, readSeq: safeNat() },
    noNull,
  ),
  MsgHeartbeatResp: fc.record(
    { type: fc.constant('MsgHeartbeatResp' as const), ...envelope, readSeq: safeNat() },
    noNull,
  ),
  MsgTimeoutNow: fc.record({ type: fc.constant('MsgTimeoutNow' as const), ...envelope }, noNull),
  MsgReadIndex: fc.record(
    { type: fc.constant('MsgReadIndex' as const), ...envelope, readId: arbReadId },
    noNull,
  ),
  MsgReadIndexResp: fc.record(
    { type: fc.constant('MsgReadIndexResp' as const), ...envelope, readId: arbReadId, index: arbIndex },
    noNull,
  ),
}

function arbVoteMsg(type: 'MsgVote' | 'MsgPreVote'): fc.Arbitrary<RaftMessage> {
  return fc.record(
    {
      type: fc.constant(type),
      ...envelope,
      lastIndex: arbIndex,
      lastTerm: arbTerm,
      transfer: fc.boolean(),
    },
    noNull,
  )
}

export const arbRaftMessage: fc.Arbitrary<RaftMessage> = fc.oneof(...Object.values(arbRaftMessageByType))

// ---- garbage: for decoders that must fail only with CodecError ---------------------------------

/** decodeOrCodecError runs `decode` and fails the test if it throws anything but a CodecError. */
export function decodeOrCodecError<T>(decode: () => T): T | CodecError {
  try {
    return decode()
  } catch (e) {
    if (e instanceof CodecError) return e
    throw new Error(`decoder threw a non-CodecError: ${String(e)}`, { cause: e })
  }
}

/** mutate flips, drops or inserts one byte of a valid encoding: garbage that is nearly valid. */
export const arbMutation = fc.record({
  at: fc.nat(),
  byte: fc.integer({ min: 0, max: 255 }),
  kind: fc.nat(2),
})

export function mutate(b: Uint8Array, m: { at: number; byte: number; kind: number }): Uint8Array {
  const at = m.at % (b.length + 1)
  const arr = Array.from(b)
  if (m.kind === 0 && at < arr.length) arr[at] = m.byte
  else if (m.kind === 1 && at < arr.length) arr.splice(at, 1)
  else arr.splice(at, 0, m.byte)
  return Uint8Array.from(arr)
}
