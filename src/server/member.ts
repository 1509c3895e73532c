import { createHash, randomInt } from 'node:crypto'
import { join } from 'node:path'
import { BinaryReader, BinaryWriter } from '../core/codec.js'
import { NO_NODE, type NodeId } from '../core/ids.js'
import type { Logger } from '../core/logger.js'
import { seededRng } from '../core/rng.js'
import type { Ready, Status } from '../engines/engine.js'
import type { RaftMessage } from '../engines/raft/messages.js'
import { DEFAULT_RAFT_OPTIONS } from '../engines/raft/options.js'
import { RaftEngine } from '../engines/raft/raft.js'
import { readRaftMessage, writeRaftMessage } from '../engines/raft/wire.js'
import { RegisterKv } from '../kv/register-kv.js'
import { TcpTransport } from '../net/tcp/index.js'
import { Host } from '../node/host.js'
import { WallClockTicker } from '../node/wall-clock.js'
import { type OpenedWal, openWal, type Wal, WalCorruptionError } from '../storage/wal/index.js'
import { ClientHttpServer } from './client-http.js'
import type { ServeConfig } from './config.js'
import { DataDirLock } from './data-dir-lock.js'
import { formatAddress, hexId, type MemberSpec } from './identity.js'

/**
 * Member is one running Synod process: the shared Host loop over the real pieces — the WAL on
 * disk, TCP to the peers, a wall clock calling tick(), and the client port. Start order matters:
 * the WAL is recovered before anything listens, and the peer port opens only once the host can
 * take messages.
 */

/** MemberParts: what a running member owns, and stop() closes. */
interface MemberParts {
  readonly wal: Wal
  readonly transport: TcpTransport<RaftMessage>
  readonly host: Host<RaftMessage>
  readonly ticker: WallClockTicker
  readonly client: ClientHttpServer
  readonly lock: DataDirLock
}

/** MemberStatus is what `synod status` prints for one member. */
export interface MemberStatus {
  readonly name: string
  readonly id: string
  readonly clusterId: string
  readonly role: Status['role']
  readonly term: number
  readonly leader: string | null
  readonly leaderName: string | null
  readonly commit: number
  readonly applied: number
  readonly lastIndex: number
  readonly walBytes: number
  readonly voters: readonly string[]
}

export class Member {
  private stopping: Promise<void> | undefined
  private lastLeader: NodeId = NO_NODE
  private lastTerm = 0

  private constructor(
    readonly config: ServeConfig,
    readonly self: MemberSpec,
    private readonly log: Logger,
    private readonly parts: MemberParts,
  ) {}

  /**
   * start recovers the data dir, then opens the peer and client ports. It throws (and leaves
   * nothing running) when the data dir is corrupt or belongs to another member or cluster.
   * `onFatal` hears of a disk failure after start: the process must exit, not retry.
   */
  static async start(config: ServeConfig, log: Logger, onFatal: (err: Error) => void): Promise<Member> {
    const self = config.cluster.members.find((m) => m.name === config.name)
    if (!self) throw new Error(`member ${config.name} is not in the initial cluster`)
    const lock = DataDirLock.acquire(config.dataDir)
    const opened = await openDataDir(config, self, log).catch((err: unknown) => {
      lock.release()
      throw err
    })
    const durable = opened.durable
    const fresh = !durable.hardState && !durable.snapshot && durable.entries.length === 0
    const peers = new Map(config.cluster.members.filter((m) => m.id !== self.id).map((m) => [m.id, m.peer]))
    let host: Host<RaftMessage> | undefined
    const transport = new TcpTransport<RaftMessage>({
      clusterId: config.cluster.id,
      selfId: self.id,
      listen: config.listenPeer,
      peers,
      codec: { write: writeRaftMessage, read: readRaftMessage },
      onMessage: (m) => host?.receive(m),
      log,
    })
    let member: Member | undefined
    const stateMachine = new RegisterKv()
    host = new Host<RaftMessage>({
      id: self.id,
      newEngine: (start) =>
        new RaftEngine(
          {
            ...DEFAULT_RAFT_OPTIONS,
            electionTicks: config.electionTicks,
            rng: seededRng(randomInt(2 ** 47)),
          },
          start,
        ),
      storage: opened.wal,
      transport,
      stateMachine,
      durable,
      bootstrap:
        fresh && config.initialClusterState === 'new' ? config.cluster.members.map((m) => m.id) : undefined,
      options: {
        snapshotEntries: config.snapshotCount,
        snapshotRetainEntries: config.snapshotCatchupEntries,
      },
      onReady: (rd) => member?.observe(rd),
      onFatal: (err) => {
        log.error({ err: err.message }, 'disk failure: stopping (an fsync is never retried)')
        onFatal(err)
      },
    })
    const ticker = new WallClockTicker(config.tickMs, () => host?.tick())
    const digest = () => ({
      applied: host.status().applied,
      digest: createHash('sha256').update(stateMachine.snapshot()).digest('hex'),
    })
    const client = new ClientHttpServer(host, () => member?.status(), digest, log)
    try {
      await transport.start()
      await client.listen(config.listenClient)
    } catch (err) {
      host.stop()
      await Promise.allSettled([transport.close(), client.close(), opened.wal.close()])
      lock.release()
      throw err
    }
    member = new Member(config, self, log, { wal: opened.wal, transport, host, ticker, client, lock })
    ticker.start()
    log.info(
      {
        id: hexId(self.id),
        cluster: config.cluster.id,
        peer: formatAddress(transport.address()),
        client: formatAddress(client.address()),
        recovered: { entries: durable.entries.length, snapshot: durable.snapshot?.meta.index ?? 0 },
      },
      fresh ? 'started a new member' : 'restarted from the data dir',
    )
    return member
  }

