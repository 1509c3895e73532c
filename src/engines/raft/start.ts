import { assert } from '../../core/assert.js'
import type { Index, NodeId, Term } from '../../core/ids.js'
import { encodeMemberChange } from '../codec.js'
import type { EngineStart, Entry, Status } from '../engine.js'

/** RaftStart is the engine contract's EngineStart: Raft needs nothing more to (re)start. */
export type RaftStart = EngineStart

/**
 * RaftInspection exposes the engine's state to tests, checkers and status pages. It is a copy
 * taken when asked: reading it never changes the engine.
 */
export interface RaftInspection extends Status {
  readonly vote: NodeId
  /** stableIndex: entries up to here are on disk (per the host's advance calls). */
  readonly stableIndex: Index
  /** The last entry compacted away (index, term), or (0, 0). */
  readonly compactedIndex: Index
  readonly compactedTerm: Term
  /** Every entry still held, from compactedIndex + 1 to lastIndex. */
  readonly entries: readonly Entry[]
  readonly leadTransferee: NodeId
}

/** bootstrapEntries: a new cluster's log starts with one config entry per initial voter, at term 1. */
export function bootstrapEntries(voters: readonly NodeId[]): Entry[] {
  assert(voters.length > 0, 'raft: bootstrap needs at least one voter')
  assert(new Set(voters).size === voters.length, 'raft: bootstrap voters must be distinct')
  return voters.map((node, k) => ({
    term: 1 as Term,
    index: (k + 1) as Index,
    type: 'config' as const,
    data: encodeMemberChange({ changes: [{ op: 'addVoter', node }] }),
  }))
}
