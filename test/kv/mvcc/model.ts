import type {
  Compare,
  DeleteRangeRequest,
  DeleteRangeResponse,
  Event,
  KeyValue,
  Outcome,
  PutRequest,
  PutResponse,
  RangeRequest,
  RangeResponse,
  ResponseOp,
  Revision,
  TxnRequest,
  TxnResponse,
} from '../../../src/kv/mvcc/types.js'
import { mvccError } from '../../../src/kv/mvcc/types.js'
import { checkDeleteRange, checkPut, checkRange, checkTxn } from '../../../src/kv/mvcc/validate.js'

/**
 * ModelStore is the deliberately dumb reference for MvccStore: it keeps a full copy of the map
 * for every revision and a flat list of events, and answers by scanning. It shares only the
 * request-only checks of validate.ts (they never look at the state); everything about revisions,
 * versions, compaction and the feed is written here again, the obvious way.
 */
type State = Map<string, KeyValue>

const k = (u: Uint8Array): string => String.fromCharCode(...u)
const rev = (n: number): Revision => n as Revision
const EMPTY = new Uint8Array(0)

function cmp(a: Uint8Array, b: Uint8Array): number {
  const x = k(a)
  const y = k(b)
  return x < y ? -1 : x > y ? 1 : 0
}

function inRange(key: Uint8Array, start: Uint8Array, end: Uint8Array | undefined): boolean {
  if (end === undefined || end.length === 0) return cmp(key, start) === 0
  if (end.length === 1 && end[0] === 0) return cmp(key, start) >= 0
  return cmp(key, start) >= 0 && cmp(key, end) < 0
}

const sorted = (s: State, start: Uint8Array, end?: Uint8Array): KeyValue[] =>
  [...s.values()].filter((kv) => inRange(kv.key, start, end)).sort((a, b) => cmp(a.key, b.key))

export class ModelStore {
  /** states[r] is the map at revision r; states[0] is unused. */
  readonly states: State[] = [new Map(), new Map()]
  compacted = 0
  readonly events: { rev: number; event: Event }[] = []

  get revision(): number {
    return this.states.length - 1
  }

  range(r: RangeRequest): Outcome<RangeResponse> {
    const err = checkRange(r) ?? this.revisionError(r.revision ?? 0)
    if (err) return { ok: false, error: err }
    const at = r.revision || this.revision
    return {
      ok: true,
      value: shape(sorted(this.states[at] as State, r.key, r.rangeEnd), r, rev(this.revision)),
    }
  }

  private revisionError(r: number) {
    if (r > this.revision) return mvccError('futureRevision')
    if (r > 0 && r < this.compacted) return mvccError('compacted')
    return undefined
  }

  put(request: PutRequest): Outcome<PutResponse> {
    const err = checkPut(request)
    if (err) return { ok: false, error: err }
    const t = this.txn({ compare: [], success: [{ op: 'put', request }], failure: [] })
    return t.ok ? { ok: true, value: (t.value.responses[0] as { response: PutResponse }).response } : t
  }

  deleteRange(request: DeleteRangeRequest): Outcome<DeleteRangeResponse> {
    const err = checkDeleteRange(request)
    if (err) return { ok: false, error: err }
    const t = this.txn({ compare: [], success: [{ op: 'deleteRange', request }], failure: [] })
    return t.ok
      ? { ok: true, value: (t.value.responses[0] as { response: DeleteRangeResponse }).response }
      : t
  }

  txn(t: TxnRequest): Outcome<TxnResponse> {
    const err = checkTxn(t) ?? this.stateError(t)
    if (err) return { ok: false, error: err }
    const succeeded = this.holds(t.compare)
    const w = new Work(this.states[this.revision] as State, this.revision)
    const responses = w.run(t, this)
    if (w.changed) {
      this.states.push(w.state)
      for (const event of w.events) this.events.push({ rev: this.revision, event })
    }
    return { ok: true, value: { revision: rev(this.revision), succeeded, responses } }
  }

  /** holds evaluates compares on the current state (etcd: before the txn). */
  holds(compares: readonly Compare[]): boolean {
    const s = this.states[this.revision] as State
    return compares.every((c) => {
      const kvs = sorted(s, c.key, c.rangeEnd)
      if (kvs.length === 0 && c.target === 'value') return false
      const subjects = kvs.length === 0 ? [undefined] : kvs
      return subjects.every((kv) => {
        const d =
          c.target === 'value'
            ? cmp(kv?.value ?? EMPTY, c.value)
            : Math.sign(
                (c.target === 'version'
                  ? (kv?.version ?? 0)
                  : c.target === 'create'
                    ? (kv?.createRevision ?? 0)
                    : c.target === 'mod'
                      ? (kv?.modRevision ?? 0)
                      : (kv?.lease ?? 0)) - c.operand,
              )
        return { equal: d === 0, notEqual: d !== 0, greater: d > 0, less: d < 0 }[c.result]
      })
    })
  }

  private stateError(t: TxnRequest): ReturnType<typeof mvccError> | undefined {
    for (const op of this.holds(t.compare) ? t.success : t.failure) {
      const s = this.states[this.revision] as State
      if (op.op === 'put' && (op.request.ignoreValue || op.request.ignoreLease) && !s.has(k(op.request.key)))
        return mvccError('keyNotFound')
      if (op.op === 'range') {
        const e = this.revisionError(op.request.revision ?? 0)
        if (e) return e
      }
      if (op.op === 'txn') {
        const e = this.stateError(op.request)
        if (e) return e
      }
    }
    return undefined
  }