  status(): MemberStatus {
    const s = this.parts.host.status()
    const nameOf = (id: NodeId) => this.config.cluster.members.find((m) => m.id === id)?.name ?? null
    return {
      name: this.self.name,
      id: hexId(this.self.id),
      clusterId: this.config.cluster.id,
      role: s.role,
      term: s.term,
      leader: s.leader === NO_NODE ? null : hexId(s.leader),
      leaderName: s.leader === NO_NODE ? null : nameOf(s.leader),
      commit: s.commit,
      applied: s.applied,
      lastIndex: s.lastIndex,
      walBytes: this.parts.wal.sizeBytes(),
      voters: s.membership.voters.map((v) => nameOf(v) ?? hexId(v)),
    }
  }

  /**
   * stop shuts down gracefully: no new client requests, no more ticks, the batch on its way to
   * disk finishes and the WAL closes. Clients still waiting learn that the member stopped.
   */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.parts.ticker.stop()
      await this.parts.client.close()
      this.parts.host.stop()
      await this.parts.wal.close()
      await this.parts.transport.close()
      this.parts.lock.release()
      this.log.info({}, 'stopped')
    })()
    return this.stopping
  }

  /** observe logs leader changes, with the term and the leader's name, and snapshots received. */
  private observe(rd: Ready<RaftMessage>): void {
    const installed = rd.persist.snapshot?.meta
    if (installed)
      this.log.info({ index: installed.index, term: installed.term }, 'installed a snapshot from the leader')
    const { leader, term } = rd.status
    if (leader === this.lastLeader && term === this.lastTerm) return
    if (leader !== this.lastLeader) {
      const name = this.config.cluster.members.find((m) => m.id === leader)?.name
      this.log.info({ term, leader: name ?? (leader === NO_NODE ? null : hexId(leader)) }, 'leader changed')
    }
    this.lastLeader = leader
    this.lastTerm = term
  }
}

/** The WAL's metadata names the cluster and member it belongs to, so a wrong data dir is refused. */
function encodeIdentity(clusterId: string, self: MemberSpec): Uint8Array {
  return new BinaryWriter().string(clusterId).string(hexId(self.id)).string(self.name).finish()
}

function decodeIdentity(b: Uint8Array): { clusterId: string; memberId: string; name: string } {
  const r = new BinaryReader(b)
  const out = { clusterId: r.string(), memberId: r.string(), name: r.string() }
  r.expectEnd('member identity')
  return out
}

/**
 * openDataDir recovers the member's WAL and snapshots, and refuses a data dir that another
 * member or cluster wrote: starting on it would mix two clusters' logs.
 */
async function openDataDir(config: ServeConfig, self: MemberSpec, log: Logger): Promise<OpenedWal> {
  const dir = join(config.dataDir, 'member')
  const opened = await openWal(
    dir,
    encodeIdentity(config.cluster.id, self),
    { segmentBytes: config.walSegmentBytes },
    { logger: log },
  ).catch((err: unknown) => {
    // The WAL names files within its directory; an operator needs the whole path.
    if (err instanceof WalCorruptionError) throw new Error(err.message.replace(err.file, join(dir, err.file)))
    throw err
  })
  const stored = decodeIdentity(opened.metadata)
  if (stored.clusterId !== config.cluster.id || stored.memberId !== hexId(self.id)) {
    await opened.wal.close()
    throw new Error(
      `${config.dataDir} belongs to member ${stored.name} (${stored.memberId}) of cluster ${stored.clusterId}, ` +
        `not ${self.name} (${hexId(self.id)}) of cluster ${config.cluster.id}: ` +
        'use that member name and --initial-cluster, or another --data-dir',
    )
  }
  return opened
}
