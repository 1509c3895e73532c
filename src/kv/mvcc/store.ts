import { assert } from '../../core/assert.js'
import { ChangeLog, eventOf } from './feed.js'
import { KeyHistory, type KeyRecord } from './key-history.js'
import { inSpan, type KeySpan, type KeyString, keyString, keysInSpan, lowerBound, spanOf } from './keys.js'
import { LeaseIndex } from './lease-index.js'
import { checkPath, checkReadRevision, choosePath, executeOps, executeRange, type TxnTarget } from './txn.js'
import {
  type DeleteRangeRequest,
  type DeleteRangeResponse,
  type Event,
  fail,
  type KeyValue,
  mvccError,
  NO_LEASE,
  type Outcome,
  ok,
  type PutRequest,
  type PutResponse,
  type RangeRequest,
  type RangeResponse,
  type RequestOp,
  type ResponseOp,
  type Revision,
  revision,
  type TxnRequest,
  type TxnResponse,
} from './types.js'
import { checkDeleteRange, checkPut, checkRange, checkTxn, TXN_OPS_MAX } from './validate.js'

/** StoreState is the whole store as plain data: what a snapshot carries. */
export interface StoreState {
  readonly currentRevision: Revision
  readonly compactedRevision: Revision
  /** histories, sorted by key, each non-empty. */
  readonly histories: readonly KeyHistory[]
}

/**
 * MvccStore is etcd's v3 key-value store in memory: every put and delete is kept, stamped with a
 * global revision, until compaction drops what no read can ask for any more. It is pure and
 * deterministic; every method either succeeds or returns a typed error and leaves it unchanged.
 */
export class MvccStore {
  /** Invariant: sorted ascending, unique, exactly the keys of `histories`. */
  private keys: KeyString[] = []
  /** Invariant: every history is non-empty. */
  private readonly histories = new Map<KeyString, KeyHistory>()
  /** Invariant: >= 1 (an empty store is at revision 1); every record's rev <= current (+1 inside a write). */
  private current = revision(1)
  /** Invariant: 0 <= compacted <= current. Reads at revisions below it fail. */
  private compacted = revision(0)
  /** Invariant: 0 outside a write; inside one, the number of changes made so far (the next sub-revision). */
  private pending = 0
  /** Invariant: indexes exactly the records with rev > compacted (see feed.ts). */
  private log = new ChangeLog()
  /** Invariant: maps each lease to exactly the keys whose latest record is a put with that lease. */
  private leases = new LeaseIndex()

  /**
   * txnView is what txn.ts sees of the store. It is kept off the public surface so that no
   * caller can write outside a txn and leave a revision half built.
   */
  private readonly txnView: TxnTarget = {
    currentRevision: () => this.current,
    compactedRevision: () => this.compacted,
    viewRevision: () => revision(this.pending > 0 ? this.current + 1 : this.current),
    liveIn: (span, at) => this.liveIn(span, at),
    writePut: (key, value, lease, prev) => this.writePut(key, value, lease, prev),
    writeDelete: (key) => this.writeDelete(key),
  }

  constructor(readonly txnOpsMax = TXN_OPS_MAX) {}

  /** revision is the current (last committed) revision. */
  get revision(): Revision {
    return this.current
  }

  /** compactedRevision is the revision of the last compaction (0 if none). */
  get compactedRevision(): Revision {
    return this.compacted
  }

  private liveIn(span: KeySpan, at: number): KeyValue[] {
    const out: KeyValue[] = []
    for (const k of keysInSpan(this.keys, span)) {
      const kv = (this.histories.get(k) as KeyHistory).liveAt(at)
      if (kv !== undefined) out.push(kv)
    }
    return out
  }

  private writePut(key: Uint8Array, value: Uint8Array, lease: number, prev: KeyValue | undefined): void {
    const rev = revision(this.current + 1)
    this.record(key, {
      rev,
      sub: this.pending++,
      tombstone: false,
      value,
      lease,
      createRevision: prev?.createRevision ?? rev,
      version: (prev?.version ?? 0) + 1,
    })
  }

