import { assertNever } from '../../../../src/core/assert.js'
import type { Entry } from '../../../../src/engines/engine.js'
import type { RaftMessage } from '../../../../src/engines/raft/messages.js'

/**
 * Trace is the bounded, human-readable log of what a Cluster did: actions, deliveries, drops and
 * role changes. Lines may be given as thunks, so that the hot path (thousands of schedules, each
 * with hundreds of deliveries) pays for formatting only when a failure prints the trace.
 */
export class Trace {
  private readonly buf: (string | (() => string))[]
  private next = 0
  private count = 0

  constructor(readonly capacity = 1000) {
    this.buf = new Array(capacity)
  }

  add(line: string | (() => string)): void {
    this.buf[this.next] = line
    this.next = (this.next + 1) % this.capacity
    this.count++
  }

  /** lines returns the last `last` lines (all that are kept by default), oldest first. */
  lines(last = this.capacity): string[] {
    const n = Math.min(last, this.count, this.capacity)
    const out: string[] = []
    for (let k = n; k > 0; k--) {
      const item = this.buf[(this.next - k + this.capacity) % this.capacity]
      if (item !== undefined) out.push(typeof item === 'function' ? item() : item)
    }
    return out
  }

  /** tail formats the last `last` lines for an error message. */
  tail(last = 40): string {
    const earlier = Math.max(0, this.count - last)
    return [`--- trace (last ${last} lines${earlier > 0 ? `, ${earlier} earlier` : ''}) ---`]
      .concat(this.lines(last))
      .join('\n')
  }
}

const utf8 = new TextDecoder()

/** describeData shows a command as text, shortened; a no-op as `noop`. */
export function describeData(e: Entry): string {
  if (e.type === 'config') return 'conf'
  if (e.data.length === 0) return 'noop'
  const s = utf8.decode(e.data)
  return JSON.stringify(s.length > 16 ? `${s.slice(0, 16)}…` : s)
}

/** describeEntries shows entries as `index@term data`, eliding the middle of long runs. */
export function describeEntries(es: readonly Entry[]): string {
  const one = (e: Entry) => `${e.index}@${e.term} ${describeData(e)}`
  if (es.length <= 4) return `[${es.map(one).join(', ')}]`
  const first = es[0] as Entry
  const last = es[es.length - 1] as Entry
  return `[${one(first)}, …${es.length - 2} more…, ${one(last)}]`
}

/** describeMessage renders a message in one line, e.g. `1->2 MsgApp t3 prev=4@2 [5@3 "x"] c4`. */
export function describeMessage(m: RaftMessage): string {
  const head = `${m.from}->${m.to} ${m.type} t${m.term}`
  switch (m.type) {
    case 'MsgApp':
      return `${head} prev=${m.prevIndex}@${m.prevTerm} ${describeEntries(m.entries)} c${m.commit}`
    case 'MsgAppResp':
      return m.reject
        ? `${head} REJECT ${m.index} hint=${m.hintIndex}@${m.hintTerm}`
        : `${head} index=${m.index}`
    case 'MsgVote':
    case 'MsgPreVote':
      return `${head} last=${m.lastIndex}@${m.lastTerm}${m.transfer ? ' transfer' : ''}`
    case 'MsgVoteResp':
    case 'MsgPreVoteResp':
      return `${head}${m.reject ? ' REJECT' : ' granted'}`
    case 'MsgSnap': {
      const s = m.snapshot.meta
      return `${head} snap=${s.index}@${s.term} voters=${s.membership.voters.join(',')}`
    }
    case 'MsgHeartbeat':
      return `${head} c${m.commit} seq=${m.readSeq}`
    case 'MsgHeartbeatResp':
      return `${head} seq=${m.readSeq}`
    case 'MsgTimeoutNow':
      return head
    case 'MsgReadIndex':
      return `${head} read=${m.readId}`
    case 'MsgReadIndexResp':
      return `${head} read=${m.readId} index=${m.index}`
    default:
      return assertNever(m, 'raft message')
  }
}
