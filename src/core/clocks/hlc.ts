import { assert } from '../assert.js'
import { type BinaryReader, type BinaryWriter, decodeExactly, encodeWith } from '../codec.js'

/**
 * A hybrid logical clock (Kulkarni, Demirbas et al. 2014, "Logical Physical Clocks and Consistent
 * Snapshots in Globally Distributed Databases", Figure 5). A timestamp is (wall, logical): `wall`
 * is the largest physical time the process has heard of, directly or through messages, and
 * `logical` orders events that share a `wall`. Properties the paper proves and our tests check:
 *   - e happened before f ⇒ ts(e) < ts(f) (lexicographic), as a Lamport clock;
 *   - wall(e) is the largest physical time in e's causal past, so wall(e) − pt(e) is at most the
 *     clock skew ε between processes;
 *   - logical(e) is at most the number of events in e's causal past with the same wall.
 *
 * The clock never reads time itself: every call takes the caller's physical time (a core is pure;
 * the host passes its wall clock, the simulator its skewed virtual one). Units are the caller's
 * (milliseconds, say) and must be the same for `physicalNow`, `wall` and `maxOffset`.
 */
export interface HlcTimestamp {
  readonly wall: number
  readonly logical: number
}

/** ClockOffsetExceeded: a remote timestamp is further ahead of our physical clock than allowed. */
export interface ClockOffsetExceeded {
  readonly code: 'clock-offset-exceeded'
  readonly remote: HlcTimestamp
  readonly physicalNow: number
  readonly maxOffset: number
}

export type ObserveResult =
  | { readonly ok: true; readonly ts: HlcTimestamp }
  | { readonly ok: false; readonly error: ClockOffsetExceeded }

/**
 * HybridLogicalClock is one process's HLC.
 * Invariant: `last` is the timestamp of the latest event and strictly increases with every event.
 */
export class HybridLogicalClock {
  private l: number
  private c: number

  /**
   * @param maxOffset how far (in the caller's units) a remote wall time may be ahead of our
   *   physical clock before observe refuses it. Without this bound one peer with a clock set to
   *   next year would drag every clock in the cluster there, for good (CockroachDB's max-offset).
   * @param start the last timestamp issued before a restart, so that timestamps stay monotonic.
   */
  constructor(
    readonly maxOffset: number,
    start: HlcTimestamp = { wall: 0, logical: 0 },
  ) {
    assert(isNat(maxOffset), () => `hlc: bad maxOffset ${maxOffset}`)
    assertTimestamp(start, 'start')
    this.l = start.wall
    this.c = start.logical
  }

  /** last is the timestamp of the latest event, without creating one. */
  get last(): HlcTimestamp {
    return { wall: this.l, logical: this.c }
  }

  /** now stamps a local event or a send at physical time `physicalNow` (Figure 5, send). */
  now(physicalNow: number): HlcTimestamp {
    assert(isNat(physicalNow), () => `hlc: bad physical time ${physicalNow}`)
    if (physicalNow > this.l) {
      this.l = physicalNow
      this.c = 0
    } else {
      this.bumpLogical(this.c)
    }
    return this.last
  }

  /**
   * observe stamps the receipt of a message carrying `remote` (Figure 5, receive). If remote.wall
   * is more than maxOffset ahead of `physicalNow` it returns ClockOffsetExceeded and leaves the
   * clock unchanged; the caller should drop the message (and probably alert: a clock is wrong).
   */
  observe(remote: HlcTimestamp, physicalNow: number): ObserveResult {
    assert(isNat(physicalNow), () => `hlc: bad physical time ${physicalNow}`)
    assertTimestamp(remote, 'remote timestamp')
    if (remote.wall - physicalNow > this.maxOffset) {
      return {
        ok: false,
        error: { code: 'clock-offset-exceeded', remote, physicalNow, maxOffset: this.maxOffset },
      }
    }
    const prev = this.l
    this.l = Math.max(prev, remote.wall, physicalNow)
    if (this.l === prev && this.l === remote.wall) this.bumpLogical(Math.max(this.c, remote.logical))
    else if (this.l === prev) this.bumpLogical(this.c)
    else if (this.l === remote.wall) this.bumpLogical(remote.logical)
    else this.c = 0
    return { ok: true, ts: this.last }
  }

  private bumpLogical(from: number): void {
    assert(from < Number.MAX_SAFE_INTEGER, 'hlc: logical counter exhausted the safe integers')
    this.c = from + 1
  }
}

/** compareHlc orders timestamps lexicographically: negative if a < b, 0 if equal, positive if a > b. */
export function compareHlc(a: HlcTimestamp, b: HlcTimestamp): number {
  return a.wall !== b.wall ? a.wall - b.wall : a.logical - b.logical
}

function isNat(n: number): boolean {
  return Number.isSafeInteger(n) && n >= 0
}

function assertTimestamp(ts: HlcTimestamp, what: string): void {
  assert(isNat(ts.wall) && isNat(ts.logical), () => `hlc: bad ${what} ${ts.wall}.${ts.logical}`)
}

// ---- codec: wall then logical, as uvarints ----------------------------------------------------

export function writeHlc(w: BinaryWriter, ts: HlcTimestamp): void {
  w.uvarint(ts.wall).uvarint(ts.logical)
}

export function readHlc(r: BinaryReader): HlcTimestamp {
  const wall = r.uvarint()
  return { wall, logical: r.uvarint() }
}

export function encodeHlc(ts: HlcTimestamp): Uint8Array {
  return encodeWith(writeHlc, ts, 16)
}

/** decodeHlc throws CodecError unless `b` is exactly one timestamp. */
export function decodeHlc(b: Uint8Array): HlcTimestamp {
  return decodeExactly(readHlc, b, 'hlc timestamp')
}
