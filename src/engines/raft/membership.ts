import type { NodeId } from '../../core/ids.js'
import type { MemberChange, Membership } from '../engine.js'

/**
 * Membership changes as pure functions of (configuration, change), so that every replica that
 * applies the same config entry to the same configuration reaches the same result — including
 * the same refusal of an invalid change. The rules are the dissertation's (§4.1 one server at a
 * time, §4.3 joint consensus) in the form etcd's confchange package gives them.
 */

export const EMPTY_MEMBERSHIP: Membership = {
  voters: [],
  votersOutgoing: [],
  learners: [],
  learnersNext: [],
  autoLeave: false,
}

export function isJoint(m: Membership): boolean {
  return m.votersOutgoing.length > 0
}

/** isVoter: the node votes in either half of the configuration. */
export function isVoter(m: Membership, id: NodeId): boolean {
  return m.voters.includes(id) || m.votersOutgoing.includes(id)
}

/** memberIds lists every node that takes part (voter of either half, or learner), sorted. */
export function memberIds(m: Membership): NodeId[] {
  const all = new Set<NodeId>([...m.voters, ...m.votersOutgoing, ...m.learners, ...m.learnersNext])
  return [...all].sort((a, b) => a - b)
}

export type ChangeOutcome = { ok: true; membership: Membership } | { ok: false; reason: string }

const sorted = (s: Set<NodeId>): NodeId[] => [...s].sort((a, b) => a - b)

/** applyMemberChange returns the configuration after `change`, or why the change is invalid. */
export function applyMemberChange(m: Membership, change: MemberChange): ChangeOutcome {
  if (change.changes.length === 0) return leaveJoint(m)
  if (isJoint(m)) return { ok: false, reason: 'the configuration is joint; leave it before another change' }
  const transition = change.transition ?? 'auto'
  if (transition !== 'auto' && m.voters.length === 0) {
    // A joint config needs an outgoing half that can decide; an empty one would decide nothing.
    return { ok: false, reason: 'a configuration with no voters cannot become joint' }
  }
  const incoming = new Set(m.voters)
  const learners = new Set(m.learners)
  const learnersNext = new Set<NodeId>()
  const outgoing = new Set(transition === 'auto' ? [] : m.voters)
  for (const { op, node } of change.changes) {
    switch (op) {
      case 'addVoter':
        learners.delete(node)
        learnersNext.delete(node)
        incoming.add(node)
        break
      case 'addLearner':
        incoming.delete(node)
        learners.delete(node)
        // A voter of the outgoing half keeps voting until the joint phase ends (etcd's LearnersNext).
        if (outgoing.has(node)) learnersNext.add(node)
        else learners.add(node)
        break
      case 'remove':
        incoming.delete(node)
        learners.delete(node)
        learnersNext.delete(node)
        break
    }
  }
  if (incoming.size === 0) return { ok: false, reason: 'the change removes every voter' }
  if (transition === 'auto') {
    const changed =
      [...incoming].filter((id) => !m.voters.includes(id)).length +
      m.voters.filter((id) => !incoming.has(id)).length
    // More than one voter at a time is not safe without a joint phase (dissertation §4.1), so
    // `auto` turns into joint consensus, left automatically.
    if (changed > 1) return applyMemberChange(m, { ...change, transition: 'joint' })
  }
  const result: Membership = {
    voters: sorted(incoming),
    votersOutgoing: sorted(outgoing),
    learners: sorted(learners),
    learnersNext: sorted(learnersNext),
    autoLeave: transition === 'joint',
  }
  return checkMembership(result)
}

function leaveJoint(m: Membership): ChangeOutcome {
  if (!isJoint(m)) return { ok: false, reason: 'the configuration is not joint; nothing to leave' }
  const learners = new Set([...m.learners, ...m.learnersNext])
  for (const id of m.voters) learners.delete(id)
  return checkMembership({
    voters: m.voters,
    votersOutgoing: [],
    learners: sorted(learners),
    learnersNext: [],
    autoLeave: false,
  })
}

/** checkMembership verifies the invariants stated on Membership. */
export function checkMembership(m: Membership): ChangeOutcome {
  if (m.autoLeave && !isJoint(m))
    return { ok: false, reason: 'autoLeave is only meaningful in a joint configuration' }
  const voters = new Set([...m.voters, ...m.votersOutgoing])
  for (const id of m.learners) {
    if (voters.has(id)) return { ok: false, reason: `node ${id} is both a learner and a voter` }
  }
  for (const id of m.learnersNext) {
    if (!m.votersOutgoing.includes(id))
      return { ok: false, reason: `node ${id} is a next learner but no outgoing voter` }
  }
  return { ok: true, membership: m }
}