  compact(r: number): Outcome<{ revision: Revision }> {
    if (r <= this.compacted) return { ok: false, error: mvccError('compacted') }
    if (r > this.revision) return { ok: false, error: mvccError('futureRevision') }
    this.compacted = r
    return { ok: true, value: { revision: rev(this.revision) } }
  }

  eventsSince(after: number, key: Uint8Array, end?: Uint8Array): Outcome<Event[]> {
    if (after < this.compacted) return { ok: false, error: mvccError('compacted') }
    const out = this.events.filter((e) => e.rev > after && inRange(e.event.kv.key, key, end))
    return { ok: true, value: out.map((e) => e.event) }
  }

  keysOfLease(lease: number): Uint8Array[] {
    if (lease === 0) return []
    return sorted(this.states[this.revision] as State, new Uint8Array([0]), new Uint8Array([0]))
      .filter((kv) => kv.lease === lease)
      .map((kv) => kv.key)
  }

  deleteByLease(lease: number): DeleteRangeResponse {
    const keys = this.keysOfLease(lease)
    const w = new Work(this.states[this.revision] as State, this.revision)
    const prevKvs = keys.map((key) => w.remove(key))
    if (w.changed) {
      this.states.push(w.state)
      for (const event of w.events) this.events.push({ rev: this.revision, event })
    }
    return { revision: rev(this.revision), deleted: keys.length, prevKvs }
  }
}

/**
 * Work is one txn being built on a copy of the current map. Events carry as prevKv the key's
 * version before the txn (etcd's watch reads prev_kv at mod_revision - 1).
 */
class Work {
  readonly state: State
  readonly events: Event[] = []
  changed = false

  constructor(
    readonly base: State,
    readonly base_: number,
  ) {
    this.state = new Map(base)
  }

  private event(type: Event['type'], kv: KeyValue): Event {
    const before = this.base.get(k(kv.key))
    return before ? { type, kv, prevKv: before } : { type, kv }
  }

  get view(): Revision {
    return rev(this.changed ? this.base_ + 1 : this.base_)
  }

  remove(key: Uint8Array): KeyValue {
    const prev = this.state.get(k(key)) as KeyValue
    this.state.delete(k(key))
    this.changed = true
    const kv = {
      key: prev.key,
      createRevision: rev(0),
      modRevision: rev(this.base_ + 1),
      version: 0,
      value: EMPTY,
      lease: 0,
    }
    this.events.push(this.event('delete', kv))
    return prev
  }

  run(t: TxnRequest, m: ModelStore): ResponseOp[] {
    return (m.holds(t.compare) ? t.success : t.failure).map((op): ResponseOp => {
      if (op.op === 'range') {
        const r = op.request
        const s = r.revision ? (m.states[r.revision] as State) : this.state
        return { op: 'range', response: shape(sorted(s, r.key, r.rangeEnd), r, this.view) }
      }
      if (op.op === 'deleteRange') {
        const r = op.request
        const prevKvs = sorted(this.state, r.key, r.rangeEnd).map((kv) => this.remove(kv.key))
        return {
          op: 'deleteRange',
          response: { revision: this.view, deleted: prevKvs.length, prevKvs: r.prevKv ? prevKvs : [] },
        }
      }
      if (op.op === 'txn') {
        const responses = this.run(op.request, m)
        return {
          op: 'txn',
          response: { revision: this.view, succeeded: m.holds(op.request.compare), responses },
        }
      }
      const r = op.request
      const prev = this.state.get(k(r.key))
      const mod = rev(this.base_ + 1)
      const kv: KeyValue = {
        key: r.key,
        createRevision: prev?.createRevision ?? mod,
        modRevision: mod,
        version: (prev?.version ?? 0) + 1,
        value: r.ignoreValue && prev ? prev.value : r.value,
        lease: r.ignoreLease && prev ? prev.lease : (r.lease ?? 0),
      }
      this.state.set(k(r.key), kv)
      this.changed = true
      this.events.push(this.event('put', kv))
      return {
        op: 'put',
        response: r.prevKv && prev ? { revision: this.view, prevKv: prev } : { revision: this.view },
      }
    })
  }
}

/** shape applies etcd's range options the slow, obvious way. */
function shape(all: KeyValue[], r: RangeRequest, revision: Revision): RangeResponse {
  if (r.countOnly) return { revision, kvs: [], more: false, count: all.length }
  let kvs = all.filter(
    (kv) =>
      (!r.minModRevision || kv.modRevision >= r.minModRevision) &&
      (!r.maxModRevision || kv.modRevision <= r.maxModRevision) &&
      (!r.minCreateRevision || kv.createRevision >= r.minCreateRevision) &&
      (!r.maxCreateRevision || kv.createRevision <= r.maxCreateRevision),
  )
  const target = r.sortTarget ?? 'key'
  const order = r.sortOrder ?? 'none'
  if (order !== 'none' || target !== 'key') {
    const field = (kv: KeyValue): number | Uint8Array =>
      ({ key: kv.key, version: kv.version, create: kv.createRevision, mod: kv.modRevision, value: kv.value })[
        target
      ]
    const by = (a: KeyValue, b: KeyValue): number => {
      const x = field(a)
      const y = field(b)
      return typeof x === 'number' ? x - (y as number) : cmp(x, y as Uint8Array)
    }
    kvs = [...kvs].sort((a, b) => (order === 'descend' ? by(b, a) : by(a, b)))
  }
  const limit = r.limit ?? 0
  const more = limit > 0 && kvs.length > limit
  if (more) kvs = kvs.slice(0, limit)
  if (r.keysOnly) kvs = kvs.map((kv) => ({ ...kv, value: EMPTY }))
  return { revision, kvs, more, count: all.length }
}
