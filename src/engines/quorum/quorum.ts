import type { NodeId } from '../../core/ids.js'

/**
 * Quorum arithmetic, shared by every engine. A configuration is either a single majority config
 * (a set of voters) or a joint config (two of them: Raft's C_old,new, dissertation §4.3), in which
 * a decision needs a majority of each half.
 */

export type VoteResult = 'won' | 'lost' | 'pending'

/**
 * majorityAcked returns the largest value v such that a majority of `voters` acked a value >= v,
 * where `acked(id)` gives each voter's value (0 if unknown). For an empty set it returns +Infinity,
 * so that an empty half of a joint config never holds the other half back.
 * Used for the commit index (acked = match index) and for read rounds (acked = heartbeat round).
 */
export function majorityAcked(voters: readonly NodeId[], acked: (id: NodeId) => number): number {
  const n = voters.length
  if (n === 0) return Number.POSITIVE_INFINITY
  const values = voters.map(acked)
  values.sort((a, b) => b - a)
  // With values sorted high to low, the (n/2 + 1)-th is the highest value a majority reached.
  return values[Math.floor(n / 2)] as number
}

/** jointAcked is majorityAcked over a joint configuration: the smaller of the two halves. */
export function jointAcked(
  incoming: readonly NodeId[],
  outgoing: readonly NodeId[],
  acked: (id: NodeId) => number,
): number {
  return Math.min(majorityAcked(incoming, acked), majorityAcked(outgoing, acked))
}

/**
 * majorityVote tallies votes (true = granted, false = rejected, absent = not yet answered).
 * An empty set wins, again so that a joint config with an empty half behaves like the other half.
 */
export function majorityVote(voters: readonly NodeId[], votes: ReadonlyMap<NodeId, boolean>): VoteResult {
  if (voters.length === 0) return 'won'
  let granted = 0
  let missing = 0
  for (const id of voters) {
    const v = votes.get(id)
    if (v === undefined) missing++
    else if (v) granted++
  }
  const q = Math.floor(voters.length / 2) + 1
  if (granted >= q) return 'won'
  if (granted + missing >= q) return 'pending'
  return 'lost'
}

/** jointVote wins only if both halves win, and is lost as soon as either half is lost. */
export function jointVote(
  incoming: readonly NodeId[],
  outgoing: readonly NodeId[],
  votes: ReadonlyMap<NodeId, boolean>,
): VoteResult {
  const a = majorityVote(incoming, votes)
  const b = majorityVote(outgoing, votes)
  if (a === b) return a
  if (a === 'lost' || b === 'lost') return 'lost'
  return 'pending'
}
