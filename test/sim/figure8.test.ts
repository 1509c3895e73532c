import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { RaftMessage } from '../../src/engines/raft/messages.js'
import { encodeKvCommand } from '../../src/kv/register-commands.js'
import type { HostResult } from '../../src/node/host.js'
import { createSimCluster, type SimCluster } from '../../src/sim/cluster.js'
import { DEFAULT_SIM_OPTIONS } from '../../src/sim/options.js'
import type { SimNode } from '../../src/sim/sim-node.js'

/**
 * Raft paper, Figure 8, played through the real host loop in the simulator, step by step.
 * Random fault schedules almost never open its window here — new leaders append a no-op and
 * send only after persisting — so the story is scripted: an entry of an old term reaches a
 * majority through a later leader, which (with the planted bug) commits it by counting replicas;
 * that leader is cut off, and a node holding a conflicting entry of a newer term is elected.
 * Without the bug the entry never commits that way and nothing is violated; with it, the
 * simulator's safety monitor must object.
 */

type Node = SimNode<RaftMessage>

function runUntil(c: SimCluster, done: () => boolean, withinMs: number, what: string): void {
  const deadline = c.queue.now() + withinMs
  while (!done()) {
    assert.ok(
      c.queue.now() < deadline && c.queue.runNext(),
      `figure 8 story: no ${what} within ${withinMs}ms`,
    )
  }
}

const leaderAmong = (nodes: readonly Node[]) => nodes.find((n) => n.status()?.role === 'leader')

function playFigure8(bug: boolean): { violation: string | undefined; acked: boolean } {
  const c = createSimCluster(8, {
    ...DEFAULT_SIM_OPTIONS,
    nodes: 3,
    nemesis: [],
    msgBytesMax: 1,
    bugs: bug ? ['commitPreviousTermByCount'] : [],
  })
  for (const n of c.nodes) n.start()
  runUntil(c, () => leaderAmong(c.nodes) !== undefined, 2_000, 'first leader')
  c.queue.runUntil(c.queue.now() + 200, 1_000_000)
  // (a) L leads term t; it takes a write that it cannot replicate.
  const L = leaderAmong(c.nodes) as Node
  const [A, B] = c.nodes.filter((n) => n !== L) as [Node, Node]
  c.network.partition([[L.id], [A.id, B.id]])
  let ack: HostResult | undefined
  L.propose(encodeKvCommand({ f: 'put', key: 'x', value: 'old-term' }), (r) => {
    ack = r
  })
  const i = (L.status()?.lastIndex ?? 0) as number
  // (b) A or B is elected in term t+1 and appends its no-op at the same index — then is cut off
  // before anyone else gets it.
  runUntil(c, () => leaderAmong([A, B]) !== undefined, 3_000, 'leader of term t+1')
  const F2 = leaderAmong([A, B]) as Node
  const F1 = F2 === A ? B : A
  c.network.partition([[L.id], [F2.id], [F1.id]])
  // (c) L comes back with F1 and is elected again; F1 lacks L's entry, so L sends it alone
  // (one entry per message) and F1 acknowledges exactly that old-term entry.
  c.network.partition([[L.id, F1.id], [F2.id]])
  const lTerm = () => L.status()?.term ?? 0
  runUntil(
    c,
    () => L.status()?.role === 'leader' && lTerm() > (F2.status()?.term ?? 0),
    5_000,
    'leader L again',
  )
  // (d) Cut L off as soon as it commits the old entry, or once F1 has L's next entry (no bug).
  runUntil(
    c,
    () => (L.status()?.commit ?? 0) >= i || (F1.status()?.lastIndex ?? 0) > i,
    2_000,
    'old entry replicated',
  )
  c.network.partition([[L.id], [F1.id, F2.id]])
  // (e) F2, whose log ends with the newer term t+1, may now win F1's vote and lead.
  c.queue.runUntil(c.queue.now() + 3_000, 1_000_000)
  return { violation: c.monitor.violation, acked: ack?.ok === true }
}

describe('sim: Figure 8 through the host loop', () => {
  it('without the bug, the old-term entry is not committed by counting and nothing breaks', () => {
    const r = playFigure8(false)
    assert.equal(r.violation, undefined)
    assert.equal(r.acked, false, 'the old-term write was acknowledged')
  })

  it('with commitPreviousTermByCount, the acknowledged write is lost and the monitor catches it', () => {
    const r = playFigure8(true)
    assert.ok(r.acked, 'the planted bug did not commit the old-term entry in this story')
    assert.match(r.violation ?? '', /Leader Completeness|State Machine Safety/)
  })
})
