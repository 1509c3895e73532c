import { type Index, type NodeId, nodeId, readId } from '../core/ids.js'
import { seededRng } from '../core/rng.js'
import type { Entry, HardState, ProposeResult, Ready } from '../engines/engine.js'
import type { RaftMessage } from '../engines/raft/messages.js'
import { DEFAULT_RAFT_OPTIONS } from '../engines/raft/options.js'
import { RaftEngine } from '../engines/raft/raft.js'

/**
 * The demo: a 3-node Raft group driven in this process, in virtual time, with an in-memory disk
 * and network. It shows an election, replicated commands, a linearizable read from a follower,
 * a leader crash with failover, and the crashed node catching up after a restart. The real node
 * (separate processes, WAL, TCP) replaces this driver in a later milestone; the engine is the same.
 */

const TICK_MS = 100
const TICKS_MAX = 1000
const text = new TextEncoder()
const utf8 = new TextDecoder()

interface DemoDisk {
  hardState?: HardState
  entries: Entry[]
}

class DemoNode {
  engine: RaftEngine
  readonly disk: DemoDisk = { entries: [] }
  applied: string[] = []
  up = true

  constructor(
    readonly id: NodeId,
    voters: readonly NodeId[],
    private readonly seed: number,
  ) {
    this.engine = this.boot({ id, bootstrap: voters })
  }

  private boot(start: ConstructorParameters<typeof RaftEngine>[1]): RaftEngine {
    return new RaftEngine({ ...DEFAULT_RAFT_OPTIONS, rng: seededRng(this.seed * 100 + this.id) }, start)
  }

  /** restart rebuilds the node from its disk alone; its state machine replays the log. */
  restart(): void {
    this.engine = this.boot({ id: this.id, hardState: this.disk.hardState, entries: this.disk.entries })
    this.applied = []
    this.up = true
  }

  /** persist does the host's step 1 for one Ready: entries replace any at the same indexes. */
  persist(rd: Ready<RaftMessage>): void {
    const first = rd.persist.entries[0]
    if (first) {
      this.disk.entries = this.disk.entries.filter((e) => e.index < first.index).concat(rd.persist.entries)
    }
    if (rd.persist.hardState) this.disk.hardState = rd.persist.hardState
  }
}

type Say = (line: string) => void

class DemoCluster {
  readonly nodes: DemoNode[]
  private inflight: RaftMessage[] = []
  private readonly reads = new Map<number, Index>()
  ticks = 0

  constructor(count: number, seed: number) {
    const ids = Array.from({ length: count }, (_, k) => nodeId(k + 1))
    this.nodes = ids.map((id) => new DemoNode(id, ids, seed))
  }

  node(id: NodeId): DemoNode {
    return this.nodes[id - 1] as DemoNode
  }

  time(): string {
    return `${((this.ticks * TICK_MS) / 1000).toFixed(1).padStart(5)}s`
  }

  /** drain runs every node's Ready and delivers messages until the group is quiet. */
  drain(): void {
    for (let rounds = 0; rounds < 10_000; rounds++) {
      let busy = false
      for (const n of this.nodes) {
        if (!n.up || !n.engine.hasReady()) continue
        busy = true
        const rd = n.engine.ready()
        n.persist(rd)
        this.inflight.push(...rd.messages)
        for (const e of rd.committed)
          if (e.type === 'normal' && e.data.length > 0) n.applied.push(utf8.decode(e.data))
        for (const r of rd.reads) this.reads.set(r.id, r.index)
        n.engine.advance(rd)
      }
      const batch = this.inflight
      this.inflight = []
      for (const m of batch) {
        const to = this.node(m.to)
        if (to.up && this.node(m.from).up) to.engine.step(m)
      }
      if (!busy && batch.length === 0) return
    }
    throw new Error('demo: the group did not settle')
  }

  tick(): void {
    this.ticks++
    for (const n of this.nodes) if (n.up) n.engine.tick()
    this.drain()
  }

