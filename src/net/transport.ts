import type { PeerMessage } from '../engines/engine.js'

/**
 * The transport contract: how a host hands messages to its peers. Implementations: TCP for the
 * real node (net/tcp/, a later milestone) and the simulated network (sim/network.ts). Delivery
 * is best effort — messages may be lost, duplicated or reordered, and engines are built for
 * that. Inbound messages reach the host through Host.receive, called by whoever owns the
 * transport.
 */
export interface Transport<M extends PeerMessage = PeerMessage> {
  /** send queues messages for their destinations; it never blocks and never throws on a peer's fault. */
  send(messages: readonly M[]): void
}
