import { BinaryReader, BinaryWriter, CodecError, decodeExactly, encodeWith } from '../core/codec.js'
import { type Index, index, NO_NODE, type NodeId, nodeId, type Term, term } from '../core/ids.js'
import type {
  Entry,
  EntryType,
  HardState,
  MemberChange,
  MemberChangeOp,
  Membership,
  Snapshot,
  SnapshotMeta,
} from './engine.js'

/**
 * The binary forms of the engine contract's types, shared by every engine's wire format, the WAL
 * and snapshot files. Integers are uvarints, byte strings length-prefixed, enums one byte.
 *
 * Decoders trust nothing: an unknown enum byte, an id out of range, a duplicate member, a
 * truncated buffer or (for the decodeX forms) trailing bytes all throw CodecError — never another
 * error type and never a wrong value. Byte fields of decoded values (`data`, `context`) are views
 * into the input buffer, not copies: zero-copy on the hot path, so the caller must not overwrite
 * a buffer it has decoded from while the values are still in use.
 */

// ---- ids: brand, but report bad input as CodecError rather than core/ids' RangeError ----------

export function readTerm(r: BinaryReader, what: string): Term {
  return readBranded(r, what, term)
}

export function readIndex(r: BinaryReader, what: string): Index {
  return readBranded(r, what, index)
}

/** readNodeId reads a node id, which must be >= 1 (a member, a sender, a receiver). */
export function readNodeId(r: BinaryReader, what: string): NodeId {
  return readBranded(r, what, nodeId)
}

/** readNodeIdOrNone reads a node id that may be NO_NODE (0): a vote, a leader hint. */
export function readNodeIdOrNone(r: BinaryReader, what: string): NodeId {
  const at = r.offset
  const n = r.uvarint()
  return n === 0 ? NO_NODE : checkedBrand(n, at, what, nodeId)
}

/**
 * readBranded reads a uvarint and brands it with one of core/ids' constructors, turning the
 * RangeError they throw for a value out of range into a CodecError naming `what`.
 */
export function readBranded<T>(r: BinaryReader, what: string, brand: (n: number) => T): T {
  const at = r.offset
  return checkedBrand(r.uvarint(), at, what, brand)
}

function checkedBrand<T>(n: number, at: number, what: string, brand: (n: number) => T): T {
  try {
    return brand(n)
  } catch (e) {
    throw new CodecError(`bad ${what} at offset ${at}: ${e instanceof Error ? e.message : String(e)}`)
  }
}

// ---- sizes: so that hosts can budget bytes (msgBytesMax) and writers allocate once ------------

/** uvarintBytes is the length of the LEB128 encoding of a non-negative safe integer. */
export function uvarintBytes(v: number): number {
  let n = 1
  while (v >= 0x80) {
    v = Math.floor(v / 0x80)
    n++
  }
  return n
}

/** bytesFieldBytes is the encoded size of a length-prefixed byte string. */
export function bytesFieldBytes(b: Uint8Array): number {
  return uvarintBytes(b.length) + b.length
}

/**
 * readCount reads an element count for a list. Every element takes at least one byte, so a count
 * larger than the bytes left is malformed; rejecting it early means garbage cannot make us loop
 * or allocate in proportion to a forged count.
 */
export function readCount(r: BinaryReader, what: string): number {
  const at = r.offset
  const n = r.uvarint()
  if (n > r.remaining)
    throw new CodecError(`${what}: count ${n} at offset ${at} exceeds the ${r.remaining} bytes left`)
  return n
}

/** readEnum reads one byte naming a member of `values` by its position. */
function readEnum<T>(r: BinaryReader, values: readonly T[], what: string): T {
  const at = r.offset
  const b = r.u8()
  // Bounds, not `=== undefined`: a table may hold undefined on purpose (an absent optional field).
  if (b >= values.length) throw new CodecError(`unknown ${what} ${b} at offset ${at}`)
  return values[b] as T
}

