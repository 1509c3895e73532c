import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { AssertionFailure } from '../../src/core/assert.js'
import { type NodeId, nodeId } from '../../src/core/ids.js'
import { seededRng } from '../../src/core/rng.js'
import type { PeerMessage } from '../../src/engines/engine.js'
import { EventQueue } from '../../src/sim/event-queue.js'
import {
  bridge,
  isolateNode,
  majorityMinority,
  type NetworkOptions,
  type PartitionShape,
  randomHalves,
  ring,
  SimNetwork,
} from '../../src/sim/network.js'

interface Msg extends PeerMessage {
  readonly seq: number
  readonly sentAt: number
}

const CALM: NetworkOptions = {
  latency: { minMs: 5, maxMs: 20, tailProbability: 0, tailMaxMs: 0 },
  dropRate: 0,
  duplicateRate: 0,
}

function setup(options: NetworkOptions = CALM, seed = 1) {
  const queue = new EventQueue()
  const got: { m: Msg; at: number }[] = []
  const net = new SimNetwork<Msg>(queue, seededRng(seed), options, (m) => got.push({ m, at: queue.now() }))
  let seq = 0
  const send = (from: number, to: number, count = 1) => {
    const msgs: Msg[] = []
    for (let i = 0; i < count; i++)
      msgs.push({ from: nodeId(from), to: nodeId(to), seq: seq++, sentAt: queue.now() })
    net.transportFor(nodeId(from)).send(msgs)
  }
  return { queue, net, got, send, drain: () => queue.runUntil(queue.now() + 10_000, 1_000_000) }
}

const ids = (n: number): NodeId[] => [...Array(n).keys()].map((i) => nodeId(i + 1))

/** reach lists the nodes `from` can talk to under a shape, itself included. */
function reach(shape: PartitionShape, all: readonly NodeId[], from: NodeId): NodeId[] {
  const { net } = setup()
  net.applyShape(shape)
  return all.filter((to) => net.canTalk(from, to))
}

