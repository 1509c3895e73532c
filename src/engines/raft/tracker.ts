import type { Index, NodeId } from '../../core/ids.js'
import type { Membership } from '../engine.js'
import { jointAcked, jointVote, type VoteResult } from '../quorum/quorum.js'
import { EMPTY_MEMBERSHIP, isVoter, memberIds } from './membership.js'
import { Progress } from './progress.js'

/**
 * ProgressTracker holds the configuration in force and, on a leader, a Progress per member;
 * on a candidate, the votes received. Quorum questions — what is committed, who won, is a quorum
 * still there — are answered against the (possibly joint) configuration.
 */
export class ProgressTracker {
  membership: Membership = EMPTY_MEMBERSHIP
  readonly progress = new Map<NodeId, Progress>()
  readonly votes = new Map<NodeId, boolean>()

  constructor(
    private readonly inflightMsgsMax: number,
    private readonly inflightBytesMax: number,
  ) {}

  /**
   * setMembership switches to configuration m. Members we already track keep their progress;
   * new members start probing at lastIndex + 1; members that left are forgotten.
   */
  setMembership(m: Membership, lastIndex: Index): void {
    this.membership = m
    const ids = new Set(memberIds(m))
    for (const id of [...this.progress.keys()]) if (!ids.has(id)) this.progress.delete(id)
    for (const id of ids) {
      const learner = !isVoter(m, id)
      const pr = this.progress.get(id)
      if (pr) pr.isLearner = learner
      else this.progress.set(id, this.newProgress(lastIndex, learner))
    }
  }

  /** resetProgress gives every member a fresh Progress, as a new leader does (§5.3). */
  resetProgress(lastIndex: Index): void {
    for (const [id, pr] of this.progress) this.progress.set(id, this.newProgress(lastIndex, pr.isLearner))
  }

  private newProgress(lastIndex: Index, learner: boolean): Progress {
    return new Progress((lastIndex + 1) as Index, learner, this.inflightMsgsMax, this.inflightBytesMax)
  }

  isVoter(id: NodeId): boolean {
    return isVoter(this.membership, id)
  }

  /** committedIndex is the largest index a quorum has durably matched. */
  committedIndex(): Index {
    const m = this.membership
    const v = jointAcked(m.voters, m.votersOutgoing, (id) => this.progress.get(id)?.match ?? 0)
    return (Number.isFinite(v) ? v : 0) as Index
  }

  /** ackedQuorum answers a quorum question over any per-voter number (read rounds, for one). */
  ackedQuorum(acked: (id: NodeId) => number): number {
    const m = this.membership
    return jointAcked(m.voters, m.votersOutgoing, acked)
  }

  resetVotes(): void {
    this.votes.clear()
  }

  recordVote(id: NodeId, granted: boolean): void {
    if (!this.votes.has(id)) this.votes.set(id, granted)
  }

  voteResult(): VoteResult {
    return jointVote(this.membership.voters, this.membership.votersOutgoing, this.votes)
  }

  /** quorumActive: a quorum of voters was heard from recently (check-quorum, §6.2). */
  quorumActive(self: NodeId): boolean {
    const active = new Map<NodeId, boolean>()
    for (const [id, pr] of this.progress) if (!pr.isLearner) active.set(id, id === self || pr.recentActive)
    return jointVote(this.membership.voters, this.membership.votersOutgoing, active) === 'won'
  }
}
