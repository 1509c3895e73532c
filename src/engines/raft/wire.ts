import { assertNever } from '../../core/assert.js'
import { BinaryReader, BinaryWriter, CodecError, decodeExactly } from '../../core/codec.js'
import { type Index, readId } from '../../core/ids.js'
import {
  entryBytes,
  readBranded,
  readCount,
  readEntry,
  readIndex,
  readNodeId,
  readSnapshot,
  readTerm,
  snapshotBytes,
  uvarintBytes,
  writeEntry,
  writeSnapshot,
} from '../codec.js'
import type { Entry } from '../engine.js'
import { RAFT_MESSAGE_TYPES, type RaftMessage, type RaftMessageType } from './messages.js'

/**
 * Raft's wire format. A message is one type byte (its position in RAFT_MESSAGE_TYPES, so that
 * list is append-only), then `from`, `to`, `term` as uvarints, then the variant's fields in the
 * order they are declared in messages.ts. Hand-written rather than JSON or msgpack because every
 * heartbeat and append passes through here.
 *
 * Decoding validates as engines/codec.ts does: anything malformed throws CodecError. On top of
 * that a MsgApp's entries must carry consecutive indexes starting at prevIndex + 1, as Raft sends
 * them (§5.3); the encoder refuses a message that breaks this, so the bug shows at the sender.
 */

const TYPE_BYTE = new Map<RaftMessageType, number>(RAFT_MESSAGE_TYPES.map((t, i) => [t, i]))

/** writeRaftMessage appends `m` to `w`; with readRaftMessage it lets a frame carry a batch. */
export function writeRaftMessage(w: BinaryWriter, m: RaftMessage): void {
  const tb = TYPE_BYTE.get(m.type)
  if (tb === undefined) throw new CodecError(`cannot encode unknown raft message type ${String(m.type)}`)
  w.u8(tb).uvarint(m.from).uvarint(m.to).uvarint(m.term)
  switch (m.type) {
    case 'MsgApp':
      checkConsecutive(m.prevIndex, m.entries)
      w.uvarint(m.prevIndex).uvarint(m.prevTerm).uvarint(m.commit).uvarint(m.entries.length)
      for (const e of m.entries) writeEntry(w, e)
      return
    case 'MsgAppResp':
      w.uvarint(m.index).bool(m.reject).uvarint(m.hintIndex).uvarint(m.hintTerm)
      return
    case 'MsgVote':
    case 'MsgPreVote':
      w.uvarint(m.lastIndex).uvarint(m.lastTerm).bool(m.transfer)
      return
    case 'MsgVoteResp':
    case 'MsgPreVoteResp':
      w.bool(m.reject)
      return
    case 'MsgSnap':
      writeSnapshot(w, m.snapshot)
      return
    case 'MsgHeartbeat':
      w.uvarint(m.commit).uvarint(m.readSeq)
      return
    case 'MsgHeartbeatResp':
      w.uvarint(m.readSeq)
      return
    case 'MsgTimeoutNow':
      return
    case 'MsgReadIndex':
      w.uvarint(m.readId)
      return
    case 'MsgReadIndexResp':
      w.uvarint(m.readId).uvarint(m.index)
      return
    default:
      assertNever(m, 'raft message')
  }
}

/** readRaftMessage reads one message written by writeRaftMessage; it may be followed by more. */
export function readRaftMessage(r: BinaryReader): RaftMessage {
  const at = r.offset
  const tb = r.u8()
  const type = RAFT_MESSAGE_TYPES[tb]
  if (type === undefined) throw new CodecError(`unknown raft message type ${tb} at offset ${at}`)
  const from = readNodeId(r, 'raft message sender')
  const to = readNodeId(r, 'raft message receiver')
  const t = readTerm(r, 'raft message term')
  switch (type) {
    case 'MsgApp': {
      const prevIndex = readIndex(r, 'MsgApp prevIndex')
      const prevTerm = readTerm(r, 'MsgApp prevTerm')
      const commit = readIndex(r, 'MsgApp commit')
      const n = readCount(r, 'MsgApp entries')
      const entries: Entry[] = []
      for (let i = 0; i < n; i++) entries.push(readEntry(r))
      checkConsecutive(prevIndex, entries)
      return { type, from, to, term: t, prevIndex, prevTerm, entries, commit }
    }
    case 'MsgAppResp': {
      const idx = readIndex(r, 'MsgAppResp index')
      const reject = r.bool()
      const hintIndex = readIndex(r, 'MsgAppResp hintIndex')
      const hintTerm = readTerm(r, 'MsgAppResp hintTerm')
      return { type, from, to, term: t, index: idx, reject, hintIndex, hintTerm }
    }
    case 'MsgVote':
    case 'MsgPreVote': {
      const lastIndex = readIndex(r, `${type} lastIndex`)
      const lastTerm = readTerm(r, `${type} lastTerm`)
      return { type, from, to, term: t, lastIndex, lastTerm, transfer: r.bool() }
    }
    case 'MsgVoteResp':
    case 'MsgPreVoteResp':
      return { type, from, to, term: t, reject: r.bool() }
    case 'MsgSnap':
      return { type, from, to, term: t, snapshot: readSnapshot(r) }
    case 'MsgHeartbeat': {
      const commit = readIndex(r, 'MsgHeartbeat commit')
      return { type, from, to, term: t, commit, readSeq: r.uvarint() }
    }
    case 'MsgHeartbeatResp':
      return { type, from, to, term: t, readSeq: r.uvarint() }
    case 'MsgTimeoutNow':
      return { type, from, to, term: t }
    case 'MsgReadIndex':
      return { type, from, to, term: t, readId: readBranded(r, 'MsgReadIndex readId', readId) }
    case 'MsgReadIndexResp': {
      const rid = readBranded(r, 'MsgReadIndexResp readId', readId)
      return { type, from, to, term: t, readId: rid, index: readIndex(r, 'MsgReadIndexResp index') }
    }
    default:
      return assertNever(type, 'raft message type')
  }
}

