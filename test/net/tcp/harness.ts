import { connect, type Socket } from 'node:net'
import { type Index, type NodeId, nodeId, type Term } from '../../../src/core/ids.js'
import { type Logger, recordingLogger, silentLogger } from '../../../src/core/logger.js'
import type { MsgApp, MsgHeartbeat, RaftMessage } from '../../../src/engines/raft/messages.js'
import { readRaftMessage, writeRaftMessage } from '../../../src/engines/raft/wire.js'
import { encodeFrame, FRAME_HEADER_BYTES } from '../../../src/net/tcp/frame.js'
import { decodeReply, encodeHello, type Reply } from '../../../src/net/tcp/handshake.js'
import {
  type PeerAddress,
  TcpTransport,
  type TcpTransportConfig,
  type TcpTransportOptions,
} from '../../../src/net/tcp/index.js'

/**
 * The harness of the TCP transport tests: real transports on 127.0.0.1 with ephemeral ports,
 * exchanging real Raft messages through the Raft codec, and a raw socket that speaks the
 * protocol by hand (or fails to) to play a misbehaving peer.
 */

export const CLUSTER = '5e1ec7ed0000c0de'
export const OTHER_CLUSTER = 'baadf00d00000001'
export const LOCAL = '127.0.0.1'
export const raftCodec = { write: writeRaftMessage, read: readRaftMessage }

/** FAST: timings for tests — quick reconnects and handshake timeouts. */
export const FAST: Partial<TcpTransportOptions> = {
  dialBackoffMinMs: 10,
  dialBackoffMaxMs: 80,
  handshakeTimeoutMs: 1_000,
}

export interface TestNode {
  readonly id: NodeId
  readonly transport: TcpTransport<RaftMessage>
  readonly got: RaftMessage[]
  readonly log: ReturnType<typeof recordingLogger>
  readonly address: () => PeerAddress
}

export interface NodeSpec {
  readonly id: number
  readonly clusterId?: string
  readonly port?: number
  readonly peers?: ReadonlyMap<NodeId, PeerAddress>
  readonly options?: Partial<TcpTransportOptions>
  readonly log?: Logger
}

/** startNode starts one transport listening on 127.0.0.1 (port 0 unless given). */
export async function startNode(spec: NodeSpec): Promise<TestNode> {
  const got: RaftMessage[] = []
  const log = recordingLogger()
  const cfg: TcpTransportConfig<RaftMessage> = {
    clusterId: spec.clusterId ?? CLUSTER,
    selfId: nodeId(spec.id),
    listen: { host: LOCAL, port: spec.port ?? 0 },
    peers: spec.peers ?? new Map(),
    codec: raftCodec,
    onMessage: (m) => got.push(m),
    log,
    options: { ...FAST, ...spec.options },
  }
  const transport = new TcpTransport(cfg)
  await transport.start()
  return { id: cfg.selfId, transport, got, log, address: () => transport.address() }
}

/** startCluster starts `n` members (ids 1..n) and tells each about the others. */
export async function startCluster(n: number, options?: Partial<TcpTransportOptions>): Promise<TestNode[]> {
  const nodes: TestNode[] = []
  for (let i = 1; i <= n; i++) nodes.push(await startNode({ id: i, options }))
  for (const node of nodes) node.transport.setPeers(peersOf(nodes, node.id))
  return nodes
}

/** peersOf maps every node but `self` to its address. */
export function peersOf(nodes: readonly TestNode[], self: NodeId): Map<NodeId, PeerAddress> {
  return new Map(nodes.filter((n) => n.id !== self).map((n) => [n.id, n.address()]))
}

export async function closeAll(nodes: readonly (TestNode | undefined)[]): Promise<void> {
  await Promise.all(nodes.map((n) => n?.transport.close()))
}

/** waitFor polls `cond` every few milliseconds until it holds, or fails after `timeoutMs`. */
export async function waitFor(cond: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = performance.now() + timeoutMs
  while (!cond()) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await sleep(5)
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

export function heartbeat(from: NodeId, to: NodeId, seq: number): MsgHeartbeat {
  return { type: 'MsgHeartbeat', from, to, term: 3 as Term, commit: seq as Index, readSeq: seq }
}

/** append is a MsgApp of one entry with `dataBytes` bytes of payload. */
export function append(from: NodeId, to: NodeId, index: number, dataBytes = 16): MsgApp {
  const data = new Uint8Array(dataBytes).fill(index & 0xff)
  return {
    type: 'MsgApp',
    from,
    to,
    term: 3 as Term,
    prevIndex: (index - 1) as Index,
    prevTerm: 3 as Term,
    entries: [{ term: 3 as Term, index: index as Index, type: 'normal', data }],
    commit: 0 as Index,
  }
}

export const connectedTo = (node: TestNode, peer: NodeId): boolean =>
  node.transport.stats().perPeer[String(peer)]?.connected === true

export const quietLogger = silentLogger

/**
 * RawPeer is a hand-driven socket to a transport's listener: it can send a Hello, read the Reply,
 * then write whatever bytes a test wants — or stop reading altogether.
 */
export class RawPeer {
  private received = Buffer.alloc(0)
  private closedFlag = false
  readonly closed: Promise<void>

  private constructor(readonly socket: Socket) {
    socket.on('data', (b: Buffer) => {
      this.received = Buffer.concat([this.received, b])
    })
    socket.on('error', () => {})
    this.closed = new Promise((resolve) =>
      socket.on('close', () => {
        this.closedFlag = true
        resolve()
      }),
    )
  }

  static async connect(to: PeerAddress): Promise<RawPeer> {
    const socket = connect({ host: to.host, port: to.port })
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve)
      socket.once('error', reject)
    })
    return new RawPeer(socket)
  }

  get isClosed(): boolean {
    return this.closedFlag
  }

  write(bytes: Uint8Array): void {
    if (!this.closedFlag) this.socket.write(bytes)
  }

  sendHello(from: number, to: number, clusterId = CLUSTER): void {
    this.write(encodeFrame([encodeHello(Buffer.from(clusterId, 'hex'), nodeId(from), nodeId(to))]))
  }

  /** readReply waits for the acceptor's first frame and decodes it. */
  async readReply(): Promise<Reply> {
    await waitFor(() => this.frameLength() !== undefined || this.closedFlag, 'a handshake reply')
    const n = this.frameLength()
    if (n === undefined) throw new Error('closed before replying')
    const payload = this.received.subarray(FRAME_HEADER_BYTES, FRAME_HEADER_BYTES + n)
    this.received = this.received.subarray(FRAME_HEADER_BYTES + n)
    return decodeReply(payload)
  }

  /** handshake completes the dialer's half as member `from` dialing member `to`. */
  async handshake(from: number, to: number): Promise<Reply> {
    this.sendHello(from, to)
    return this.readReply()
  }

  end(): void {
    this.socket.end()
  }

  destroy(): void {
    this.socket.destroy()
  }

  private frameLength(): number | undefined {
    if (this.received.length < FRAME_HEADER_BYTES) return undefined
    const n = this.received.readUInt32LE(0)
    return this.received.length >= FRAME_HEADER_BYTES + n ? n : undefined
  }
}

/** closesWithin resolves true if the peer's socket closes within `ms`. */
export async function closesWithin(peer: RawPeer, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<boolean>((r) => {
    timer = setTimeout(() => r(false), ms)
  })
  const result = await Promise.race([peer.closed.then(() => true), timeout])
  clearTimeout(timer)
  return result
}
