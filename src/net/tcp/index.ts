/**
 * net/tcp: the real peer transport (DESIGN.md, "Source layout"). The public API is TcpTransport
 * and its config types; the rest of the folder is its parts, exported for tests.
 */
export type { MessageCodec, PeerAddress, TcpTransportConfig, TcpTransportOptions } from './options.js'
export { DEFAULT_TCP_OPTIONS, formatAddress } from './options.js'
export type { PeerStats } from './peer-link.js'
export { HANDSHAKES_PENDING_MAX, TcpTransport, type TcpTransportStats } from './transport.js'