  private writeDelete(key: Uint8Array): void {
    const rev = revision(this.current + 1)
    const empty = new Uint8Array(0)
    this.record(key, {
      rev,
      sub: this.pending++,
      tombstone: true,
      value: empty,
      lease: 0,
      createRevision: revision(0),
      version: 0,
    })
  }

  private record(key: Uint8Array, rec: KeyRecord): void {
    const k = keyString(key)
    let h = this.histories.get(k)
    if (h === undefined) {
      h = new KeyHistory(key.slice())
      this.histories.set(k, h)
      this.keys.splice(lowerBound(this.keys, k), 0, k)
    }
    const last = h.latest()
    this.leases.move(
      k,
      last === undefined || last.tombstone ? NO_LEASE : last.lease,
      rec.tombstone ? NO_LEASE : rec.lease,
    )
    h.append(rec)
    this.log.append({ rev: rec.rev, sub: rec.sub, key: k })
  }

  /** commit ends a write: the revision advances iff anything changed. */
  private commit(): void {
    if (this.pending > 0) this.current = revision(this.current + 1)
    this.pending = 0
  }

  /** range reads [key, rangeEnd) at `revision` (0 = current). Fails if it is compacted or in the future. */
  range(r: RangeRequest): Outcome<RangeResponse> {
    const err = checkRange(r) ?? checkReadRevision(this.txnView, r.revision ?? 0)
    return err === undefined ? ok(executeRange(this.txnView, r)) : fail(err)
  }

  /** put writes one key at a new revision. */
  put(r: PutRequest): Outcome<PutResponse> {
    const err = checkPut(r)
    if (err !== undefined) return fail(err)
    return this.single({ op: 'put', request: r }, (res) => (res.op === 'put' ? res.response : undefined))
  }

  /** deleteRange deletes the live keys of [key, rangeEnd); deleting nothing keeps the revision. */
  deleteRange(r: DeleteRangeRequest): Outcome<DeleteRangeResponse> {
    const err = checkDeleteRange(r)
    if (err !== undefined) return fail(err)
    return this.single({ op: 'deleteRange', request: r }, (res) =>
      res.op === 'deleteRange' ? res.response : undefined,
    )
  }

  /** single runs one write as a txn without compares, so it follows exactly the txn's rules. */
  private single<T>(op: RequestOp, pick: (r: ResponseOp) => T | undefined): Outcome<T> {
    const res = this.txn({ compare: [], success: [op], failure: [] })
    if (!res.ok) return fail<T>(res.error)
    const out = pick(res.value.responses[0] as ResponseOp)
    assert(out !== undefined, 'single: response of another kind')
    return ok(out)
  }

  /**
   * txn evaluates all compares against the state before it, checks the chosen branch, then runs
   * it as one revision (none if it writes nothing). Errors leave the store unchanged.
   */
  txn(t: TxnRequest): Outcome<TxnResponse> {
    const invalid = checkTxn(t, this.txnOpsMax)
    if (invalid !== undefined) return fail(invalid)
    const path = choosePath(this.txnView, t)
    const err = checkPath(this.txnView, t, path)
    if (err !== undefined) return fail(err)
    assert(this.pending === 0, 'txn: nested write')
    const responses = executeOps(this.txnView, t, path)
    this.commit()
    return ok({ revision: this.current, succeeded: path.succeeded, responses })
  }

  /**
   * compact drops history at or below `rev`, keeping each key's version live at `rev`. It fails
   * if `rev` is not above the last compaction or is in the future.
   */
  compact(rev: number): Outcome<{ readonly revision: Revision }> {
    if (rev <= this.compacted) return fail(mvccError('compacted'))
    if (rev > this.current) return fail(mvccError('futureRevision'))
    const r = revision(rev)
    for (const k of this.keys)
      if ((this.histories.get(k) as KeyHistory).compactTo(r)) this.histories.delete(k)
    this.keys = this.keys.filter((k) => this.histories.has(k))
    this.compacted = r
    this.log.compactTo(r)
    return ok({ revision: this.current })
  }

