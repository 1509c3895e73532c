import type { Entry } from '../engines/engine.js'

/**
 * The replicated state machine contract. Commands and results are bytes: the log stores bytes,
 * and each state machine (the simple KV of the simulator, the MVCC store of the etcd API) owns
 * its encoding. Implementations are pure and deterministic — every replica applying the same
 * entries in the same order reaches the same state and returns the same results.
 */
export interface StateMachine {
  /** apply executes one committed command (a `normal` entry with data) and returns its result. */
  apply(entry: Entry): Uint8Array
  /** query answers a read against the current state without changing it. */
  query(query: Uint8Array): Uint8Array
  /** snapshot encodes the whole state. */
  snapshot(): Uint8Array
  /** restore replaces the whole state with a snapshot's. */
  restore(data: Uint8Array): void
}
