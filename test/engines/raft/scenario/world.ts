import type { NodeId, ReadId } from '../../../../src/core/ids.js'
import type { ProposeResult } from '../../../../src/engines/engine.js'
import type { RaftMessage } from '../../../../src/engines/raft/messages.js'
import type { Cluster } from '../harness/cluster.js'
import type { MessageFilter } from './filter.js'
import { type Line, type NodeList, ScriptError } from './script.js'

/** STABILIZE_ROUNDS_MAX bounds the delivery rounds of one `stabilize`, as Cluster.stabilize does. */
const STABILIZE_ROUNDS_MAX = 1000

/** Step is one compiled line: it acts on the world, or checks it. */
export interface Step {
  readonly at: Line
  run(w: World): void
}

/**
 * World is what a running scenario knows besides the cluster: the answer to the last proposal, the
 * last read asked of each node, and the messages the last delivering command delivered (so that
 * round trips can be counted). Delivery goes through here rather than Cluster.stabilize for that
 * reason; the semantics are Cluster's.
 */
export class World {
  private current: Cluster | undefined
  lastProposal: { readonly at: Line; readonly result: ProposeResult } | undefined
  readonly lastRead = new Map<number, ReadId>()
  /** delivered: the messages the last `deliver`, `stabilize`, `run` or `tick-until-leader` delivered. */
  delivered: RaftMessage[] = []
  /** expectedViolation: the next step must fail with an InvariantViolation containing `text`. */
  expectedViolation: { readonly at: Line; readonly text: string } | undefined

  constructor(readonly at: () => Line) {}

  get cluster(): Cluster {
    if (!this.current)
      throw new ScriptError(this.at(), 'no cluster yet: a scenario starts with `cluster <n>`')
    return this.current
  }

  set cluster(c: Cluster) {
    if (this.current) throw new ScriptError(this.at(), 'a scenario has one `cluster` line')
    this.current = c
  }

  get hasCluster(): boolean {
    return this.current !== undefined
  }

  fail(reason: string): never {
    throw new ScriptError(this.at(), reason)
  }

  /** ids resolves a node list; `all` is every live node. */
  ids(list: NodeList): NodeId[] {
    const all = this.cluster.ids
    if (list === 'all') return this.cluster.liveIds()
    for (const id of list)
      if (!all.includes(id as NodeId)) this.fail(`no node ${id} (nodes: ${all.join(',')})`)
    return list as NodeId[]
  }

  /** live checks that a node is running, for commands and expectations that need its engine. */
  live(id: number): NodeId {
    this.ids([id])
    if (!this.cluster.isLive(id)) this.fail(`node ${id} is crashed`)
    return id as NodeId
  }

  beginDelivery(): void {
    this.delivered = []
  }

  /** deliver delivers the queued messages that match, recording those that reach a live node. */
  deliver(filter?: MessageFilter): number {
    const c = this.cluster
    return c.deliver((m) => {
      if (filter && !filter(m)) return false
      if (c.connected(m.from, m.to) && c.isLive(m.to)) this.delivered.push(m)
      return true
    })
  }

  /**
   * stabilize delivers (the matching) messages, and those they cause, until none that matches is
   * in flight and no node has a Ready; unmatched messages stay queued.
   */
  stabilize(filter?: MessageFilter): void {
    const c = this.cluster
    for (let round = 0; round < STABILIZE_ROUNDS_MAX; round++) {
      c.process()
      if (!c.pending().some((m) => !filter || filter(m))) return
      this.deliver(filter)
    }
    this.fail(`stabilize: still busy after ${STABILIZE_ROUNDS_MAX} rounds (${c.pending().length} in flight)`)
  }
}
