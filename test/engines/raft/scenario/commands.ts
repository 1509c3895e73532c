import { nodeId } from '../../../../src/core/ids.js'
import type { MemberChange, MemberChangeOp } from '../../../../src/engines/engine.js'
import {
  DEFAULT_RAFT_OPTIONS,
  type RaftOptions,
  type RaftTestingBug,
} from '../../../../src/engines/raft/options.js'
import { Cluster, type ClusterOptions } from '../harness/cluster.js'
import { encodeCommand } from '../harness/state-machine.js'
import { parseFilter } from './filter.js'
import { type Args, checkKeys, keyValues, parseBool, parseNat, parseNodes } from './script.js'
import type { World } from './world.js'

/**
 * The commands of the script format: the Cluster's verbs, one per line.
 *
 *   cluster <n> [seed=<s>] [learners=<ids>] [<RaftOptions field>=<value>…] [bug=<testing bug>,…]
 *                                 options default to the engine's (preVote and checkQuorum on)
 *   campaign <id>                 the node starts an election now (pre-vote first if enabled)
 *   elect <id>                    campaign + stabilize; fails unless <id> is leader
 *   tick <ids|all> [<n>]          n ticks (default 1) on those nodes; no message is delivered
 *   run <n>                       n times: tick every live node once, then stabilize
 *   tick-until-leader             tick and stabilize until a leader every reachable member follows
 *   process                       handle every pending Ready without delivering anything
 *   stabilize [<filter>]          deliver (matching) messages until none is in flight
 *   deliver [<filter>]            deliver the (matching) messages queued now, oldest first;
 *                                 fails if none matches (the story is not what the script says)
 *   duplicate [<filter>]          deliver a copy of each (matching) queued message, keep the original
 *   drop [<filter>]               throw the (matching) queued messages away
 *   isolate <id> | partition <ids> | <ids> [| …] | heal
 *   crash <id> | restart <id> | add-node <id>
 *   propose <id> <value>          one command; `expect propose-…` checks the answer
 *   propose-batch <id> <v1> <v2>… one proposal of several commands
 *   change <id> <op> <node> [<op> <node>…] [transition=auto|joint|joint-explicit]
 *                                 op: addVoter | addLearner | remove (alias removeNode)
 *   change <id> leave             leave a joint configuration (an empty change)
 *   transfer <from> <to>          leadership transfer
 *   read <id>                     a read barrier; `expect read…` checks the answer
 *   compact <id> [retain=<n>]     snapshot the node's state machine and compact its log
 *
 * The filter syntax is in filter.ts.
 */
export type Command = (a: Args) => (w: World) => void

const OPS: Record<string, MemberChangeOp> = {
  addVoter: 'addVoter',
  addLearner: 'addLearner',
  remove: 'remove',
  removeNode: 'remove',
}
const TRANSITIONS = ['auto', 'joint', 'joint-explicit'] as const
const BUGS: readonly RaftTestingBug[] = [
  'commitPreviousTermByCount',
  'unpersistedVote',
  'readWithoutBarrier',
  'applyBeforeCommit',
]

function one(a: Args): number {
  const id = a.node()
  a.end()
  return id
}

function value(s: string, a: Args): string {
  if (s === 'none') a.fail('`none` is reserved (it means the empty list in expectations)')
  return s
}

