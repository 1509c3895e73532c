import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { type TickerTimers, WallClockTicker } from '../../src/node/wall-clock.js'

/** ManualTimers: a clock that moves only when told; `block` jumps it as a stalled event loop would. */
class ManualTimers implements TickerTimers {
  t = 0
  private nextId = 1
  private readonly due = new Map<number, { at: number; fn: () => void }>()
  now(): number {
    return this.t
  }
  setTimeout(fn: () => void, ms: number): number {
    const id = this.nextId++
    this.due.set(id, { at: this.t + ms, fn })
    return id
  }
  clearTimeout(id: unknown): void {
    this.due.delete(id as number)
  }
  /** run advances time 1 ms at a time to `until`, firing timers when due. */
  run(until: number): void {
    while (this.t < until) {
      this.t++
      this.fireDue()
    }
  }
  /** block moves time at once (nothing runs meanwhile), then fires what is overdue. */
  block(ms: number): void {
    this.t += ms
    this.fireDue()
  }
  private fireDue(): void {
    for (const [id, d] of [...this.due].sort((a, b) => a[1].at - b[1].at)) {
      if (d.at > this.t) continue
      this.due.delete(id)
      d.fn()
    }
  }
}

describe('node/wall-clock', () => {
  it('ticks every tickMs of the clock', () => {
    const timers = new ManualTimers()
    const at: number[] = []
    new WallClockTicker(10, () => at.push(timers.t), timers).start()
    timers.run(100)
    assert.deepEqual(at, [10, 20, 30, 40, 50, 60, 70, 80, 90, 100])
  })

  it('drops the ticks a stalled loop missed instead of bursting, and keeps its phase', () => {
    const timers = new ManualTimers()
    const at: number[] = []
    const ticker = new WallClockTicker(10, () => at.push(timers.t), timers)
    ticker.start()
    timers.run(20)
    timers.block(55) // the loop was busy from 20 to 75
    timers.run(100)
    assert.deepEqual(at, [10, 20, 75, 80, 90, 100])
    assert.equal(ticker.missedTicks, 4) // 30, 40, 50, 60 never happened; 70 is the one at 75
  })

  it('stops, also from inside a tick', () => {
    const timers = new ManualTimers()
    let ticks = 0
    const ticker = new WallClockTicker(
      10,
      () => {
        if (++ticks === 3) ticker.stop()
      },
      timers,
    )
    ticker.start()
    ticker.start() // a second start changes nothing
    timers.run(200)
    assert.equal(ticks, 3)
    assert.throws(() => new WallClockTicker(0, () => {}), /tickMs must be > 0/)
  })
})
