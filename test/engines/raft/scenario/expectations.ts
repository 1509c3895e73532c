import { NO_NODE, type NodeId } from '../../../../src/core/ids.js'
import type { Membership, Role } from '../../../../src/engines/engine.js'
import type { RaftMessage } from '../../../../src/engines/raft/messages.js'
import type { RaftInspection } from '../../../../src/engines/raft/start.js'
import { parseFilter } from './filter.js'
import {
  type Args,
  checkKeys,
  keyValues,
  type NodeList,
  parseBool,
  parseNat,
  parseNodeOrNone,
  parseNodes,
} from './script.js'
import type { World } from './world.js'

/**
 * The `expect` lines. Each one fails the scenario, naming its line, when the cluster is not as
 * stated. Per-node checks take a node list (`1,2,3`, or `all`: every live node) and must hold for
 * every node in it.
 *
 *   expect leader <id>|none            the live leader of the highest term (Cluster.leader())
 *   expect leader in <ids>             … is one of these
 *   expect role <ids> = follower|pre-candidate|candidate|leader
 *   expect term|commit|applied-index|last-index|compacted <ids> =|>=|<= <n>
 *   expect applied <ids> = <v1> <v2>…|none     the state machine's values, in order
 *   expect log-terms <ids> = <t1> <t2>…|none   the terms of the entries held after the compaction point
 *   expect vote <ids> = <id>|none
 *   expect follows <ids> = <id>|none           whom the node believes leads its term
 *   expect transferee <id> = <id>|none         the leader's leadership-transfer target
 *   expect membership <ids> voters=<ids> [outgoing=<ids>] [learners=<ids>] [learners-next=<ids>]
 *          [auto-leave=true|false]             fields left out must be empty (auto-leave: false)
 *   expect progress <leader> of <id> [state=probe|replicate|snapshot] [match=<n>] [next=<n>]
 *          [inflight=<n>] [paused=true|false]
 *   expect pending [<filter>] =|>=|<= <n>      messages in flight now
 *   expect delivered [<filter>] =|>=|<= <n>    messages the last deliver/stabilize/run delivered
 *   expect propose-ok [index=<n>] [term=<n>]   the last propose/propose-batch/change was accepted
 *   expect propose-error <code> [hint=<id>|none]
 *   expect read <id> index=<n>                 the node's last read was granted at index n
 *   expect read-pending <id> | expect read-dropped <id>
 *   expect violation <text>                    the next line, the last, must trip a safety invariant
 *                                              whose message contains <text>
 */
export type Expectation = (a: Args) => (w: World) => void

type NumOp = '=' | '>=' | '<='

function numOp(a: Args): NumOp {
  const op = a.next('`=`, `>=` or `<=`')
  if (op !== '=' && op !== '>=' && op !== '<=') a.fail(`expected \`=\`, \`>=\` or \`<=\`, got \`${op}\``)
  return op
}

function holds(op: NumOp, got: number, want: number): boolean {
  return op === '=' ? got === want : op === '>=' ? got >= want : got <= want
}

/** perNode builds a check that runs `check` on every listed node's inspection. */
function perNode(
  nodes: NodeList,
  what: string,
  check: (insp: RaftInspection, id: NodeId) => string | undefined,
) {
  return (w: World) => {
    const bad: string[] = []
    for (const id of w.ids(nodes)) {
      const err = check(w.cluster.inspect(w.live(id)), id)
      if (err !== undefined) bad.push(`node ${id}: ${err}`)
    }
    if (bad.length > 0) w.fail(`expect ${what}: ${bad.join('; ')}`)
  }
}

function numeric(get: (i: RaftInspection) => number, what: string): Expectation {
  return (a) => {
    const nodes = a.nodes()
    const op = numOp(a)
    const want = a.int(what)
    a.end()
    return perNode(nodes, `${what} ${op} ${want}`, (i) => {
      const got = get(i)
      return holds(op, got, want) ? undefined : `${what} is ${got}`
    })
  }
}

function nodeValued(get: (i: RaftInspection) => number, what: string): Expectation {
  return (a) => {
    const nodes = a.nodes()
    a.keyword('=')
    const want = parseNodeOrNone(a.next('node id or none'), a)
    a.end()
    const show = (n: number) => (n === NO_NODE ? 'none' : String(n))
    return perNode(nodes, `${what} = ${show(want)}`, (i) => {
      const got = get(i)
      return got === want ? undefined : `${what} is ${show(got)}`
    })
  }
}

/** list reads `= v1 v2 …` or `= none` (the empty list). */
function list(a: Args): string[] {
  a.keyword('=')
  const vs = a.rest()
  if (vs.length === 0) a.fail('expected values after `=` (or `none` for the empty list)')
  if (vs.length === 1 && vs[0] === 'none') return []
  if (vs.includes('none')) a.fail('`none` stands alone: it means the empty list')
  return vs
}

const show = (xs: readonly (string | number)[]) => (xs.length === 0 ? 'none' : xs.join(' '))

const ROLES: readonly Role[] = ['follower', 'pre-candidate', 'candidate', 'leader']