/** encodeRaftMessage returns the bytes of one message, allocated at their exact size. */
export function encodeRaftMessage(m: RaftMessage): Uint8Array {
  const w = new BinaryWriter(raftMessageBytes(m))
  writeRaftMessage(w, m)
  return w.finish()
}

/** decodeRaftMessage decodes exactly one message; trailing bytes are an error. */
export function decodeRaftMessage(b: Uint8Array): RaftMessage {
  return decodeExactly(readRaftMessage, b, 'raft message')
}

/**
 * encodeRaftMessages packs a batch (e.g. everything for one peer from one Ready) into one frame:
 * a count, then the messages back to back.
 */
export function encodeRaftMessages(ms: readonly RaftMessage[]): Uint8Array {
  let size = uvarintBytes(ms.length)
  for (const m of ms) size += raftMessageBytes(m)
  const w = new BinaryWriter(size)
  w.uvarint(ms.length)
  for (const m of ms) writeRaftMessage(w, m)
  return w.finish()
}

/** decodeRaftMessages is the inverse of encodeRaftMessages; trailing bytes are an error. */
export function decodeRaftMessages(b: Uint8Array): RaftMessage[] {
  const r = new BinaryReader(b)
  const n = readCount(r, 'raft message batch')
  const out: RaftMessage[] = []
  for (let i = 0; i < n; i++) out.push(readRaftMessage(r))
  r.expectEnd('raft message batch')
  return out
}

/**
 * raftMessageBytes is the exact encoded size of `m`, computed without encoding it: for flow
 * control (msgBytesMax, batching per peer) and so that encodeRaftMessage allocates once.
 */
export function raftMessageBytes(m: RaftMessage): number {
  const head = 1 + uvarintBytes(m.from) + uvarintBytes(m.to) + uvarintBytes(m.term)
  switch (m.type) {
    case 'MsgApp': {
      let n = head + uvarintBytes(m.prevIndex) + uvarintBytes(m.prevTerm) + uvarintBytes(m.commit)
      n += uvarintBytes(m.entries.length)
      for (const e of m.entries) n += entryBytes(e)
      return n
    }
    case 'MsgAppResp':
      return head + uvarintBytes(m.index) + 1 + uvarintBytes(m.hintIndex) + uvarintBytes(m.hintTerm)
    case 'MsgVote':
    case 'MsgPreVote':
      return head + uvarintBytes(m.lastIndex) + uvarintBytes(m.lastTerm) + 1
    case 'MsgVoteResp':
    case 'MsgPreVoteResp':
      return head + 1
    case 'MsgSnap':
      return head + snapshotBytes(m.snapshot)
    case 'MsgHeartbeat':
      return head + uvarintBytes(m.commit) + uvarintBytes(m.readSeq)
    case 'MsgHeartbeatResp':
      return head + uvarintBytes(m.readSeq)
    case 'MsgTimeoutNow':
      return head
    case 'MsgReadIndex':
      return head + uvarintBytes(m.readId)
    case 'MsgReadIndexResp':
      return head + uvarintBytes(m.readId) + uvarintBytes(m.index)
    default:
      return assertNever(m, 'raft message')
  }
}

function checkConsecutive(prevIndex: Index, entries: readonly Entry[]): void {
  for (let i = 0; i < entries.length; i++) {
    const want = prevIndex + 1 + i
    const got = (entries[i] as Entry).index
    if (got !== want)
      throw new CodecError(`MsgApp entry ${i} has index ${got}, want ${want} (prevIndex + ${i + 1})`)
  }
}
