import { type Index, index } from '../../../../src/core/ids.js'
import type { Entry, Snapshot } from '../../../../src/engines/engine.js'

const utf8Encoder = new TextEncoder()
const utf8Decoder = new TextDecoder()

/** encodeCommand is the bytes of a test command: the UTF-8 of its value. */
export function encodeCommand(value: string): Uint8Array {
  return utf8Encoder.encode(value)
}

/** commandValue is the value an entry carries, or undefined for a no-op or a config entry. */
export function commandValue(e: Entry): string | undefined {
  return e.type === 'normal' && e.data.length > 0 ? utf8Decoder.decode(e.data) : undefined
}

/** encodeValues is the snapshot form of the test state machine: its values as JSON. */
export function encodeValues(values: readonly string[]): Uint8Array {
  return utf8Encoder.encode(JSON.stringify(values))
}

export function decodeValues(data: Uint8Array): string[] {
  const parsed: unknown = JSON.parse(utf8Decoder.decode(data))
  if (!Array.isArray(parsed) || !parsed.every((v) => typeof v === 'string')) {
    throw new Error(`test state machine: snapshot data is not a list of strings: ${utf8Decoder.decode(data)}`)
  }
  return parsed
}

/**
 * TestStateMachine is the replicated state of the tests: the ordered list of applied commands.
 * Invariant: `values` holds the value of every non-empty normal entry in [1, appliedIndex].
 */
export class TestStateMachine {
  private values: string[]
  private applied: Index

  /** A state machine starts from the node's durable snapshot (or empty), as a restarted host does. */
  constructor(snapshot?: Snapshot) {
    this.values = snapshot ? decodeValues(snapshot.data) : []
    this.applied = snapshot ? snapshot.meta.index : index(0)
  }

  get appliedIndex(): Index {
    return this.applied
  }

  /** restore replaces the state with a snapshot's; the caller checks it does not move backwards. */
  restore(s: Snapshot): void {
    this.values = decodeValues(s.data)
    this.applied = s.meta.index
  }

  /** apply applies the next entry; the caller checks that it is the next one. */
  apply(e: Entry): void {
    if (e.index !== this.applied + 1) {
      throw new Error(`test state machine: applying ${e.index} after ${this.applied}`)
    }
    const v = commandValue(e)
    if (v !== undefined) this.values.push(v)
    this.applied = e.index
  }

  list(): string[] {
    return this.values.slice()
  }

  snapshotData(): Uint8Array {
    return encodeValues(this.values)
  }
}
