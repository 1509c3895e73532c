import type { NodeId } from '../core/ids.js'
import type { PeerMessage, Ready } from '../engines/engine.js'

/**
 * SafetyMonitor watches every node's Ready from outside the engines — the same traffic the hosts
 * see — and checks the properties any replication engine must keep, whatever its protocol:
 *   Election Safety      — at most one leader per term (ballot, epoch, view);
 *   State Machine Safety — no two nodes apply different entries at the same index.
 * It catches bugs that a client history may never show (a lost write nobody read).
 */
export class SafetyMonitor {
  private readonly leaders = new Map<number, NodeId>()
  /** applied[i] = the term of the entry applied at index i, by whichever node applied it first. */
  private readonly applied = new Map<number, { term: number; node: NodeId; data: string }>()
  violation: string | undefined

  observe<M extends PeerMessage>(id: NodeId, rd: Ready<M>, nowMs: number): void {
    if (this.violation) return
    const s = rd.status
    if (s.role === 'leader') {
      const other = this.leaders.get(s.term)
      if (other !== undefined && other !== id) {
        this.violation = `Election Safety: n${other} and n${id} both led term ${s.term} (at ${nowMs}ms)`
        return
      }
      this.leaders.set(s.term, id)
    }
    for (const e of rd.committed) {
      const data = e.data.join(',')
      const first = this.applied.get(e.index)
      if (!first) this.applied.set(e.index, { term: e.term, node: id, data })
      else if (first.term !== e.term || first.data !== data) {
        this.violation =
          `State Machine Safety: n${first.node} applied ${e.index}@${first.term} but n${id} applied ` +
          `${e.index}@${e.term} (at ${nowMs}ms)`
        return
      }
    }
  }
}
