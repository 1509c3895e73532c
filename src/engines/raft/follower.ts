import type { Index, Term } from '../../core/ids.js'
import type { RaftLog } from './log.js'
import type { MsgApp, MsgAppResp, MsgSnap, RaftMessage } from './messages.js'

/**
 * The follower's side of replication (Raft §5.3, §7), as functions from (log, leader's message)
 * to our answer. They change only the log; the engine sends the answer.
 */

const ZERO_INDEX = 0 as Index
const ZERO_TERM = 0 as Term

/** appendResponse builds a MsgAppResp from `m`'s receiver back to its sender. */
export function appendResponse(
  m: RaftMessage,
  term: Term,
  index: Index,
  reject = false,
  hintIndex = ZERO_INDEX,
  hintTerm = ZERO_TERM,
): MsgAppResp {
  return { type: 'MsgAppResp', from: m.to, to: m.from, term, index, reject, hintIndex, hintTerm }
}

/**
 * handleAppendEntries appends a leader's entries if our log matches at (prevIndex, prevTerm);
 * otherwise it rejects with a hint — the last index whose term is <= prevTerm — that lets the
 * leader skip a whole conflicting term in one round trip.
 */
export function handleAppendEntries(log: RaftLog, term: Term, m: MsgApp): MsgAppResp {
  // Everything up to our commit index matches the leader already (Leader Completeness).
  if (m.prevIndex < log.committed) return appendResponse(m, term, log.committed)
  const lastNew = log.maybeAppend(m.prevIndex, m.prevTerm, m.commit, m.entries)
  if (lastNew !== undefined) return appendResponse(m, term, lastNew)
  const hint = log.findConflictByTerm(Math.min(m.prevIndex, log.lastIndex()) as Index, m.prevTerm)
  return appendResponse(m, term, m.prevIndex, true, hint.index, hint.term)
}

/**
 * handleSnapshot installs a leader's snapshot unless we already have what it covers; returns
 * the answer and whether the log was replaced (the caller then adopts the snapshot's membership).
 */
export function handleSnapshot(
  log: RaftLog,
  term: Term,
  m: MsgSnap,
): { resp: MsgAppResp; restored: boolean } {
  const meta = m.snapshot.meta
  if (meta.index <= log.committed) return { resp: appendResponse(m, term, log.committed), restored: false }
  if (log.matchTerm(meta.index, meta.term)) {
    // We hold the snapshot's last entry, so everything up to it matches: just commit. Only up to
    // it: entries after it may still conflict with the leader's, so we must not claim them.
    log.commitTo(meta.index)
    return { resp: appendResponse(m, term, meta.index), restored: false }
  }
  log.restore(m.snapshot)
  return { resp: appendResponse(m, term, log.lastIndex()), restored: true }
}
