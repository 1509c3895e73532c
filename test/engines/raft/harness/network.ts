import type { NodeId } from '../../../../src/core/ids.js'
import type { RaftMessage } from '../../../../src/engines/raft/messages.js'

/**
 * SimNetwork is the in-flight message queue and the connectivity between nodes. Messages wait in
 * the queue until the driver delivers, drops or duplicates them, in any order it likes.
 *
 * Connectivity is a group per node: nodes talk only within a group. Nodes not named by the last
 * `partition` share the default group; `isolate` gives a node a group of its own.
 */
export class SimNetwork {
  private queue: RaftMessage[] = []
  private groups = new Map<NodeId, number>()
  private nextGroup = 1

  connected(a: NodeId, b: NodeId): boolean {
    return a === b || (this.groups.get(a) ?? 0) === (this.groups.get(b) ?? 0)
  }

  partition(groups: readonly (readonly NodeId[])[]): void {
    this.groups.clear()
    for (const g of groups) {
      const n = this.nextGroup++
      for (const id of g) this.groups.set(id, n)
    }
  }

  isolate(id: NodeId): void {
    this.groups.set(id, this.nextGroup++)
  }

  heal(): void {
    this.groups.clear()
  }

  /** send queues a message unless its ends are separated; it says whether it queued it. */
  send(m: RaftMessage): boolean {
    if (!this.connected(m.from, m.to)) return false
    this.queue.push(m)
    return true
  }

  get size(): number {
    return this.queue.length
  }

  at(i: number): RaftMessage | undefined {
    return this.queue[i]
  }

  pending(): RaftMessage[] {
    return this.queue.slice()
  }

  /** removeAt takes the i-th message out of the queue. */
  removeAt(i: number): RaftMessage {
    const [m] = this.queue.splice(i, 1)
    if (m === undefined) throw new RangeError(`no in-flight message #${i} (${this.queue.length} in flight)`)
    return m
  }

  /** take removes and returns the matching messages (all by default), in FIFO order. */
  take(filter?: (m: RaftMessage) => boolean): RaftMessage[] {
    if (!filter) {
      const all = this.queue
      this.queue = []
      return all
    }
    const taken: RaftMessage[] = []
    const kept: RaftMessage[] = []
    for (const m of this.queue) (filter(m) ? taken : kept).push(m)
    this.queue = kept
    return taken
  }
}
