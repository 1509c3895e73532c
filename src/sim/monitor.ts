import type { NodeId } from '../core/ids.js'
import type { Entry, PeerMessage, Ready } from '../engines/engine.js'
import type { DurableState } from '../storage/storage.js'

/**
 * SafetyMonitor watches every node's Ready from outside the engines — the same traffic the hosts
 * see — and checks properties any replication engine must keep, whatever its protocol:
 *   Election Safety      — at most one leader per term (ballot, epoch, view);
 *   State Machine Safety — no two nodes apply different entries at the same index;
 *   Leader Completeness  — an entry committed in term U is in the log of every leader of a
 *                          later term (Raft §5.4; the log as the node handed it to its disk).
 * It catches bugs that a client history may never show (a lost write nobody read).
 */
interface Committed {
  readonly term: number
  readonly data: string
  /** inTerm: the term of the node that applied it first — the committing leader, or later. */
  readonly inTerm: number
  readonly node: NodeId
}

/** NodeLog is the monitor's copy of a node's log: index → term, after its snapshot. */
interface NodeLog {
  snapshotIndex: number
  readonly terms: Map<number, number>
}

export class SafetyMonitor {
  private readonly leaders = new Map<number, NodeId>()
  private readonly committed = new Map<number, Committed>()
  private readonly logs = new Map<NodeId, NodeLog>()
  violation: string | undefined

  /** restarted: a node came back with exactly what its disk kept. */
  restarted(id: NodeId, durable: DurableState): void {
    const log: NodeLog = { snapshotIndex: durable.snapshot?.meta.index ?? 0, terms: new Map() }
    for (const e of durable.entries) log.terms.set(e.index, e.term)
    this.logs.set(id, log)
  }

  observe<M extends PeerMessage>(id: NodeId, rd: Ready<M>, nowMs: number): void {
    if (this.violation) return
    this.track(id, rd)
    const s = rd.status
    if (s.role === 'leader' && this.leaders.get(s.term) !== id) {
      const other = this.leaders.get(s.term)
      if (other !== undefined) {
        this.fail(`Election Safety: n${other} and n${id} both led term ${s.term}`, nowMs)
        return
      }
      this.leaders.set(s.term, id)
      this.checkLeaderCompleteness(id, s.term, nowMs)
    }
    for (const e of rd.committed) this.checkApplied(id, e, s.term, nowMs)
  }

  private track<M extends PeerMessage>(id: NodeId, rd: Ready<M>): void {
    let log = this.logs.get(id)
    if (!log) {
      log = { snapshotIndex: 0, terms: new Map() }
      this.logs.set(id, log)
    }
    const snap = rd.persist.snapshot
    if (snap) {
      log.snapshotIndex = snap.meta.index
      log.terms.clear()
    }
    const first = rd.persist.entries[0]
    if (first) for (const i of [...log.terms.keys()]) if (i >= first.index) log.terms.delete(i)
    for (const e of rd.persist.entries) log.terms.set(e.index, e.term)
  }

  private checkApplied(id: NodeId, e: Entry, term: number, nowMs: number): void {
    const data = e.data.join(',')
    const first = this.committed.get(e.index)
    if (!first) this.committed.set(e.index, { term: e.term, data, inTerm: term, node: id })
    else if (first.term !== e.term || first.data !== data) {
      this.fail(
        `State Machine Safety: n${first.node} applied ${e.index}@${first.term} but n${id} applied ${e.index}@${e.term}`,
        nowMs,
      )
    }
  }

  private checkLeaderCompleteness(id: NodeId, term: number, nowMs: number): void {
    const log = this.logs.get(id)
    if (!log) return
    for (const [index, c] of this.committed) {
      if (c.inTerm >= term || index <= log.snapshotIndex) continue
      const held = log.terms.get(index)
      if (held !== c.term) {
        this.fail(
          `Leader Completeness: n${id} leads term ${term} without ${index}@${c.term}, committed in term ${c.inTerm} (it holds ${held === undefined ? 'nothing' : `${index}@${held}`})`,
          nowMs,
        )
        return
      }
    }
  }

  private fail(what: string, nowMs: number): void {
    this.violation = `${what} (at ${nowMs}ms)`
  }
}