function writeEnum<T>(w: BinaryWriter, values: readonly T[], v: T, what: string): void {
  const b = values.indexOf(v)
  // Writing happens on our own values; an unknown one is a programmer error, but still a CodecError
  // so that callers need to handle only one error type from this module.
  if (b < 0) throw new CodecError(`cannot encode unknown ${what} ${String(v)}`)
  w.u8(b)
}

// ---- Entry ----------------------------------------------------------------------------------

/** ENTRY_TYPES: the byte of an entry type is its position here. Append only. */
const ENTRY_TYPES: readonly EntryType[] = ['normal', 'config']

/** writeEntry writes term, index, type byte and length-prefixed data. */
export function writeEntry(w: BinaryWriter, e: Entry): void {
  w.uvarint(e.term).uvarint(e.index)
  writeEnum(w, ENTRY_TYPES, e.type, 'entry type')
  w.bytes(e.data)
}

export function readEntry(r: BinaryReader): Entry {
  const t = readTerm(r, 'entry term')
  const i = readIndex(r, 'entry index')
  const type = readEnum(r, ENTRY_TYPES, 'entry type')
  const data = r.bytes()
  return { term: t, index: i, type, data }
}

/** entryBytes is the exact encoded size of `e`, computed without encoding it. */
export function entryBytes(e: Entry): number {
  return uvarintBytes(e.term) + uvarintBytes(e.index) + 1 + bytesFieldBytes(e.data)
}

export function encodeEntry(e: Entry): Uint8Array {
  return encodeWith(writeEntry, e, entryBytes(e))
}

export function decodeEntry(b: Uint8Array): Entry {
  return decodeExactly(readEntry, b, 'entry')
}

// ---- HardState ------------------------------------------------------------------------------

export function writeHardState(w: BinaryWriter, h: HardState): void {
  w.uvarint(h.term).uvarint(h.vote).uvarint(h.commit)
}

export function readHardState(r: BinaryReader): HardState {
  const t = readTerm(r, 'hard state term')
  const vote = readNodeIdOrNone(r, 'hard state vote')
  const commit = readIndex(r, 'hard state commit')
  return { term: t, vote, commit }
}

// ---- Membership -----------------------------------------------------------------------------

function writeNodeList(w: BinaryWriter, ids: readonly NodeId[]): void {
  w.uvarint(ids.length)
  for (const id of ids) w.uvarint(id)
}

/** readNodeList reads a list of distinct node ids, each >= 1. */
function readNodeList(r: BinaryReader, what: string): NodeId[] {
  const n = readCount(r, what)
  const out: NodeId[] = []
  const seen = new Set<number>()
  for (let i = 0; i < n; i++) {
    const id = readNodeId(r, `${what} member`)
    if (seen.has(id)) throw new CodecError(`${what}: duplicate node ${id} before offset ${r.offset}`)
    seen.add(id)
    out.push(id)
  }
  return out
}

/** writeMembership writes the four node lists in declaration order, then autoLeave. */
export function writeMembership(w: BinaryWriter, m: Membership): void {
  writeNodeList(w, m.voters)
  writeNodeList(w, m.votersOutgoing)
  writeNodeList(w, m.learners)
  writeNodeList(w, m.learnersNext)
  w.bool(m.autoLeave)
}

/** membershipBytes is the exact encoded size of `m`. */
export function membershipBytes(m: Membership): number {
  return (
    nodeListBytes(m.voters) +
    nodeListBytes(m.votersOutgoing) +
    nodeListBytes(m.learners) +
    nodeListBytes(m.learnersNext) +
    1
  )
}

function nodeListBytes(ids: readonly NodeId[]): number {
  let n = uvarintBytes(ids.length)
  for (const id of ids) n += uvarintBytes(id)
  return n
}

/**
 * readMembership checks each list's ids (>= 1, no duplicates within a list). It does not check the
 * relations between lists: those are the configuration logic's invariants, asserted there.
 */
