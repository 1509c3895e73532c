import type { Index, NodeId, ReadId, Term } from '../core/ids.js'

/**
 * The engine contract (../../DESIGN.md, "The engine contract"). Every replication protocol —
 * Raft, Multi-Paxos, Zab, primary-backup — is a pure state machine of this shape, driven by a host
 * that owns time, disk and network. An engine never awaits, sets a timer, reads a clock or does
 * I/O; it is told that time passed (tick), that a message arrived (step) or that a client wants
 * something (propose, readBarrier, changeMembers), and it answers through Ready.
 *
 * The vocabulary is Raft's because Raft's is the most widely known: a Term is a ballot for Paxos,
 * an epoch for Zab and a view for primary-backup; an Index is a slot or the counter of a zxid.
 */

export type EntryType = 'normal' | 'config'

/**
 * Entry is one slot of the replicated log. A `normal` entry carries one client command (an empty
 * one is a leader's no-op); a `config` entry carries an encoded MemberChange.
 */
export interface Entry {
  readonly term: Term
  readonly index: Index
  readonly type: EntryType
  readonly data: Uint8Array
}

/** HardState is what must be on disk before any message that depends on it leaves the node. */
export interface HardState {
  readonly term: Term
  /** vote is whom this node voted for in `term`, or NO_NODE. */
  readonly vote: NodeId
  /** commit is not needed for safety but saves re-learning it after a restart. */
  readonly commit: Index
}

/**
 * Membership is a group's configuration: `voters` is the incoming (or only) half. Outside a
 * joint configuration `votersOutgoing` and `learnersNext` are empty. Invariants: each list is
 * sorted and has no duplicates; learners are voters of neither half; `learnersNext` is a subset
 * of `votersOutgoing` (nodes that become learners when the joint phase ends). The two voter
 * halves usually overlap.
 */
export interface Membership {
  readonly voters: readonly NodeId[]
  readonly votersOutgoing: readonly NodeId[]
  readonly learners: readonly NodeId[]
  readonly learnersNext: readonly NodeId[]
  /** autoLeave: the leader leaves the joint configuration by itself once it is committed. */
  readonly autoLeave: boolean
}

export interface SnapshotMeta {
  readonly index: Index
  readonly term: Term
  readonly membership: Membership
}

/** Snapshot is the state machine's state after applying every entry up to `meta.index`. */
export interface Snapshot {
  readonly meta: SnapshotMeta
  readonly data: Uint8Array
}

export type MemberChangeOp = 'addVoter' | 'addLearner' | 'remove'

/**
 * MemberChange asks for a new configuration.
 * - `auto` (default): a change of at most one voter is applied directly (the one-node-at-a-time
 *   shorthand of the dissertation §4.1); anything larger goes through a joint configuration that
 *   the leader leaves by itself.
 * - `joint`: always use a joint configuration, left automatically.
 * - `joint-explicit`: always joint; the application leaves it by proposing an empty change.
 * An empty `changes` list leaves the current joint configuration.
 */
export interface MemberChange {
  readonly changes: readonly { readonly op: MemberChangeOp; readonly node: NodeId }[]
  readonly transition?: 'auto' | 'joint' | 'joint-explicit'
  /** context is opaque to the engine; hosts put member addresses here. */
  readonly context?: Uint8Array
}

export type ProposeError =
  | { readonly code: 'not-leader'; readonly leaderHint: NodeId }
  | { readonly code: 'transferring-leadership'; readonly leaderHint: NodeId }
  | { readonly code: 'config-change-pending' }
  | { readonly code: 'invalid-config-change'; readonly reason: string }
  | { readonly code: 'too-many-uncommitted-bytes' }

/**
 * ProposeResult says where an accepted proposal sits. The proposal committed if and only if the
 * host later applies an entry at `firstIndex` (and the following ones) with this `term`; an entry
 * with another term at that index means it was lost to a leader change.
 */
export type ProposeResult =
  | { readonly ok: true; readonly term: Term; readonly firstIndex: Index }
  | { readonly ok: false; readonly error: ProposeError }

