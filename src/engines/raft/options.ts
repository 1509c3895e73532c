import type { Rng } from '../../core/rng.js'

/**
 * RaftOptions are the knobs of one Raft node. Times are in ticks: the host decides how long a tick
 * is (e.g. 100 ms for heartbeatTicks=1, electionTicks=10, as etcd's defaults).
 */
export interface RaftOptions {
  /** A follower that hears nothing for a random time in [electionTicks, 2*electionTicks) campaigns. */
  readonly electionTicks: number
  readonly heartbeatTicks: number
  /** preVote: ask before campaigning, so a partitioned node cannot inflate terms (§9.6). */
  readonly preVote: boolean
  /** checkQuorum: a leader that hears from no quorum for electionTicks steps down (§6.2). */
  readonly checkQuorum: boolean
  /**
   * readMode: `safe` confirms leadership with a heartbeat round for every batch of reads (ReadIndex).
   * `lease` answers reads without that round while the leader holds a lease. The lease is sound only
   * if checkQuorum is on and every node's clock advances ticks at a rate within `leaseDriftTicks`
   * per electionTicks of the true rate: a follower that heard from the leader refuses to vote for
   * electionTicks of its own ticks, and the leader trusts its lease for
   * electionTicks - leaseDriftTicks of its own ticks from the moment it sent the heartbeat that a
   * quorum acknowledged.
   */
  readonly readMode: 'safe' | 'lease'
  readonly leaseDriftTicks: number
  /** inflightMsgsMax bounds the MsgApps in flight to one follower in replicate state (pipelining). */
  readonly inflightMsgsMax: number
  /** inflightBytesMax bounds the entry bytes in flight to one follower; 0 means no limit. */
  readonly inflightBytesMax: number
  /** msgBytesMax bounds the entry bytes in one MsgApp (at least one entry is always sent). */
  readonly msgBytesMax: number
  /** uncommittedBytesMax bounds the leader's uncommitted entry bytes; proposals past it are refused. */
  readonly uncommittedBytesMax: number
  /** committedBytesMax bounds the committed entry bytes handed out in one Ready. */
  readonly committedBytesMax: number
  /** Randomness for election timeouts; pass a seeded Rng so that runs are reproducible. */
  readonly rng: Rng
  /**
   * testingBugs plants known bugs, for tests that prove the simulator and checker catch them.
   * Never set outside tests.
   */
  readonly testingBugs?: Readonly<Partial<Record<RaftTestingBug, boolean>>>
}

export type RaftTestingBug =
  /** Count replicas for entries of earlier terms (Raft paper, Figure 8). */
  | 'commitPreviousTermByCount'
  /** Grant a vote without persisting it first. */
  | 'unpersistedVote'
  /** Answer reads on the leader without confirming leadership. */
  | 'readWithoutBarrier'
  /** Hand out entries for application before they commit. */
  | 'applyBeforeCommit'

export const DEFAULT_RAFT_OPTIONS: Omit<RaftOptions, 'rng'> = {
  electionTicks: 10,
  heartbeatTicks: 1,
  preVote: true,
  checkQuorum: true,
  readMode: 'safe',
  leaseDriftTicks: 2,
  inflightMsgsMax: 256,
  inflightBytesMax: 0,
  msgBytesMax: 1024 * 1024,
  uncommittedBytesMax: 64 * 1024 * 1024,
  committedBytesMax: 8 * 1024 * 1024,
}

/** validateRaftOptions rejects settings that would make the engine misbehave. */
export function validateRaftOptions(o: RaftOptions): void {
  const positive = (v: number, name: string) => {
    if (!Number.isSafeInteger(v) || v < 1) throw new RangeError(`raft: ${name} must be a positive integer`)
  }
  positive(o.electionTicks, 'electionTicks')
  positive(o.heartbeatTicks, 'heartbeatTicks')
  positive(o.inflightMsgsMax, 'inflightMsgsMax')
  positive(o.msgBytesMax, 'msgBytesMax')
  positive(o.uncommittedBytesMax, 'uncommittedBytesMax')
  positive(o.committedBytesMax, 'committedBytesMax')
  if (o.heartbeatTicks >= o.electionTicks)
    throw new RangeError('raft: heartbeatTicks must be < electionTicks')
  if (!(o.inflightBytesMax >= 0)) throw new RangeError('raft: inflightBytesMax must be >= 0')
  if (o.readMode === 'lease') {
    if (!o.checkQuorum) throw new RangeError('raft: lease reads need checkQuorum')
    if (!(o.leaseDriftTicks >= 0 && o.leaseDriftTicks < o.electionTicks)) {
      throw new RangeError('raft: leaseDriftTicks must be in [0, electionTicks)')
    }
  }
}
