import {
  RAFT_MESSAGE_TYPES,
  type RaftMessage,
  type RaftMessageType,
} from '../../../../src/engines/raft/messages.js'
import { type Args, checkKeys, keyValues, parseBool, parseNat, parseNode } from './script.js'

/**
 * A message filter selects in-flight messages for `deliver`, `drop`, `stabilize`, and for the
 * `expect pending` / `expect delivered` counts. It is a list of key=value words, all of which must
 * match; a key that a message type does not carry (entries= on a MsgVote) does not match it.
 *
 *   type=MsgApp[,MsgAppResp…]  from=1[,2…]  to=2[,3…]  term=3
 *   reject=true|false          MsgAppResp, MsgVoteResp, MsgPreVoteResp
 *   index=7                    MsgAppResp: the index acknowledged (or rejected)
 *   prev=6                     MsgApp: prevIndex
 *   entries=3                  MsgApp: the number of entries carried
 *   commit=5                   MsgApp, MsgHeartbeat: the commit index carried
 *   transfer=true|false        MsgVote, MsgPreVote: a campaign started by MsgTimeoutNow
 */
export type MessageFilter = (m: RaftMessage) => boolean

const KEYS = ['type', 'from', 'to', 'term', 'reject', 'index', 'prev', 'entries', 'commit', 'transfer']

export function parseFilter(words: readonly string[], a: Args): MessageFilter {
  const kv = keyValues(words, a)
  checkKeys(kv, KEYS, a)
  const tests: MessageFilter[] = []
  const types = kv.get('type')
  if (types !== undefined) {
    const set = new Set(types.split(','))
    for (const t of set) {
      if (!RAFT_MESSAGE_TYPES.includes(t as RaftMessageType)) {
        a.fail(`unknown message type \`${t}\` (known: ${RAFT_MESSAGE_TYPES.join(', ')})`)
      }
    }
    tests.push((m) => set.has(m.type))
  }
  for (const key of ['from', 'to'] as const) {
    const v = kv.get(key)
    if (v === undefined) continue
    const ids = new Set(v.split(',').map((x) => parseNode(x, a)))
    tests.push((m) => ids.has(m[key]))
  }
  const num = (key: string, get: (m: RaftMessage) => number | undefined) => {
    const v = kv.get(key)
    if (v === undefined) return
    const n = parseNat(v, key, a)
    tests.push((m) => get(m) === n)
  }
  num('term', (m) => m.term)
  num('index', (m) => (m.type === 'MsgAppResp' ? m.index : undefined))
  num('prev', (m) => (m.type === 'MsgApp' ? m.prevIndex : undefined))
  num('entries', (m) => (m.type === 'MsgApp' ? m.entries.length : undefined))
  num('commit', (m) => (m.type === 'MsgApp' || m.type === 'MsgHeartbeat' ? m.commit : undefined))
  const bool = (key: string, get: (m: RaftMessage) => boolean | undefined) => {
    const v = kv.get(key)
    if (v === undefined) return
    const b = parseBool(v, key, a)
    tests.push((m) => get(m) === b)
  }
  bool('reject', (m) =>
    m.type === 'MsgAppResp' || m.type === 'MsgVoteResp' || m.type === 'MsgPreVoteResp' ? m.reject : undefined,
  )
  bool('transfer', (m) => (m.type === 'MsgVote' || m.type === 'MsgPreVote' ? m.transfer : undefined))
  return (m) => tests.every((t) => t(m))
}
