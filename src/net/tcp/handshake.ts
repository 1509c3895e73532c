import { assertNever } from '../../core/assert.js'
import { BinaryReader, BinaryWriter, CodecError } from '../../core/codec.js'
import type { NodeId } from '../../core/ids.js'
import { readNodeId } from '../../engines/codec.js'
import { memberName } from './options.js'

/**
 * The handshake that opens every peer connection. The dialer's first frame is a Hello:
 *
 *   "SYND" | u8 kind=1 | uvarint version | clusterId (8 bytes) | uvarint from | uvarint to
 *
 * and the acceptor's first frame is a Reply:
 *
 *   "SYND" | u8 kind=2 | uvarint version | clusterId (8 bytes) | uvarint from | u8 verdict | string detail
 *
 * where `from` is the acceptor's own id and verdict 0 accepts; any other verdict is a Refusal
 * code and the acceptor closes the connection after sending it. Only after an accepting Reply do
 * either side's data frames follow. Both messages begin with magic, kind and version so that a
 * later version can change what follows and still be refused with a clear reason by this one.
 */

export const PROTOCOL_VERSION = 1
/** HANDSHAKE_BYTES_MAX bounds a handshake frame, so garbage cannot make us buffer a data frame's worth. */
export const HANDSHAKE_BYTES_MAX = 512
const MAGIC = Uint8Array.from([0x53, 0x59, 0x4e, 0x44]) // "SYND"
const KIND_HELLO = 1
const KIND_REPLY = 2
const CLUSTER_ID_BYTES = 8

export interface Hello {
  readonly version: number
  readonly clusterId: string
  readonly from: NodeId
  readonly to: NodeId
}

/** Refusal names why an acceptor turned a dialer away; the codes are append-only. */
export type Refusal = 'version' | 'cluster' | 'unknown-member' | 'wrong-member' | 'wrong-direction'
const REFUSALS: readonly Refusal[] = [
  'version',
  'cluster',
  'unknown-member',
  'wrong-member',
  'wrong-direction',
]

export interface Reply {
  readonly version: number
  readonly clusterId: string
  readonly from: NodeId
  /** refusal is undefined when the connection is accepted. */
  readonly refusal: Refusal | undefined
  /** detail is the acceptor's own account of a refusal, for the dialer's log. */
  readonly detail: string
}

function writeHeader(w: BinaryWriter, kind: number, version: number, clusterId: Uint8Array): void {
  w.raw(MAGIC).u8(kind).uvarint(version).raw(clusterId)
}

