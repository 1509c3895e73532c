import { NO_NODE, type NodeId } from '../core/ids.js'
import type { Rng } from '../core/rng.js'
import { decodeKvResult, encodeKvCommand, encodeKvQuery, type KvCommand } from '../kv/register-commands.js'
import type { HostResult } from '../node/host.js'
import type { EventQueue } from './event-queue.js'

/**
 * The workload: logical clients issuing get / put / cas / delete on a few keys, each operation
 * with a timeout, recorded as a history in the checker's format (README, "History format").
 * Written values are unique, as in Jepsen's and etcd's robustness tests, which keeps the
 * checker's search small when many writes end unknown.
 *
 * A client whose operation ended unknown may still have it in flight, so — as Jepsen does — it
 * continues under a new client id: one client id never has two operations open at once.
 */

export interface HistoryOp {
  client: number
  f: 'get' | 'put' | 'cas' | 'delete'
  key: string
  value?: string
  expected?: string | null
  result?: string | boolean | null
  call: number
  return: number | null
  status: 'ok' | 'fail' | 'unknown'
}

/** The cluster as a client sees it: a node may answer, refuse with a hint, or never answer. */
export interface ClientGateway {
  readonly nodeIds: readonly NodeId[]
  propose(node: NodeId, cmd: Uint8Array, done: (r: HostResult) => void): void
  read(node: NodeId, query: Uint8Array, done: (r: HostResult) => void): void
}

export interface WorkloadOptions {
  readonly clients: number
  readonly keys: number
  readonly opTimeoutMs: number
  readonly thinkMsMax: number
  /** stopAtMs: no operation starts after this time. */
  readonly stopAtMs: number
}

/** Errors that prove the operation did not run; the client may retry it at once. */
function certainlyNotRun(r: HostResult): boolean {
  return !r.ok && ['not-leader', 'not-committed', 'read-dropped', 'overloaded'].includes(r.error.code)
}

export class Workload {
  readonly history: HistoryOp[] = []
  private nextClientId: number
  private valueSeq = 0

  constructor(
    private readonly queue: EventQueue,
    private readonly rng: Rng,
    private readonly gateway: ClientGateway,
    private readonly opts: WorkloadOptions,
  ) {
    this.nextClientId = opts.clients + 1
  }

  start(): void {
    for (let c = 1; c <= this.opts.clients; c++)
      this.queue.after(this.rng.int(0, 10), () => this.next(c), `client ${c}`)
  }

  private next(client: number): void {
    if (this.queue.now() >= this.opts.stopAtMs) return
    const key = `k${this.rng.int(1, this.opts.keys)}`
    const op = this.chooseOp(client, key)
    this.history.push(op)
    this.attempt(op, this.rng.pick(this.gateway.nodeIds), this.queue.now() + this.opts.opTimeoutMs)
  }

  private chooseOp(client: number, key: string): HistoryOp {
    const call = this.queue.now()
    const roll = this.rng.int(1, 100)
    const value = () => `v${++this.valueSeq}`
    if (roll <= 45) return { client, f: 'get', key, call, return: null, status: 'unknown' }
    if (roll <= 75) return { client, f: 'put', key, value: value(), call, return: null, status: 'unknown' }
    if (roll <= 92) {
      // Expect a value recently written, or absence: some compares succeed, some fail.
      const written = this.history.filter((h) => h.key === key && h.value !== undefined)
      const expected =
        written.length > 0 && this.rng.chance(0.8) ? (this.rng.pick(written.slice(-3)).value as string) : null
      return { client, f: 'cas', key, expected, value: value(), call, return: null, status: 'unknown' }
    }
    return { client, f: 'delete', key, call, return: null, status: 'unknown' }
  }

  /** attempt sends op to `node`; refusals that prove nothing ran are retried until the deadline. */
  private attempt(op: HistoryOp, node: NodeId, deadline: number): void {
    if (this.queue.now() >= deadline) {
      this.finish(op, op.f === 'get' ? 'fail' : 'unknown')
      return
    }
    let settled = false
    const timer = this.queue.at(
      deadline,
      () => {
        if (settled) return
        settled = true
        this.finish(op, op.f === 'get' ? 'fail' : 'unknown')
      },
      `timeout c${op.client}`,
    )
    const done = (r: HostResult) => {
      if (settled) return
      if (certainlyNotRun(r) && this.queue.now() < deadline) {
        settled = true
        this.queue.cancel(timer)
        const hint = !r.ok && r.error.code === 'not-leader' ? r.error.leaderHint : NO_NODE
        const retryAt = hint !== NO_NODE ? hint : this.rng.pick(this.gateway.nodeIds)
        // Back off a little so a leaderless group is not flooded.
        this.queue.after(
          this.rng.int(1, 10),
          () => this.attempt(op, retryAt, deadline),
          `retry c${op.client}`,
        )
        return
      }
      settled = true
      this.queue.cancel(timer)
      if (r.ok) {
        if (op.f === 'get') op.result = decodeKvResult(r.result)
        if (op.f === 'cas') op.result = decodeKvResult(r.result) === 'true'
        this.finish(op, 'ok')
      } else {
        // Stopped hosts and proposals whose fate a snapshot hid: they may have taken effect.
        this.finish(op, op.f === 'get' ? 'fail' : r.error.code === 'not-committed' ? 'fail' : 'unknown')
      }
    }
    if (op.f === 'get') this.gateway.read(node, encodeKvQuery({ f: 'get', key: op.key }), done)
    else this.gateway.propose(node, encodeKvCommand(toCommand(op)), done)
  }

  private finish(op: HistoryOp, status: HistoryOp['status']): void {
    op.status = status
    op.return = status === 'unknown' ? null : this.queue.now()
    // An unknown operation may still be in flight: continue under a fresh client id.
    const client = status === 'unknown' ? this.nextClientId++ : op.client
    this.queue.after(this.rng.int(0, this.opts.thinkMsMax), () => this.next(client), `client ${client}`)
  }
}

function toCommand(op: HistoryOp): KvCommand {
  switch (op.f) {
    case 'put':
      return { f: 'put', key: op.key, value: op.value as string }
    case 'cas':
      return { f: 'cas', key: op.key, expected: op.expected ?? null, value: op.value as string }
    case 'delete':
      return { f: 'delete', key: op.key }
    case 'get':
      throw new RangeError('a get is a query, not a command')
  }
}