export const EXPECTATIONS: Record<string, Expectation> = {
  leader: (a) => {
    if (a.peek() === 'in') {
      a.next('in')
      const ids = a.nodes()
      a.end()
      return (w: World) => {
        const l = w.cluster.leader()
        if (l === undefined || !w.ids(ids).includes(l))
          w.fail(`expect leader in ${w.ids(ids)}: leader is ${l ?? 'none'}`)
      }
    }
    const want = parseNodeOrNone(a.next('leader id or none'), a)
    a.end()
    return (w: World) => {
      const l = w.cluster.leader() ?? NO_NODE
      if (l !== want) w.fail(`expect leader ${want || 'none'}: leader is ${l || 'none'}`)
    }
  },
  role: (a) => {
    const nodes = a.nodes()
    a.keyword('=')
    const role = a.next('role') as Role
    if (!ROLES.includes(role)) a.fail(`unknown role \`${role}\` (known: ${ROLES.join(', ')})`)
    a.end()
    return perNode(nodes, `role = ${role}`, (i) =>
      i.role === role ? undefined : `${i.role} in term ${i.term}`,
    )
  },
  term: numeric((i) => i.term, 'term'),
  commit: numeric((i) => i.commit, 'commit'),
  'applied-index': numeric((i) => i.applied, 'applied-index'),
  'last-index': numeric((i) => i.lastIndex, 'last-index'),
  compacted: numeric((i) => i.compactedIndex, 'compacted'),
  vote: nodeValued((i) => i.vote, 'vote'),
  follows: nodeValued((i) => i.leader, 'follows'),
  transferee: nodeValued((i) => i.leadTransferee, 'transferee'),
  applied: (a) => {
    const nodes = a.nodes()
    const want = list(a)
    return (w: World) => {
      const bad: string[] = []
      for (const id of w.ids(nodes)) {
        const got = w.cluster.applied(w.live(id))
        if (show(got) !== show(want)) bad.push(`node ${id} applied ${show(got)}`)
      }
      if (bad.length > 0) w.fail(`expect applied = ${show(want)}: ${bad.join('; ')}`)
    }
  },
  'log-terms': (a) => {
    const nodes = a.nodes()
    const want = list(a).map((t) => parseNat(t, 'term', a))
    return perNode(nodes, `log-terms = ${show(want)}`, (i) => {
      const got = i.entries.map((e) => e.term)
      return show(got) === show(want) ? undefined : `log-terms are ${show(got)} (after ${i.compactedIndex})`
    })
  },
  membership: (a) => {
    const nodes = a.nodes()
    const want = membership(a)
    return perNode(nodes, `membership ${describeMembership(want)}`, (i) => {
      const got = describeMembership(i.membership)
      return got === describeMembership(want) ? undefined : got
    })
  },
  progress: (a) => {
    const leader = a.node('leader id')
    a.keyword('of')
    const of = a.node('follower id')
    const kv = keyValues(a.rest(), a)
    checkKeys(kv, ['state', 'match', 'next', 'inflight', 'paused'], a)
    if (kv.size === 0)
      a.fail('expect progress needs at least one of state=, match=, next=, inflight=, paused=')
    const state = kv.get('state')
    if (state !== undefined && !['probe', 'replicate', 'snapshot'].includes(state)) {
      a.fail('state must be probe, replicate or snapshot')
    }
    const nums: [string, number][] = []
    for (const k of ['match', 'next', 'inflight']) {
      const v = kv.get(k)
      if (v !== undefined) nums.push([k, parseNat(v, k, a)])
    }
    const pausedWord = kv.get('paused')
    const paused = pausedWord === undefined ? undefined : parseBool(pausedWord, 'paused', a)
    return (w: World) => {
      const pr = w.cluster.engine(w.live(leader)).progressOf(of as NodeId)
      if (!pr) w.fail(`expect progress: node ${leader} is not a leader tracking node ${of}`)
      const got: Record<string, number> = { match: pr.match, next: pr.next, inflight: pr.inflights.count() }
      const bad: string[] = []
      if (state !== undefined && pr.state !== state) bad.push(`state is ${pr.state}`)
      for (const [k, v] of nums) if (got[k] !== v) bad.push(`${k} is ${got[k]}`)
      if (paused !== undefined && pr.isPaused() !== paused) bad.push(`paused is ${pr.isPaused()}`)
      if (bad.length > 0) w.fail(`expect progress ${leader} of ${of}: ${bad.join(', ')}`)
    }
  },
  pending: (a) => messageCount(a, 'pending', (w) => w.cluster.pending()),
  delivered: (a) => messageCount(a, 'delivered', (w) => w.delivered),
  'propose-ok': (a) => {
    const kv = keyValues(a.rest(), a)
    checkKeys(kv, ['index', 'term'], a)
    const index = kv.has('index') ? parseNat(kv.get('index') as string, 'index', a) : undefined
    const term = kv.has('term') ? parseNat(kv.get('term') as string, 'term', a) : undefined
    return (w: World) => {
      const p = w.lastProposal
      if (!p) w.fail('expect propose-ok: nothing was proposed yet')
      const r = p.result
      if (!r.ok)
        w.fail(`expect propose-ok: the proposal (line ${p.at.line}) was refused: ${JSON.stringify(r.error)}`)
      if (index !== undefined && r.firstIndex !== index) w.fail(`expect propose-ok: index is ${r.firstIndex}`)
      if (term !== undefined && r.term !== term) w.fail(`expect propose-ok: term is ${r.term}`)
    }
  },
  'propose-error': (a) => {
    const code = a.next('error code')
    const kv = keyValues(a.rest(), a)
    checkKeys(kv, ['hint'], a)
    const hintWord = kv.get('hint')
    const hint = hintWord === undefined ? undefined : parseNodeOrNone(hintWord, a)
    return (w: World) => {
      const p = w.lastProposal
      if (!p) w.fail('expect propose-error: nothing was proposed yet')
      const r = p.result
      if (r.ok)
        w.fail(
          `expect propose-error ${code}: the proposal (line ${p.at.line}) was accepted at ${r.firstIndex}@${r.term}`,
        )
      if (r.error.code !== code) w.fail(`expect propose-error ${code}: got ${JSON.stringify(r.error)}`)
      if (hint !== undefined) {
        const got = 'leaderHint' in r.error ? r.error.leaderHint : undefined
        if (got !== hint)
          w.fail(`expect propose-error ${code} hint=${hint || 'none'}: hint is ${got ?? 'absent'}`)
      }
    }
  },
  read: (a) => {
    const id = a.node()
    const kv = keyValues(a.rest(), a)
    checkKeys(kv, ['index'], a)
    if (!kv.has('index')) a.fail('expect read needs index=<n> (or use read-pending / read-dropped)')
    const index = parseNat(kv.get('index') as string, 'index', a)
    return (w: World) => {
      const s = readState(w, id)
      if (s !== index)
        w.fail(
          `expect read ${id} index=${index}: the read is ${typeof s === 'number' ? `granted at ${s}` : s}`,
        )
    }
  },
  'read-pending': (a) => {
    const id = a.node()
    a.end()
    return (w: World) => {
      const s = readState(w, id)
      if (s !== 'pending')
        w.fail(`expect read-pending ${id}: the read is ${typeof s === 'number' ? `granted at ${s}` : s}`)
    }
  },
  'read-dropped': (a) => {
    const id = a.node()
    a.end()
    return (w: World) => {
      const s = readState(w, id)
      if (s !== 'dropped')
        w.fail(`expect read-dropped ${id}: the read is ${typeof s === 'number' ? `granted at ${s}` : s}`)
    }
  },
  violation: (a) => {
    const text = a.rest().join(' ')
    if (text === '') a.fail('expect violation needs the text the violation must contain')
    return (w: World) => {
      w.expectedViolation = { at: a.at, text }
    }
  },
}

