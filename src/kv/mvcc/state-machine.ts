import { assertNever } from '../../core/assert.js'
import { CodecError } from '../../core/codec.js'
import type { Entry } from '../../engines/engine.js'
import type { StateMachine } from '../state-machine.js'
import { decodeMvccCommand, decodeRangeQuery, type MvccCommand } from './commands.js'
import { encodeMvccResult, type MvccResult } from './results.js'
import { decodeStore, encodeStore } from './snapshot.js'
import { MvccStore } from './store.js'
import { mvccError, type Outcome } from './types.js'
import { TXN_OPS_MAX } from './validate.js'

/**
 * MvccStateMachine replicates an MvccStore: `apply` decodes a command (commands.ts), runs it and
 * returns an encoded MvccResult (results.ts); `query` answers an encoded RangeRequest. It never
 * throws on input: an undecodable command or query is answered with a `badRequest` error result,
 * the same on every replica, and leaves the store unchanged.
 */
export class MvccStateMachine implements StateMachine {
  /** Invariant: replaced wholesale by restore, otherwise changed only by apply. */
  private kv: MvccStore

  constructor(readonly txnOpsMax = TXN_OPS_MAX) {
    this.kv = new MvccStore(txnOpsMax)
  }

  /** store is the live store, for hosts that serve reads and the watch feed from it directly. */
  get store(): MvccStore {
    return this.kv
  }

  apply(entry: Entry): Uint8Array {
    let command: MvccCommand
    try {
      command = decodeMvccCommand(entry.data)
    } catch (e) {
      return encodeMvccResult(badRequest(e))
    }
    return encodeMvccResult(this.execute(command))
  }

  /** execute runs one decoded command. */
  execute(c: MvccCommand): MvccResult {
    switch (c.type) {
      case 'put':
        return wrap(this.kv.put(c.request), (response) => ({ type: 'put', response }))
      case 'deleteRange':
        return wrap(this.kv.deleteRange(c.request), (response) => ({ type: 'deleteRange', response }))
      case 'txn':
        return wrap(this.kv.txn(c.request), (response) => ({ type: 'txn', response }))
      case 'compact':
        return wrap(this.kv.compact(c.revision), (v) => ({ type: 'compact', revision: v.revision }))
      case 'deleteByLease':
        return { type: 'deleteByLease', response: this.kv.deleteByLease(c.lease) }
      default:
        return assertNever(c, 'mvcc command')
    }
  }

  query(query: Uint8Array): Uint8Array {
    let result: MvccResult
    try {
      result = wrap(this.kv.range(decodeRangeQuery(query)), (response) => ({ type: 'range', response }))
    } catch (e) {
      result = badRequest(e)
    }
    return encodeMvccResult(result)
  }

  snapshot(): Uint8Array {
    return encodeStore(this.kv)
  }

  restore(data: Uint8Array): void {
    this.kv = decodeStore(data, this.txnOpsMax)
  }
}

function wrap<T>(o: Outcome<T>, f: (v: T) => MvccResult): MvccResult {
  return o.ok ? f(o.value) : { type: 'error', error: o.error }
}

/** badRequest turns a decoding failure into an error result; anything else is a bug and rethrown. */
function badRequest(e: unknown): MvccResult {
  if (e instanceof CodecError) return { type: 'error', error: mvccError('badRequest', e.message) }
  throw e
}
