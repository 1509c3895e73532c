import type { Brand } from '../../core/ids.js'

/**
 * The vocabulary of the MVCC store, shaped after etcd's v3 API (etcdserverpb / mvccpb): keys and
 * values are bytes, every change is stamped with a global revision, and operating errors are typed
 * values carrying etcd's own messages, so a gRPC gateway can pass them through unchanged.
 */

/** Revision is the store's logical clock. Invariant: a non-negative safe integer; an empty store is at 1. */
export type Revision = Brand<number, 'Revision'>

export const revision = (n: number): Revision => {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`revision must be an integer >= 0, got ${n}`)
  return n as Revision
}

/** NO_LEASE is the lease id of a key that has none. */
export const NO_LEASE = 0

/**
 * KeyValue is one version of a key, as etcd's mvccpb.KeyValue. The store hands out its own
 * arrays for key and value: callers must not modify them.
 */
export interface KeyValue {
  readonly key: Uint8Array
  /** createRevision is the revision of the put that created this generation of the key. */
  readonly createRevision: Revision
  /** modRevision is the revision of the put that wrote this version. */
  readonly modRevision: Revision
  /** version counts puts since creation: 1 on create. Invariant: >= 1 for a live key. */
  readonly version: number
  readonly value: Uint8Array
  /** lease is the id of the lease attached to the key, NO_LEASE for none. */
  readonly lease: number
}

export type SortOrder = 'none' | 'ascend' | 'descend'
export type SortTarget = 'key' | 'version' | 'create' | 'mod' | 'value'

/**
 * RangeRequest reads keys in [key, rangeEnd). An empty rangeEnd reads the single key `key`; a
 * rangeEnd of one zero byte reads every key >= key. revision 0 reads the current state.
 */
export interface RangeRequest {
  readonly key: Uint8Array
  readonly rangeEnd?: Uint8Array
  readonly limit?: number
  readonly revision?: number
  readonly sortOrder?: SortOrder
  readonly sortTarget?: SortTarget
  readonly keysOnly?: boolean
  readonly countOnly?: boolean
  readonly minModRevision?: number
  readonly maxModRevision?: number
  readonly minCreateRevision?: number
  readonly maxCreateRevision?: number
}

export interface RangeResponse {
  /** revision is the store's revision when the range was served (etcd's header revision). */
  readonly revision: Revision
  readonly kvs: readonly KeyValue[]
  /** more says that `limit` cut the result. */
  readonly more: boolean
  /** count is the number of keys in the range at the read revision, before filters and limit. */
  readonly count: number
}

export interface PutRequest {
  readonly key: Uint8Array
  readonly value: Uint8Array
  readonly lease?: number
  readonly prevKv?: boolean
  readonly ignoreValue?: boolean
  readonly ignoreLease?: boolean
}

export interface PutResponse {
  readonly revision: Revision
  readonly prevKv?: KeyValue
}

export interface DeleteRangeRequest {
  readonly key: Uint8Array
  readonly rangeEnd?: Uint8Array
  readonly prevKv?: boolean
}

export interface DeleteRangeResponse {
  readonly revision: Revision
  readonly deleted: number
  /** prevKvs holds the deleted key-values when the request asked for them, else it is empty. */
  readonly prevKvs: readonly KeyValue[]
}

export type CompareResult = 'equal' | 'greater' | 'less' | 'notEqual'

/** Compare is one guard of a txn, over the key `key` or the range [key, rangeEnd). */
export type Compare =
  | {
      readonly target: 'version' | 'create' | 'mod' | 'lease'
      readonly key: Uint8Array
      readonly rangeEnd?: Uint8Array
      readonly result: CompareResult
      readonly operand: number
    }
  | {
      readonly target: 'value'
      readonly key: Uint8Array
      readonly rangeEnd?: Uint8Array
      readonly result: CompareResult
      readonly value: Uint8Array
    }

export type RequestOp =
  | { readonly op: 'range'; readonly request: RangeRequest }
  | { readonly op: 'put'; readonly request: PutRequest }
  | { readonly op: 'deleteRange'; readonly request: DeleteRangeRequest }
  | { readonly op: 'txn'; readonly request: TxnRequest }

export type ResponseOp =
  | { readonly op: 'range'; readonly response: RangeResponse }
  | { readonly op: 'put'; readonly response: PutResponse }
  | { readonly op: 'deleteRange'; readonly response: DeleteRangeResponse }
  | { readonly op: 'txn'; readonly response: TxnResponse }

export interface TxnRequest {
  readonly compare: readonly Compare[]
  readonly success: readonly RequestOp[]
  readonly failure: readonly RequestOp[]
}

export interface TxnResponse {
  readonly revision: Revision
  readonly succeeded: boolean
  readonly responses: readonly ResponseOp[]
}

export type EventType = 'put' | 'delete'

/**
 * Event is one change in the feed. A delete's kv carries only the key and the deleting revision
 * (as etcd's watch events do); prevKv is the version the change replaced, if the key was live.
 */
export interface Event {
  readonly type: EventType
  readonly kv: KeyValue
  readonly prevKv?: KeyValue
}

export const ERROR_MESSAGES = {
  compacted: 'mvcc: required revision has been compacted',
  futureRevision: 'mvcc: required revision is a future revision',
  keyNotFound: 'etcdserver: key not found',
  duplicateKey: 'etcdserver: duplicate key given in txn request',
  emptyKey: 'etcdserver: key is not provided',
  tooManyOps: 'etcdserver: too many operations in txn request',
  valueProvided: 'etcdserver: value is provided',
  leaseProvided: 'etcdserver: lease is provided',
  badRequest: 'mvcc: malformed request',
} as const

export type MvccErrorCode = keyof typeof ERROR_MESSAGES

/** MvccError is an operating error: the request is refused and the store is unchanged. */
export interface MvccError {
  readonly code: MvccErrorCode
  readonly message: string
}

export const mvccError = (code: MvccErrorCode, detail?: string): MvccError => ({
  code,
  message: detail === undefined ? ERROR_MESSAGES[code] : `${ERROR_MESSAGES[code]}: ${detail}`,
})

/** Outcome is a value or the operating error that refused the request. */
export type Outcome<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly error: MvccError }

export const ok = <T>(value: T): Outcome<T> => ({ ok: true, value })
export const fail = <T>(error: MvccError): Outcome<T> => ({ ok: false, error })
