import type { Operation } from '../../src/check/history.js'
import { HttpKvClient, type KvOutcome } from '../../src/client/http-kv-client.js'

/**
 * RegisterWorkload drives a real cluster the way the simulator's clients drive a simulated one:
 * sequential clients doing get / put (unique values) on a few keys, each operation recorded with
 * its call and return time and its outcome. After an unknown outcome a client takes a new id — an
 * unknown operation never returns, so the same client may not issue another (history.ts).
 *
 * AckWorkload writes fresh keys and remembers those acknowledged, so that the end of a test can
 * require each of them on every member: a register overwritten later could not show that.
 */

export class RegisterWorkload {
  readonly history: Operation[] = []
  private nextClient = 1
  private valueSeq = 0
  private readonly t0 = performance.now()

  constructor(
    private readonly endpoints: readonly string[],
    private readonly keys: readonly string[],
  ) {}

  /** run keeps `clients` clients busy until `stop()` says so. */
  async run(clients: number, stop: () => boolean): Promise<void> {
    await Promise.all(Array.from({ length: clients }, (_, i) => this.client(i, stop)))
  }

  private now(): number {
    return Math.round((performance.now() - this.t0) * 1000)
  }

  private async client(slot: number, stop: () => boolean): Promise<void> {
    const kv = new HttpKvClient(rotate(this.endpoints, slot), { requestTimeoutMs: 4000 })
    let client = this.nextClient++
    let n = 0
    while (!stop()) {
      const key = this.keys[(slot + n++) % this.keys.length] as string
      const call = this.now()
      let op: Operation
      if (n % 2 === 0) {
        // Reads start at each member in turn, so follower reads (ReadIndex) are checked too.
        const r = await new HttpKvClient(rotate(this.endpoints, n), { requestTimeoutMs: 4000 }).get(key)
        op = {
          client,
          f: 'get',
          key,
          call,
          ...settle(r, this.now()),
          ...(r.status === 'ok' ? { result: r.value } : {}),
        }
      } else {
        const value = `v${++this.valueSeq}`
        op = { client, f: 'put', key, value, call, ...settle(await kv.put(key, value), this.now()) }
      }
      this.history.push(op)
      if (op.status === 'unknown') client = this.nextClient++
    }
  }
}

export class AckWorkload {
  /** acked: keys whose put was acknowledged; each must survive on every member. */
  readonly acked: string[] = []
  attempts = 0

  constructor(private readonly endpoints: readonly string[]) {}

  async run(clients: number, stop: () => boolean): Promise<void> {
    await Promise.all(
      Array.from({ length: clients }, async (_, slot) => {
        const kv = new HttpKvClient(rotate(this.endpoints, slot + 1), { requestTimeoutMs: 4000 })
        for (let seq = 0; !stop(); seq++) {
          const key = `ack-${slot}-${seq}`
          this.attempts++
          const r = await kv.put(key, key)
          if (r.status === 'ok') this.acked.push(key)
        }
      }),
    )
  }
}

function settle(
  r: KvOutcome<unknown>,
  at: number,
): { status: 'ok' | 'fail' | 'unknown'; return: number | null } {
  return { status: r.status, return: r.status === 'unknown' ? null : at }
}

function rotate<T>(xs: readonly T[], k: number): T[] {
  return xs.map((_, i) => xs[(i + k) % xs.length] as T)
}