export const COMMANDS: Record<string, Command> = {
  cluster: (a) => {
    const o = clusterOptions(a)
    return (w: World) => {
      w.cluster = Cluster.create(o)
    }
  },
  campaign: (a) => {
    const id = one(a)
    return (w: World) => w.cluster.campaign(w.live(id))
  },
  elect: (a) => {
    const id = one(a)
    return (w: World) => {
      w.beginDelivery()
      w.cluster.campaign(w.live(id))
      w.stabilize()
      const st = w.cluster.status(id)
      if (st.role !== 'leader') w.fail(`elect: node ${id} is ${st.role} in term ${st.term}, not leader`)
    }
  },
  tick: (a) => {
    const ids = a.nodes()
    const n = a.done ? 1 : a.int('tick count')
    a.end()
    return (w: World) => w.cluster.tick(w.ids(ids), n)
  },
  run: (a) => {
    const n = a.int('tick count')
    a.end()
    return (w: World) => {
      w.beginDelivery()
      for (let k = 0; k < n; k++) {
        w.cluster.tick()
        w.stabilize()
      }
    }
  },
  'tick-until-leader': (a) => {
    a.end()
    return (w: World) => {
      w.beginDelivery()
      const c = w.cluster
      for (let t = 0; t <= 200; t++) {
        w.stabilize()
        if (c.stableLeader() !== undefined) return
        c.tick()
      }
      w.fail('tick-until-leader: no stable leader after 200 ticks')
    }
  },
  process: (a) => {
    a.end()
    return (w: World) => w.cluster.process()
  },
  stabilize: (a) => {
    const f = a.done ? undefined : parseFilter(a.rest(), a)
    return (w: World) => {
      w.beginDelivery()
      w.stabilize(f)
    }
  },
  deliver: (a) => {
    const f = a.done ? undefined : parseFilter(a.rest(), a)
    return (w: World) => {
      w.beginDelivery()
      // Strict: a deliver that matches nothing means the story is not what the script says.
      if (!w.cluster.pending().some((m) => !f || f(m))) w.fail('deliver: no queued message matches')
      w.deliver(f)
    }
  },
  duplicate: (a) => {
    const f = a.done ? undefined : parseFilter(a.rest(), a)
    return (w: World) => {
      w.beginDelivery()
      const c = w.cluster
      const matching = c.pending().flatMap((m, i) => (!f || f(m) ? [i] : []))
      if (matching.length === 0) w.fail('duplicate: no queued message matches')
      // Duplicating leaves the originals queued and appends new messages at the end, so the
      // indexes taken before stay valid.
      for (const i of matching) {
        const m = c.pending()[i]
        if (m && c.duplicateAt(i)) w.delivered.push(m)
      }
    }
  },
  drop: (a) => {
    const f = a.done ? undefined : parseFilter(a.rest(), a)
    return (w: World) => {
      w.cluster.drop(f)
    }
  },
  isolate: (a) => {
    const id = one(a)
    return (w: World) => w.cluster.isolate(w.ids([id])[0] as number)
  },
  partition: (a) => {
    const groups = a
      .rest()
      .join(' ')
      .split('|')
      .map((g) => g.trim())
    if (groups.length < 2 || groups.some((g) => g === '' || /\s/.test(g))) {
      a.fail('partition takes groups of ids separated by `|`, e.g. `partition 1,2 | 3,4,5`')
    }
    const lists = groups.map((g) => parseNodes(g, a))
    if (lists.includes('all')) a.fail('`all` is not a partition group')
    return (w: World) => w.cluster.partition(...lists.map((l) => w.ids(l)))
  },
  heal: (a) => {
    a.end()
    return (w: World) => w.cluster.heal()
  },
  crash: (a) => {
    const id = one(a)
    return (w: World) => w.cluster.crash(w.live(id))
  },
  restart: (a) => {
    const id = one(a)
    return (w: World) => w.cluster.restart(w.ids([id])[0] as number)
  },
  'add-node': (a) => {
    const id = one(a)
    return (w: World) => w.cluster.addNode(id)
  },
  propose: (a) => {
    const id = a.node()
    const v = value(a.next('value'), a)
    a.end()
    return (w: World) => {
      w.lastProposal = { at: a.at, result: w.cluster.propose(w.live(id), v) }
    }
  },
  'propose-batch': (a) => {
    const id = a.node()
    const vs = a.rest().map((s) => value(s, a))
    if (vs.length < 2) a.fail('propose-batch takes at least two values (use propose for one)')
    return (w: World) => {
      // Cluster.propose sends one command; a batch goes to the engine directly, then every
      // Ready is handled as Cluster would.
      w.cluster.trace(`propose-batch n${id} ${vs.join(' ')}`)
      const result = w.cluster.engine(w.live(id)).propose(vs.map(encodeCommand))
      w.cluster.process()
      w.lastProposal = { at: a.at, result }
    }
  },
  change: (a) => {
    const id = a.node()
    const change = memberChange(a)
    return (w: World) => {
      w.lastProposal = { at: a.at, result: w.cluster.changeMembers(w.live(id), change) }
    }
  },
  transfer: (a) => {
    const from = a.node()
    const to = a.node()
    a.end()
    return (w: World) => w.cluster.transferLeadership(w.live(from), to)
  },
  read: (a) => {
    const id = one(a)
    return (w: World) => {
      w.lastRead.set(id, w.cluster.read(w.live(id)))
    }
  },
  compact: (a) => {
    const id = a.node()
    const kv = keyValues(a.rest(), a)
    checkKeys(kv, ['retain'], a)
    const r = kv.get('retain')
    const retain = r === undefined ? 0 : parseNat(r, 'retain', a)
    return (w: World) => w.cluster.compact(w.live(id), retain)
  },
}

