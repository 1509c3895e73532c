/**
 * WallClockTicker calls `onTick` every `tickMs` of real time: the real node's counterpart of the
 * simulator's tick events. Ticks missed while the event loop was blocked are dropped, not replayed
 * in a burst (as etcd's ticker does): a burst would make a stalled follower time out its leader
 * at once, and leases count on ticks never running faster than the clock.
 */
export class WallClockTicker {
  private timer: NodeJS.Timeout | undefined
  private nextAt = 0
  /** missedTicks counts ticks dropped because the loop was late by a whole tick or more. */
  missedTicks = 0

  constructor(
    private readonly tickMs: number,
    private readonly onTick: () => void,
  ) {
    if (!(Number.isFinite(tickMs) && tickMs > 0)) throw new RangeError('tickMs must be > 0')
  }

  start(): void {
    if (this.timer) return
    this.nextAt = performance.now() + this.tickMs
    this.schedule()
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer)
    this.timer = undefined
  }

  private schedule(): void {
    this.timer = setTimeout(() => this.fire(), Math.max(0, this.nextAt - performance.now()))
  }

  private fire(): void {
    const now = performance.now()
    const late = Math.floor((now - this.nextAt) / this.tickMs)
    if (late > 0) this.missedTicks += late
    // Keep the phase of the original schedule, so ticks do not drift later and later.
    this.nextAt += (late + 1) * this.tickMs
    this.schedule()
    this.onTick()
  }
}