/** ReadState: a read that asked for a barrier may be served once the host has applied `index`. */
export interface ReadState {
  readonly id: ReadId
  readonly index: Index
}

export type Role = 'follower' | 'pre-candidate' | 'candidate' | 'leader'

export interface Status {
  readonly id: NodeId
  readonly role: Role
  /** leader is the leader this node knows of in `term`, or NO_NODE. */
  readonly leader: NodeId
  readonly term: Term
  readonly commit: Index
  readonly applied: Index
  readonly lastIndex: Index
  readonly membership: Membership
}

/** PeerMessage is the envelope every engine's messages share; the payload is the engine's own. */
export interface PeerMessage {
  readonly from: NodeId
  readonly to: NodeId
}

/**
 * Ready is what the host must do now. The host's duties, in order:
 *   1. persist: write `snapshot` (if any), then `entries` — which replace any entries the host
 *      holds at the same or later indexes — and `hardState`, as one batch ending in one fsync;
 *   2. send `messages` (only after step 1 is durable: a vote or an acknowledgement promises it);
 *   3. apply: restore the state machine from `persist.snapshot` if present, then apply
 *      `committed` in order;
 *   4. serve `reads` whose index has been applied; fail `readsDropped`;
 *   5. call advance(ready) with this very object.
 */
export interface Ready<M extends PeerMessage = PeerMessage> {
  readonly persist: {
    readonly hardState?: HardState
    readonly entries: readonly Entry[]
    readonly snapshot?: Snapshot
  }
  readonly messages: readonly M[]
  readonly committed: readonly Entry[]
  readonly reads: readonly ReadState[]
  /** readsDropped are read barriers that cannot be granted (no leader, leadership lost): retry. */
  readonly readsDropped: readonly ReadId[]
  readonly status: Status
}

export interface Engine<M extends PeerMessage = PeerMessage> {
  readonly id: NodeId
  /** tick tells the engine that one tick of time passed; the host calls it every tickMs. */
  tick(): void
  /** step feeds a message from a peer; messages for another node or from the past are ignored. */
  step(msg: M): void
  /** propose appends client commands, one entry each, as one batch; followers refuse with a hint. */
  propose(cmds: readonly Uint8Array[]): ProposeResult
  /** readBarrier asks for a linearizable read point; the answer comes in Ready.reads. */
  readBarrier(id: ReadId): void
  /** changeMembers proposes a configuration change; it takes effect when applied. */
  changeMembers(change: MemberChange): ProposeResult
  /** transferLeadership asks the leader to hand over to `to` once `to` has caught up. */
  transferLeadership?(to: NodeId): void
  /**
   * compact tells the engine that the host holds `snapshot` (taken at an applied index) durably:
   * the engine may drop log entries up to `snapshot.meta.index - retainEntries` and will send
   * this snapshot to followers that fall behind the log.
   */
  compact(snapshot: Snapshot, retainEntries?: number): void
  hasReady(): boolean
  ready(): Ready<M>
  advance(ready: Ready<M>): void
  status(): Status
}

/**
 * EngineStart is what a node's disk held when it (re)started. A brand-new member of a new cluster
 * passes `bootstrap` (the initial voters) instead; a brand-new member joining an existing cluster
 * passes nothing and learns everything from the leader.
 */
export interface EngineStart {
  readonly id: NodeId
  readonly hardState?: HardState
  /** The newest durable snapshot; the engine sends it to followers that fell behind the log. */
  readonly snapshot?: Snapshot
  /** Durable entries after the snapshot (or from index 1), contiguous. */
  readonly entries?: readonly Entry[]
  /** applied is the index the host's state machine already reflects; default: the snapshot's. */
  readonly applied?: Index
  /** bootstrap lists the voters of a new cluster; only for a node with an empty disk. */
  readonly bootstrap?: readonly NodeId[]
}

/** EngineFactory builds an engine from what a node's disk held; the host calls it at (re)start. */
export type EngineFactory<M extends PeerMessage = PeerMessage> = (start: EngineStart) => Engine<M>