export function readMembership(r: BinaryReader): Membership {
  const voters = readNodeList(r, 'voters')
  const votersOutgoing = readNodeList(r, 'outgoing voters')
  const learners = readNodeList(r, 'learners')
  const learnersNext = readNodeList(r, 'next learners')
  const autoLeave = r.bool()
  return { voters, votersOutgoing, learners, learnersNext, autoLeave }
}

// ---- Snapshot -------------------------------------------------------------------------------

export function writeSnapshotMeta(w: BinaryWriter, m: SnapshotMeta): void {
  w.uvarint(m.index).uvarint(m.term)
  writeMembership(w, m.membership)
}

export function readSnapshotMeta(r: BinaryReader): SnapshotMeta {
  const i = readIndex(r, 'snapshot index')
  const t = readTerm(r, 'snapshot term')
  const membership = readMembership(r)
  return { index: i, term: t, membership }
}

export function writeSnapshot(w: BinaryWriter, s: Snapshot): void {
  writeSnapshotMeta(w, s.meta)
  w.bytes(s.data)
}

export function readSnapshot(r: BinaryReader): Snapshot {
  const meta = readSnapshotMeta(r)
  const data = r.bytes()
  return { meta, data }
}

/** snapshotBytes is the exact encoded size of `s`, computed without encoding it. */
export function snapshotBytes(s: Snapshot): number {
  const m = s.meta
  return (
    uvarintBytes(m.index) + uvarintBytes(m.term) + membershipBytes(m.membership) + bytesFieldBytes(s.data)
  )
}

export function encodeSnapshot(s: Snapshot): Uint8Array {
  const w = new BinaryWriter(snapshotBytes(s))
  writeSnapshot(w, s)
  return w.finish()
}

export function decodeSnapshot(b: Uint8Array): Snapshot {
  return decodeExactly(readSnapshot, b, 'snapshot')
}

// ---- MemberChange ---------------------------------------------------------------------------

const MEMBER_CHANGE_OPS: readonly MemberChangeOp[] = ['addVoter', 'addLearner', 'remove']

type Transition = NonNullable<MemberChange['transition']>
/**
 * TRANSITIONS: byte 0 is "absent" (which means 'auto'), so that a change decodes to exactly the
 * value that was encoded, optional fields included.
 */
const TRANSITIONS: readonly (Transition | undefined)[] = [undefined, 'auto', 'joint', 'joint-explicit']

/** encodeMemberChange: count, (op byte, node) pairs, transition byte, context flag [, context]. */
export function encodeMemberChange(c: MemberChange): Uint8Array {
  const w = new BinaryWriter(16 + c.changes.length * 9 + (c.context?.length ?? 0))
  w.uvarint(c.changes.length)
  for (const ch of c.changes) {
    writeEnum(w, MEMBER_CHANGE_OPS, ch.op, 'member change op')
    w.uvarint(ch.node)
  }
  writeEnum(w, TRANSITIONS, c.transition, 'member change transition')
  w.bool(c.context !== undefined)
  if (c.context !== undefined) w.bytes(c.context)
  return w.finish()
}

/**
 * decodeMemberChange is the inverse of encodeMemberChange. Node ids must be >= 1; whether the
 * changes make sense together (e.g. one node added twice) is for the configuration logic to judge.
 */
export function decodeMemberChange(b: Uint8Array): MemberChange {
  const r = new BinaryReader(b)
  const n = readCount(r, 'member changes')
  const changes: { op: MemberChangeOp; node: NodeId }[] = []
  for (let i = 0; i < n; i++) {
    const op = readEnum(r, MEMBER_CHANGE_OPS, 'member change op')
    changes.push({ op, node: readNodeId(r, 'member change node') })
  }
  const transition = readEnum(r, TRANSITIONS, 'member change transition')
  const context = r.bool() ? r.bytes() : undefined
  r.expectEnd('member change')
  const out: { -readonly [K in keyof MemberChange]: MemberChange[K] } = { changes }
  if (transition !== undefined) out.transition = transition
  if (context !== undefined) out.context = context
  return out
}