function memberChange(a: Args): MemberChange {
  if (a.peek() === 'leave') {
    a.next('leave')
    a.end()
    return { changes: [] }
  }
  const changes: { op: MemberChangeOp; node: ReturnType<typeof nodeId> }[] = []
  let transition: MemberChange['transition']
  while (!a.done) {
    const w = a.next('op')
    if (w.startsWith('transition=')) {
      const t = w.slice('transition='.length)
      if (!(TRANSITIONS as readonly string[]).includes(t))
        a.fail(`transition must be one of ${TRANSITIONS.join(', ')}`)
      transition = t as MemberChange['transition']
      continue
    }
    const op = OPS[w]
    if (!op) a.fail(`unknown change \`${w}\` (known: ${Object.keys(OPS).join(', ')}, leave)`)
    changes.push({ op, node: nodeId(a.node()) })
  }
  if (changes.length === 0) a.fail('change needs at least one `<op> <node>` (or `leave`)')
  return transition ? { changes, transition } : { changes }
}

type Writable<T> = { -readonly [K in keyof T]: T[K] }

function clusterOptions(a: Args): ClusterOptions {
  const nodes = a.int('node count')
  if (nodes < 1) a.fail('a cluster has at least one node')
  const kv = keyValues(a.rest(), a)
  const o: Writable<ClusterOptions> = { nodes }
  const raft: Record<string, unknown> = {}
  for (const [key, v] of kv) {
    switch (key) {
      case 'seed':
        o.seed = parseNat(v, key, a)
        break
      case 'learners':
        o.learners = v.split(',').map((x) => parseNat(x, 'learner', a))
        break
      case 'checkInvariants':
        o.checkInvariants = parseBool(v, key, a)
        break
      case 'bug': {
        const bugs: Partial<Record<RaftTestingBug, boolean>> = {}
        for (const b of v.split(',')) {
          if (!BUGS.includes(b as RaftTestingBug))
            a.fail(`unknown testing bug \`${b}\` (known: ${BUGS.join(', ')})`)
          bugs[b as RaftTestingBug] = true
        }
        raft.testingBugs = bugs
        break
      }
      default:
        raft[key] = raftOption(key, v, a)
    }
  }
  o.raft = raft as Partial<Omit<RaftOptions, 'rng'>>
  return o
}

function raftOption(key: string, v: string, a: Args): unknown {
  const defaults = DEFAULT_RAFT_OPTIONS as unknown as Record<string, unknown>
  if (!(key in defaults)) {
    a.fail(
      `unknown cluster option \`${key}\` (known: seed, learners, checkInvariants, bug, ${Object.keys(defaults).join(', ')})`,
    )
  }
  const d = defaults[key]
  if (typeof d === 'boolean') return parseBool(v, key, a)
  if (typeof d === 'number') return parseNat(v, key, a)
  if (key === 'readMode') {
    if (v !== 'safe' && v !== 'lease') a.fail('readMode must be safe or lease')
    return v
  }
  return a.fail(`cluster option \`${key}\` cannot be set from a script`)
}