/** readHeader checks magic and kind and returns the version; anything else throws CodecError. */
function readHeader(r: BinaryReader, kind: number, what: string): number {
  const magic = r.raw(MAGIC.length)
  if (!magic.every((b, i) => b === MAGIC[i])) throw new CodecError(`${what}: bad magic (not a synod peer)`)
  const k = r.u8()
  if (k !== kind) throw new CodecError(`${what}: kind ${k}, want ${kind}`)
  return r.uvarint()
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')

export function encodeHello(clusterId: Uint8Array, from: NodeId, to: NodeId): Uint8Array {
  const w = new BinaryWriter(64)
  writeHeader(w, KIND_HELLO, PROTOCOL_VERSION, clusterId)
  w.uvarint(from).uvarint(to)
  return w.finish()
}

/**
 * decodeHello reads a dialer's first frame. A Hello of another version is returned with only its
 * version filled in (clusterId '', ids 0): its layout is not ours to parse. Throws CodecError on
 * anything that is not a Hello at all.
 */
export function decodeHello(b: Uint8Array): Hello {
  const r = new BinaryReader(b)
  const version = readHeader(r, KIND_HELLO, 'hello')
  if (version !== PROTOCOL_VERSION) return { version, clusterId: '', from: 0 as NodeId, to: 0 as NodeId }
  const clusterId = hex(r.raw(CLUSTER_ID_BYTES))
  const from = readNodeId(r, 'hello from')
  const to = readNodeId(r, 'hello to')
  r.expectEnd('hello')
  return { version, clusterId, from, to }
}

export function encodeReply(
  clusterId: Uint8Array,
  from: NodeId,
  refusal: Refusal | undefined,
  detail: string,
): Uint8Array {
  const w = new BinaryWriter(128)
  writeHeader(w, KIND_REPLY, PROTOCOL_VERSION, clusterId)
  w.uvarint(from).u8(refusal === undefined ? 0 : REFUSALS.indexOf(refusal) + 1)
  // The detail is for humans; cut it so that the reply always fits in a handshake frame.
  w.string(detail.slice(0, HANDSHAKE_BYTES_MAX / 4))
  return w.finish()
}

/** decodeReply reads an acceptor's first frame; throws CodecError unless it is a well-formed Reply. */
export function decodeReply(b: Uint8Array): Reply {
  const r = new BinaryReader(b)
  const version = readHeader(r, KIND_REPLY, 'handshake reply')
  const clusterId = hex(r.raw(CLUSTER_ID_BYTES))
  const from = readNodeId(r, 'handshake reply from')
  const verdict = r.u8()
  const refusal = verdict === 0 ? undefined : REFUSALS[verdict - 1]
  if (verdict !== 0 && refusal === undefined)
    throw new CodecError(`handshake reply: unknown verdict ${verdict}`)
  const detail = r.string()
  r.expectEnd('handshake reply')
  return { version, clusterId, from, refusal, detail }
}

/** AcceptorView is what an acceptor knows when it judges a Hello. */
export interface AcceptorView {
  readonly clusterId: string
  readonly selfId: NodeId
  readonly isPeer: (id: NodeId) => boolean
}

/**
 * judgeHello decides whether an acceptor takes a connection: same version and cluster, addressed
 * to this member, from a member it knows, and from the smaller id of the pair (the smaller id
 * dials, so a dial from a larger id means the two sides disagree on who dials whom). Returns
 * undefined to accept, else the refusal and a sentence for the acceptor's log.
 */
export function judgeHello(h: Hello, self: AcceptorView): { refusal: Refusal; why: string } | undefined {
  if (h.version !== PROTOCOL_VERSION)
    return {
      refusal: 'version',
      why: `protocol version mismatch (ours ${PROTOCOL_VERSION}, theirs ${h.version})`,
    }
  if (h.clusterId !== self.clusterId)
    return { refusal: 'cluster', why: `cluster id mismatch (ours ${self.clusterId}, theirs ${h.clusterId})` }
  if (h.to !== self.selfId)
    return {
      refusal: 'wrong-member',
      why: `it dialed member ${memberName(h.to)} but this is member ${memberName(self.selfId)}`,
    }
  if (!self.isPeer(h.from))
    return { refusal: 'unknown-member', why: `member ${memberName(h.from)} is not a known peer` }
  if (h.from > self.selfId)
    return {
      refusal: 'wrong-direction',
      why: `member ${memberName(h.from)} has the larger id, so it should accept, not dial`,
    }
  return undefined
}

/** describeRefusal is the dialer's account of a refusal, from its own side ("ours" = the dialer's). */
export function describeRefusal(reply: Reply, ours: { clusterId: string; selfId: NodeId }): string {
  switch (reply.refusal) {
    case 'version':
      return `protocol version mismatch (ours ${PROTOCOL_VERSION}, theirs ${reply.version})`
    case 'cluster':
      return `cluster id mismatch (ours ${ours.clusterId}, theirs ${reply.clusterId})`
    case 'unknown-member':
      return `we (member ${memberName(ours.selfId)}) are not among its peers`
    case 'wrong-member':
      return `it is member ${memberName(reply.from)}, not the member we dialed`
    case 'wrong-direction':
      return `it expects to dial us (the smaller id dials, ours is ${memberName(ours.selfId)})`
    case undefined:
      return 'not refused'
    default:
      return assertNever(reply.refusal, 'refusal')
  }
}
