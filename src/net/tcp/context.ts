import type { NodeId } from '../../core/ids.js'
import type { Logger } from '../../core/logger.js'
import type { PeerMessage } from '../../engines/engine.js'
import type { MessageCodec, TcpTransportOptions } from './options.js'

/** TransportCounters are the transport-wide counters of stats(); links and handshakes add to them. */
export interface TransportCounters {
  /** refusedHandshakes counts well-formed Hellos we turned away (other cluster, unknown member…). */
  refusedHandshakes: number
  /** badFrames counts connections closed for the peer's bad input: garbage, oversize, truncation. */
  badFrames: number
  /** droppedUnknownMsgs counts messages for a destination that is not a peer. */
  droppedUnknownMsgs: number
}

/** TransportContext is what every part of one transport shares: its identity, config and counters. */
export interface TransportContext<M extends PeerMessage> {
  readonly selfId: NodeId
  /** clusterId in lowercase hex, as logs and handshakes show it. */
  readonly clusterId: string
  readonly clusterIdBytes: Uint8Array
  readonly codec: MessageCodec<M>
  readonly onMessage: (m: M) => void
  readonly log: Logger
  readonly options: TcpTransportOptions
  readonly counters: TransportCounters
}
