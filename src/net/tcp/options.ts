import type { BinaryReader, BinaryWriter } from '../../core/codec.js'
import type { NodeId } from '../../core/ids.js'
import type { Logger } from '../../core/logger.js'
import type { PeerMessage } from '../../engines/engine.js'

/**
 * MessageCodec turns one engine message into bytes and back. `read` must throw CodecError on
 * malformed input and may be followed by more messages in the same reader (a frame carries a
 * batch). For Raft: `{ write: writeRaftMessage, read: readRaftMessage }`.
 */
export interface MessageCodec<M> {
  write(w: BinaryWriter, m: M): void
  read(r: BinaryReader): M
}

export interface PeerAddress {
  readonly host: string
  readonly port: number
}

export interface TcpTransportOptions {
  /** frameBytesMax bounds one frame's payload, both ways; a bigger inbound frame closes its connection. */
  readonly frameBytesMax: number
  /** queueBytesMax bounds the encoded messages waiting for one peer; past it new messages are dropped. */
  readonly queueBytesMax: number
  /** dialBackoffMinMs is the first reconnect delay; each failure doubles it up to dialBackoffMaxMs. */
  readonly dialBackoffMinMs: number
  readonly dialBackoffMaxMs: number
  /** handshakeTimeoutMs bounds connect + handshake, on both sides. */
  readonly handshakeTimeoutMs: number
}

export const DEFAULT_TCP_OPTIONS: TcpTransportOptions = {
  frameBytesMax: 16 * 1024 * 1024,
  queueBytesMax: 64 * 1024 * 1024,
  dialBackoffMinMs: 50,
  dialBackoffMaxMs: 2_000,
  handshakeTimeoutMs: 5_000,
}

export interface TcpTransportConfig<M extends PeerMessage> {
  /** clusterId is 16 hex digits (a u64), carried in the handshake so clusters cannot cross-talk. */
  readonly clusterId: string
  readonly selfId: NodeId
  /** listen is the only address the transport listens on; port 0 picks a free port. */
  readonly listen: PeerAddress
  /** peers are the other members (an entry for selfId is ignored). */
  readonly peers: ReadonlyMap<NodeId, PeerAddress>
  readonly codec: MessageCodec<M>
  /**
   * onMessage receives inbound messages, decoded and checked (from the connection's peer, to us).
   * It must not throw: it runs in a socket's 'data' handler, so an exception from it is the
   * caller's bug and escapes as an uncaught exception, as a failed assertion would.
   */
  readonly onMessage: (m: M) => void
  readonly log: Logger
  readonly options?: Partial<TcpTransportOptions>
}

/** FRAME_BYTES_MIN: a frame must at least hold a handshake and a small message. */
const FRAME_BYTES_MIN = 1024
/** U32_MAX: the length prefix is a u32. */
const U32_MAX = 0xffff_ffff

/** resolveOptions fills in defaults and throws RangeError unless the options are usable. */
export function resolveOptions(partial: Partial<TcpTransportOptions> | undefined): TcpTransportOptions {
  const o: TcpTransportOptions = { ...DEFAULT_TCP_OPTIONS, ...partial }
  const int = (v: number, min: number, max: number, name: string) => {
    if (!(Number.isSafeInteger(v) && v >= min && v <= max))
      throw new RangeError(`tcp transport: ${name} must be an integer in [${min}, ${max}], got ${v}`)
  }
  int(o.frameBytesMax, FRAME_BYTES_MIN, U32_MAX, 'frameBytesMax')
  int(o.queueBytesMax, 1, Number.MAX_SAFE_INTEGER, 'queueBytesMax')
  int(o.dialBackoffMinMs, 1, Number.MAX_SAFE_INTEGER, 'dialBackoffMinMs')
  int(o.dialBackoffMaxMs, o.dialBackoffMinMs, Number.MAX_SAFE_INTEGER, 'dialBackoffMaxMs')
  int(o.handshakeTimeoutMs, 1, Number.MAX_SAFE_INTEGER, 'handshakeTimeoutMs')
  return o
}

const CLUSTER_ID = /^[0-9a-f]{16}$/

/** parseClusterId returns the 8 bytes of a 16-hex-digit cluster id; throws RangeError otherwise. */
export function parseClusterId(hex: string): Uint8Array {
  const lower = hex.toLowerCase()
  if (!CLUSTER_ID.test(lower))
    throw new RangeError(`tcp transport: clusterId must be 16 hex digits, got '${hex}'`)
  return Uint8Array.from(Buffer.from(lower, 'hex'))
}

/** checkAddress throws RangeError unless `a` is a host and a port number (0 only when `zeroOk`). */
export function checkAddress(a: PeerAddress, what: string, zeroOk: boolean): void {
  if (typeof a.host !== 'string' || a.host === '') throw new RangeError(`tcp transport: ${what} has no host`)
  if (!(Number.isSafeInteger(a.port) && a.port >= (zeroOk ? 0 : 1) && a.port <= 65535))
    throw new RangeError(`tcp transport: ${what} has bad port ${a.port}`)
}

/** formatAddress renders an address for logs, bracketing IPv6 hosts. */
export function formatAddress(a: PeerAddress): string {
  return a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`
}

/**
 * memberName renders a member id for logs as etcd and `synod status` do: lower-case hex. (Stats
 * keys stay decimal, String(id), which is what code that looks them up computes.)
 */
export function memberName(id: NodeId): string {
  return id.toString(16)
}