describe('sim/network', () => {
  it('delivers within [minMs, maxMs], and up to tailMaxMs later with the tail', () => {
    const calm = setup()
    calm.send(1, 2, 2000)
    calm.drain()
    assert.equal(calm.got.length, 2000)
    for (const { m, at } of calm.got) assert.ok(at - m.sentAt >= 5 && at - m.sentAt <= 20, `${at - m.sentAt}`)

    const tail = setup({ ...CALM, latency: { ...CALM.latency, tailProbability: 0.5, tailMaxMs: 100 } })
    tail.send(1, 2, 2000)
    tail.drain()
    const delays = tail.got.map(({ m, at }) => at - m.sentAt)
    assert.ok(delays.every((d) => d >= 5 && d <= 120))
    assert.ok(delays.filter((d) => d > 20).length > 500, 'the tail delays about half')
    const order = tail.got.map(({ m }) => m.seq)
    assert.ok(
      order.some((s, i) => i > 0 && s < order[i - 1]!),
      'the tail reorders',
    )
  })

  it('drops and duplicates at roughly the configured rates', () => {
    const { net, got, send, drain } = setup({ ...CALM, dropRate: 0.2, duplicateRate: 0.1 })
    send(1, 2, 10_000)
    drain()
    const s = net.stats
    assert.equal(s.sent, 10_000)
    assert.ok(Math.abs(s.dropped - 2000) < 300, `dropped ${s.dropped}`)
    assert.ok(Math.abs(s.duplicated - 800) < 200, `duplicated ${s.duplicated}`)
    assert.equal(s.delivered, s.sent - s.dropped + s.duplicated)
    assert.equal(got.length, s.delivered)
    const seen = new Map<number, number>()
    for (const { m } of got) seen.set(m.seq, (seen.get(m.seq) ?? 0) + 1)
    assert.equal([...seen.values()].filter((c) => c === 2).length, s.duplicated)
  })

  it('delivers a message to its sender, even when the sender is cut off', () => {
    const { net, got, send, drain } = setup()
    net.partition([[nodeId(2)]])
    send(1, 1)
    drain()
    assert.equal(got.length, 1)
    assert.equal(net.canTalk(nodeId(1), nodeId(2)), false, 'a node in no group is isolated')
  })

  it('blocks a partition at send and in flight', () => {
    const { net, got, send, drain, queue } = setup()
    net.partition([[nodeId(1)], [nodeId(2), nodeId(3)]])
    send(1, 2)
    send(2, 3)
    drain()
    assert.deepEqual(
      got.map(({ m }) => [m.from, m.to]),
      [[2, 3]],
    )
    assert.equal(net.stats.blocked, 1)
    net.heal()
    send(1, 2)
    queue.runUntil(queue.now() + 1, 100)
    net.partition([[nodeId(1)], [nodeId(2)]])
    drain()
    assert.equal(got.length, 1, 'cut while in flight: lost')
    assert.deepEqual(net.stats, {
      sent: 3,
      delivered: 1,
      dropped: 0,
      duplicated: 0,
      blocked: 2,
      blockedInFlight: 1,
    })
  })

  it('blocks links one way or both, beside a partition', () => {
    const { net } = setup()
    const [a, b, c] = ids(3) as [NodeId, NodeId, NodeId]
    net.blockOneWay(a, b)
    assert.deepEqual([net.canTalk(a, b), net.canTalk(b, a)], [false, true])
    net.blockLink(b, c)
    assert.deepEqual([net.canTalk(b, c), net.canTalk(c, b), net.canTalk(a, c)], [false, false, true])
    net.partition([[a, b, c]])
    net.unblockLink(b, c)
    assert.equal(net.canTalk(c, b), true)
    assert.equal(net.canTalk(a, b), false, 'a partition does not lift a blocked link')
    net.heal()
    assert.equal(net.canTalk(a, b), true)
  })

  it('validates options, merges updates and asserts the sender', () => {
    const { net } = setup()
    assert.throws(() => setup({ ...CALM, dropRate: 1.5 }), RangeError)
    assert.throws(() => setup({ ...CALM, latency: { ...CALM.latency, minMs: 30 } }), RangeError)
    assert.throws(() => net.setOptions({ latency: { tailMaxMs: 0.5 } }), RangeError)
    net.setOptions({ latency: { maxMs: 50 }, duplicateRate: 0.5 })
    assert.deepEqual(net.options, { ...CALM, latency: { ...CALM.latency, maxMs: 50 }, duplicateRate: 0.5 })
    const m = { from: nodeId(2), to: nodeId(1), seq: 0, sentAt: 0 }
    assert.throws(() => net.transportFor(nodeId(1)).send([m]), AssertionFailure)
    assert.throws(() => net.partition([[nodeId(1)], [nodeId(1)]]), AssertionFailure)
  })

  it('replays the same deliveries from the same seed, and others from another seed', () => {
    const run = (seed: number) => {
      const rough = {
        latency: { minMs: 1, maxMs: 30, tailProbability: 0.2, tailMaxMs: 200 },
        dropRate: 0.1,
        duplicateRate: 0.1,
      }
      const { got, send, drain, queue } = setup(rough, seed)
      for (let i = 0; i < 300; i++) send((i % 3) + 1, ((i + 1) % 3) + 1)
      drain()
      return { trace: got.map(({ m, at }) => `${m.seq}@${at}`).join(' '), hash: queue.traceHash() }
    }
    assert.deepEqual(run(7), run(7))
    assert.notEqual(run(7).trace, run(8).trace)
  })

  describe('partition shapes', () => {
    const seeds = [1, 2, 3, 4, 5, 6]

    it('halves: two sides of ⌊n/2⌋ and ⌈n/2⌉ that do not talk across', () => {
      for (const n of [1, 2, 3, 4, 5, 7])
        for (const seed of seeds) {
          const all = ids(n)
          const shape = randomHalves(all, seededRng(seed))
          const sizes = all.map((id) => reach(shape, all, id).length).sort((x, y) => x - y)
          const small = Math.floor(n / 2)
          assert.deepEqual(sizes, [...Array(small).fill(small), ...Array(n - small).fill(n - small)])
        }
    })

    it('isolate: one node talks to no one else; the rest talk freely', () => {
      const all = ids(5)
      const shape = isolateNode(all, nodeId(3))
      for (const id of all) assert.deepEqual(reach(shape, all, id), id === 3 ? [3] : [1, 2, 4, 5])
    })

    it('majority-minority: a non-empty minority and a strict majority (n >= 3)', () => {
      for (const n of [3, 4, 5, 6, 7])
        for (const seed of seeds) {
          const all = ids(n)
          const sizes = all.map((id) => reach(majorityMinority(all, seededRng(seed)), all, id).length)
          assert.ok(Math.max(...sizes) > n / 2 && Math.min(...sizes) < n / 2, `n=${n}: ${sizes}`)
        }
      assert.deepEqual(reach(majorityMinority(ids(2), seededRng(1)), ids(2), nodeId(1)), [1, 2])
    })

    it('bridge: the middle talks to all; the halves only through it', () => {
      for (const n of [3, 4, 5, 6, 7])
        for (const seed of seeds) {
          const all = ids(n)
          const shape = bridge(all, seededRng(seed))
          const middles = all.filter((id) => reach(shape, all, id).length === n)
          assert.equal(middles.length, 1, `n=${n} ${shape.name}`)
          const mid = middles[0]!
          const rest = all.filter((id) => id !== mid)
          const side = new Set(reach(shape, all, rest[0]!).filter((id) => id !== mid))
          for (const a of rest)
            for (const b of rest) {
              assert.equal(reach(shape, all, a).includes(b), side.has(a) === side.has(b), `${a}->${b}`)
            }
          if (n === 5) assert.equal(side.size, 2)
        }
    })

    it('ring: every node sees a majority with itself; no two see the same (n >= 4)', () => {
      for (const n of [3, 4, 5, 6, 7, 8, 9])
        for (const seed of seeds) {
          const all = ids(n)
          const shape = ring(all, seededRng(seed))
          const sets = all.map((id) => reach(shape, all, id))
          all.forEach((id, i) => {
            assert.ok(sets[i]!.includes(id) && sets[i]!.length > n / 2, `n=${n} ${id}: ${sets[i]}`)
            for (const other of sets[i]!) assert.ok(reach(shape, all, other).includes(id), 'symmetric')
          })
          if (n >= 4) assert.equal(new Set(sets.map((s) => s.join())).size, n, `n=${n} ${shape.name}`)
          if (n === 5)
            assert.ok(
              sets.every((s) => s.length === 3),
              'n=5: only the two neighbours',
            )
        }
    })

    it('applyShape replaces the previous cut', () => {
      const { net } = setup()
      net.blockLink(nodeId(1), nodeId(2))
      net.applyShape(isolateNode(ids(3), nodeId(3)))
      assert.equal(net.canTalk(nodeId(1), nodeId(2)), true)
      assert.equal(net.canTalk(nodeId(1), nodeId(3)), false)
    })
  })
})