function messageCount(a: Args, what: string, source: (w: World) => readonly RaftMessage[]) {
  const ws = a.rest()
  const op = ws[ws.length - 2]
  if (ws.length < 2 || (op !== '=' && op !== '>=' && op !== '<=')) {
    a.fail(`expect ${what} [<filter>] =|>=|<= <count>`)
  }
  const want = parseNat(ws[ws.length - 1] as string, 'count', a)
  const f = parseFilter(ws.slice(0, -2), a)
  return (w: World) => {
    const got = source(w).filter(f).length
    if (!holds(op, got, want)) w.fail(`expect ${what} ${op} ${want}: ${got} message(s) match`)
  }
}

/** readState: the node's last read is granted (at an index), still pending, or dropped. */
function readState(w: World, id: number): number | 'pending' | 'dropped' {
  const rid = w.lastRead.get(id)
  if (rid === undefined) w.fail(`node ${id} was never asked for a read`)
  const granted = w.cluster.reads(id).find((r) => r.id === rid)
  if (granted) return granted.index
  return w.cluster.readsDropped(id).includes(rid) ? 'dropped' : 'pending'
}

function membership(a: Args): Membership {
  const kv = keyValues(a.rest(), a)
  checkKeys(kv, ['voters', 'outgoing', 'learners', 'learners-next', 'auto-leave'], a)
  const ids = (key: string): NodeId[] => {
    const v = kv.get(key)
    if (v === undefined || v === 'none') return []
    const l = parseNodes(v, a)
    if (l === 'all') return a.fail('a membership lists its ids')
    return [...l].sort((x, y) => x - y) as NodeId[]
  }
  if (!kv.has('voters')) a.fail('expect membership needs voters=<ids>')
  const al = kv.get('auto-leave')
  return {
    voters: ids('voters'),
    votersOutgoing: ids('outgoing'),
    learners: ids('learners'),
    learnersNext: ids('learners-next'),
    autoLeave: al === undefined ? false : parseBool(al, 'auto-leave', a),
  }
}

function describeMembership(m: Membership): string {
  const l = (xs: readonly NodeId[]) => (xs.length === 0 ? 'none' : [...xs].sort((a, b) => a - b).join(','))
  return `voters=${l(m.voters)} outgoing=${l(m.votersOutgoing)} learners=${l(m.learners)} learners-next=${l(m.learnersNext)} auto-leave=${m.autoLeave}`
}
