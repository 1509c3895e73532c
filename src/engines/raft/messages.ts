import type { Index, NodeId, ReadId, Term } from '../../core/ids.js'
import type { Entry, Snapshot } from '../engine.js'

/**
 * The messages Raft nodes exchange (names as in etcd's raftpb). Every message carries the sender's
 * term; the handling of a term that is newer or older than our own is common to all of them
 * (Raft §5.1) and lives in raft.ts.
 */

/** MsgApp replicates entries after (prevIndex, prevTerm) and tells the follower the commit index. */
export interface MsgApp {
  readonly type: 'MsgApp'
  readonly from: NodeId
  readonly to: NodeId
  readonly term: Term
  readonly prevIndex: Index
  readonly prevTerm: Term
  readonly entries: readonly Entry[]
  readonly commit: Index
}

/**
 * MsgAppResp acknowledges a MsgApp (or a MsgSnap). On success `index` is the last index known to
 * match the leader's log. On reject, `index` is the rejected prevIndex and (hintIndex, hintTerm)
 * let the leader skip a whole term of conflicting entries at once (fast backtracking, §5.3).
 */
export interface MsgAppResp {
  readonly type: 'MsgAppResp'
  readonly from: NodeId
  readonly to: NodeId
  readonly term: Term
  readonly index: Index
  readonly reject: boolean
  readonly hintIndex: Index
  readonly hintTerm: Term
}

/**
 * MsgVote asks for a vote (§5.2); MsgPreVote asks whether a vote would be granted, without
 * anyone changing term (dissertation §9.6). `term` is the term the candidate would use.
 * `transfer` marks a campaign started by MsgTimeoutNow, which may break a leader lease.
 */
export interface MsgVote {
  readonly type: 'MsgVote' | 'MsgPreVote'
  readonly from: NodeId
  readonly to: NodeId
  readonly term: Term
  readonly lastIndex: Index
  readonly lastTerm: Term
  readonly transfer: boolean
}

export interface MsgVoteResp {
  readonly type: 'MsgVoteResp' | 'MsgPreVoteResp'
  readonly from: NodeId
  readonly to: NodeId
  readonly term: Term
  readonly reject: boolean
}

/** MsgSnap installs a snapshot on a follower whose next entry the leader has compacted away. */
export interface MsgSnap {
  readonly type: 'MsgSnap'
  readonly from: NodeId
  readonly to: NodeId
  readonly term: Term
  readonly snapshot: Snapshot
}

/**
 * MsgHeartbeat asserts leadership. `readSeq` numbers the heartbeat round; the follower echoes it,
 * and once a quorum has echoed round s, every read barrier queued before round s was sent is
 * safe (ReadIndex, dissertation §6.4, batched per round) and the leader lease is renewed.
 */
export interface MsgHeartbeat {
  readonly type: 'MsgHeartbeat'
  readonly from: NodeId
  readonly to: NodeId
  readonly term: Term
  readonly commit: Index
  readonly readSeq: number
}

export interface MsgHeartbeatResp {
  readonly type: 'MsgHeartbeatResp'
  readonly from: NodeId
  readonly to: NodeId
  readonly term: Term
  readonly readSeq: number
}

/** MsgTimeoutNow tells a caught-up follower to campaign at once (leadership transfer, §3.10). */
export interface MsgTimeoutNow {
  readonly type: 'MsgTimeoutNow'
  readonly from: NodeId
  readonly to: NodeId
  readonly term: Term
}

/** MsgReadIndex forwards a follower's read barrier to the leader. */
export interface MsgReadIndex {
  readonly type: 'MsgReadIndex'
  readonly from: NodeId
  readonly to: NodeId
  readonly term: Term
  readonly readId: ReadId
}

/** MsgReadIndexResp grants a forwarded read barrier at `index`. */
export interface MsgReadIndexResp {
  readonly type: 'MsgReadIndexResp'
  readonly from: NodeId
  readonly to: NodeId
  readonly term: Term
  readonly readId: ReadId
  readonly index: Index
}

export type RaftMessage =
  | MsgApp
  | MsgAppResp
  | MsgVote
  | MsgVoteResp
  | MsgSnap
  | MsgHeartbeat
  | MsgHeartbeatResp
  | MsgTimeoutNow
  | MsgReadIndex
  | MsgReadIndexResp

export type RaftMessageType = RaftMessage['type']

export const RAFT_MESSAGE_TYPES: readonly RaftMessageType[] = [
  'MsgApp',
  'MsgAppResp',
  'MsgVote',
  'MsgPreVote',
  'MsgVoteResp',
  'MsgPreVoteResp',
  'MsgSnap',
  'MsgHeartbeat',
  'MsgHeartbeatResp',
  'MsgTimeoutNow',
  'MsgReadIndex',
  'MsgReadIndexResp',
]

/**
 * wellFormed rejects messages no correct peer sends (entries that do not follow prevIndex, or
 * whose terms go backwards or exceed the sender's), so a corrupted peer cannot trip an assertion.
 */
export function wellFormed(m: RaftMessage): boolean {
  if (m.type !== 'MsgApp') return true
  let prevTerm = m.prevTerm
  for (let k = 0; k < m.entries.length; k++) {
    const e = m.entries[k] as Entry
    if (e.index !== m.prevIndex + 1 + k || e.term < prevTerm || e.term > m.term) return false
    prevTerm = e.term
  }
  return m.prevTerm <= m.term
}
