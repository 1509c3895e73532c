import { assert } from '../assert.js'
import { BinaryReader, BinaryWriter } from '../codec.js'

/**
 * LamportClock is a logical clock (Lamport 1978, "Time, Clocks, and the Ordering of Events in a
 * Distributed System", IR1 and IR2): if event a happened before event b then L(a) < L(b). The
 * converse does not hold; use a VectorClock to detect concurrency.
 *
 * Invariant: `time` is a non-negative safe integer and never decreases.
 */
export class LamportClock {
  private t: number

  /** Creates a clock at `start` (0 for a fresh process; the persisted value after a restart). */
  constructor(start = 0) {
    assert(isTime(start), () => `lamport: bad start ${start}`)
    this.t = start
  }

  /** time is the timestamp of the latest event, without creating one. */
  get time(): number {
    return this.t
  }

  /** tick records a local event or a send (IR1) and returns its timestamp. */
  tick(): number {
    assert(this.t < Number.MAX_SAFE_INTEGER, 'lamport: clock exhausted the safe integers')
    this.t += 1
    return this.t
  }

  /**
   * observe records the receipt of a message stamped `remote` (IR2): the receive event is later
   * than both this process's previous event and the send. Returns the receive event's timestamp.
   */
  observe(remote: number): number {
    assert(isTime(remote), () => `lamport: bad remote time ${remote}`)
    if (remote > this.t) this.t = remote
    return this.tick()
  }
}

function isTime(t: number): boolean {
  return Number.isSafeInteger(t) && t >= 0
}

// ---- codec: a Lamport timestamp is one uvarint -------------------------------------------------

export function writeLamport(w: BinaryWriter, t: number): void {
  w.uvarint(t)
}

export function readLamport(r: BinaryReader): number {
  return r.uvarint()
}

export function encodeLamport(t: number): Uint8Array {
  return new BinaryWriter(8).uvarint(t).finish()
}

/** decodeLamport throws CodecError on anything but exactly one canonical uvarint. */
export function decodeLamport(b: Uint8Array): number {
  const r = new BinaryReader(b)
  const t = r.uvarint()
  r.expectEnd('lamport timestamp')
  return t
}