  /**
   * eventsSince returns the changes of [key, rangeEnd) at revisions > `after`, in revision and
   * sub-revision order, each with the version it replaced. Fails if `after` is below the compacted
   * revision (the changes just above it are gone); a future `after` yields no events.
   */
  eventsSince(after: number, key: Uint8Array, rangeEnd?: Uint8Array): Outcome<Event[]> {
    if (after < this.compacted) return fail(mvccError('compacted'))
    const span = spanOf(key, rangeEnd)
    const events: Event[] = []
    for (const c of this.log.since(after)) {
      if (inSpan(span, c.key)) events.push(eventOf(this.histories.get(c.key) as KeyHistory, c.rev, c.sub))
    }
    return ok(events)
  }

  /** keysOfLease returns the live keys attached to `lease`, sorted (none for NO_LEASE). */
  keysOfLease(lease: number): Uint8Array[] {
    return this.leases.keysOf(lease).map((k) => (this.histories.get(k) as KeyHistory).key)
  }

  /** deleteByLease deletes every live key attached to `lease` as one revision (none if there are none). */
  deleteByLease(lease: number): DeleteRangeResponse {
    assert(this.pending === 0, 'deleteByLease: nested write')
    const keys = this.keysOfLease(lease)
    const prevKvs = keys.map(
      (k) => (this.histories.get(keyString(k)) as KeyHistory).liveAt(this.current) as KeyValue,
    )
    for (const k of keys) this.writeDelete(k)
    this.commit()
    return { revision: this.current, deleted: keys.length, prevKvs }
  }

  /** state exposes the store for a snapshot; the histories must not be changed. */
  state(): StoreState {
    return {
      currentRevision: this.current,
      compactedRevision: this.compacted,
      histories: this.keys.map((k) => this.histories.get(k) as KeyHistory),
    }
  }

  /** fromState rebuilds a store; the state must satisfy the invariants (decodeStore checks them). */
  static fromState(s: StoreState, txnOpsMax = TXN_OPS_MAX): MvccStore {
    const store = new MvccStore(txnOpsMax)
    store.current = s.currentRevision
    store.compacted = s.compactedRevision
    for (const h of s.histories) {
      const k = keyString(h.key)
      store.histories.set(k, h)
      store.keys.push(k)
      const last = h.latest() as KeyRecord
      if (!last.tombstone) store.leases.move(k, NO_LEASE, last.lease)
    }
    store.log = ChangeLog.rebuild(store.histories, store.compacted)
    store.checkInvariants()
    return store
  }

  /** checkInvariants asserts the fields' invariants; tests call it after every step. */
  checkInvariants(): void {
    assert(this.pending === 0, 'store: write left open')
    assert(this.current >= 1 && this.compacted >= 0 && this.compacted <= this.current, 'store: revisions')
    assert(this.keys.length === this.histories.size, 'store: key index and histories differ')
    let newer = 0
    for (const h of this.histories.values()) newer += h.records.filter((r) => r.rev > this.compacted).length
    assert(newer === this.log.length, 'store: change log does not index the records above compaction')
    const expected = new LeaseIndex()
    for (const [k, h] of this.histories) {
      const last = h.latest() as KeyRecord
      if (!last.tombstone) expected.move(k, NO_LEASE, last.lease)
    }
    assert(JSON.stringify(expected.entries()) === JSON.stringify(this.leases.entries()), 'store: lease index')
    for (let i = 0; i < this.keys.length; i++) {
      const k = this.keys[i] as KeyString
      assert(i === 0 || (this.keys[i - 1] as KeyString) < k, 'store: keys not sorted')
      const h = this.histories.get(k)
      assert(h !== undefined && h.records.length > 0, 'store: empty history')
      let prev: KeyRecord | undefined
      for (const rec of h.records) {
        const ordered =
          prev === undefined || prev.rev < rec.rev || (prev.rev === rec.rev && prev.sub < rec.sub)
        assert(rec.rev <= this.current && ordered, 'store: record order')
        if (!rec.tombstone && prev !== undefined) {
          assert(rec.version === (prev.tombstone ? 1 : prev.version + 1), 'store: version')
        }
        prev = rec
      }
      const first = h.records[0] as KeyRecord
      assert(first.rev > this.compacted || !first.tombstone, 'store: tombstone kept at or below compaction')
    }
  }
}