  leader(): DemoNode | undefined {
    return this.nodes.find((n) => n.up && n.engine.status().role === 'leader')
  }

  waitForLeader(): DemoNode {
    for (let i = 0; i < TICKS_MAX; i++) {
      const l = this.leader()
      if (l) return l
      this.tick()
    }
    throw new Error('demo: no leader elected')
  }

  propose(n: DemoNode, command: string): ProposeResult {
    const result = n.engine.propose([text.encode(command)])
    this.drain()
    return result
  }

  readBarrier(n: DemoNode, id: number): Index {
    n.engine.readBarrier(readId(id))
    for (let i = 0; i < TICKS_MAX && !this.reads.has(id); i++) this.tick()
    const index = this.reads.get(id)
    if (index === undefined) throw new Error('demo: read barrier not granted')
    return index
  }
}

/** runDemo plays the story and returns an exit code. */
export function runDemo(seed = 7, say: Say = (l) => console.log(l)): number {
  const c = new DemoCluster(3, seed)
  const name = (n: { id: NodeId }) => `n${n.id}`
  say(`Synod demo: a 3-node Raft group in one process (virtual time, 1 tick = 100 ms, seed ${seed})`)
  say('')
  c.drain()
  say(`[${c.time()}] n1, n2, n3 start as followers with pre-vote and check-quorum on`)
  const first = c.waitForLeader()
  say(`[${c.time()}] ${name(first)} is leader for term ${first.engine.status().term}`)

  const commands = ['x=1', 'y=2', 'x=3', 'z=4', 'y=5']
  const r = first.engine.propose(commands.map((cmd) => text.encode(cmd)))
  c.drain()
  if (!r.ok) throw new Error(`demo: proposal refused: ${r.error.code}`)
  say(
    `[${c.time()}] ${name(first)} proposed ${commands.length} commands as one batch, at indexes ${r.firstIndex}..`,
  )
  for (const n of c.nodes) say(`           ${name(n)} applied: ${n.applied.join(' ')}`)

  const follower = c.nodes.find((n) => n !== first) as DemoNode
  const refused = follower.engine.propose([text.encode('w=6')])
  if (!refused.ok) {
    const hint = refused.error.code === 'not-leader' ? ` (leader hint: n${refused.error.leaderHint})` : ''
    say(`[${c.time()}] a proposal on follower ${name(follower)} is refused: ${refused.error.code}${hint}`)
  }
  const readIndex = c.readBarrier(follower, 1)
  say(`[${c.time()}] linearizable read on ${name(follower)}: ReadIndex ${readIndex} confirmed by a quorum`)

  first.up = false
  const crashedAt = c.ticks
  say(`[${c.time()}] crash ${name(first)}, the leader`)
  const second = c.waitForLeader()
  const failoverMs = (c.ticks - crashedAt) * TICK_MS
  say(
    `[${c.time()}] ${name(second)} is leader for term ${second.engine.status().term} (failover took ${failoverMs} ms)`,
  )
  c.propose(second, 'x=7')
  c.propose(second, 'z=8')
  say(`[${c.time()}] ${name(second)} committed x=7 z=8 with the two live nodes`)

  first.restart()
  c.drain()
  for (let i = 0; i < 30; i++) c.tick()
  say(`[${c.time()}] restart ${name(first)} from its disk: it rejoins as a follower and catches up`)
  for (const n of c.nodes) say(`           ${name(n)} applied: ${n.applied.join(' ')}`)

  const agree = c.nodes.every((n) => n.applied.join() === second.applied.join())
  say('')
  say('node  role       term  commit  applied')
  for (const n of c.nodes) {
    const s = n.engine.status()
    say(
      `${name(n).padEnd(5)} ${s.role.padEnd(10)} ${String(s.term).padStart(4)}  ${String(s.commit).padStart(6)}  ${String(s.applied).padStart(7)}`,
    )
  }
  say('')
  say(agree ? 'All three state machines agree.' : 'State machines DIFFER — this is a bug.')
  return agree ? 0 : 1
}
