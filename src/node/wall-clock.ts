/**
 * WallClockTicker calls `onTick` every `tickMs` of real time: the real node's counterpart of the
 * simulator's tick events. Ticks missed while the event loop was blocked are dropped, not replayed
 * in a burst (as etcd's ticker does): a burst would make a stalled follower time out its leader
 * at once, and leases count on ticks never running faster than the clock.
 */
/** TickerTimers: the clock and timer the ticker runs on; tests pass a manual one. */
export interface TickerTimers {
  now(): number
  setTimeout(fn: () => void, ms: number): unknown
  clearTimeout(handle: unknown): void
}

const REAL_TIMERS: TickerTimers = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
}

export class WallClockTicker {
  private timer: unknown
  private nextAt = 0
  /** missedTicks counts ticks dropped because the loop was late by a whole tick or more. */
  missedTicks = 0

  constructor(
    private readonly tickMs: number,
    private readonly onTick: () => void,
    private readonly timers: TickerTimers = REAL_TIMERS,
  ) {
    if (!(Number.isFinite(tickMs) && tickMs > 0)) throw new RangeError('tickMs must be > 0')
  }

  start(): void {
    if (this.timer !== undefined) return
    this.nextAt = this.timers.now() + this.tickMs
    this.schedule()
  }

  stop(): void {
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer)
    this.timer = undefined
  }

  private schedule(): void {
    this.timer = this.timers.setTimeout(() => this.fire(), Math.max(0, this.nextAt - this.timers.now()))
  }

  private fire(): void {
    const now = this.timers.now()
    const late = Math.floor((now - this.nextAt) / this.tickMs)
    if (late > 0) this.missedTicks += late
    // Keep the phase of the original schedule, so ticks do not drift later and later.
    this.nextAt += (late + 1) * this.tickMs
    this.schedule()
    this.onTick()
  }
}
