import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import type { Index, NodeId, ReadId } from '../../../../src/core/ids.js'
import { majorityAcked } from '../../../../src/engines/quorum/quorum.js'
import { PENDING_READS_MAX, type PendingRead, ReadOnly } from '../../../../src/engines/raft/read-only.js'

// Reference: Raft dissertation §6.4 (ReadIndex: record the commit index, confirm leadership with a
// round of heartbeats acknowledged by a majority, then serve; §6.4.1 leases: a majority's
// acknowledgement of a heartbeat sent at t keeps others from being elected before
// t + election timeout, less clock drift), batched per heartbeat round as in etcd raft's
// read_only.go (readIndexQueue, advance releasing every request up to the acknowledged one).

const N = (n: number) => n as NodeId
const R = (n: number) => n as ReadId
const I = (n: number) => n as Index
const ids = (rs: readonly PendingRead[]): number[] => rs.map((r) => r.id)

describe('raft/read-only: rounds and acks', () => {
  it('numbers rounds from 1; a read waits for the first round sent after it arrived', () => {
    const ro = new ReadOnly()
    assert.equal(ro.currentRound(), 0)
    assert.equal(ro.roundWanted, false)
    assert.ok(ro.addRead(R(1), N(1), I(10)))
    assert.equal(ro.roundWanted, true, 'a read asks for a round')
    assert.equal(ro.startRound(100), 1)
    assert.equal(ro.roundWanted, false)
    assert.ok(ro.addRead(R(2), N(2), I(11)))
    assert.equal(ro.pendingCount(), 2)
    // Round 1 was sent after read 1 arrived, but before read 2: only read 1 is confirmed by it.
    assert.deepEqual(ro.advanceQuorumRound(1), [{ id: 1, from: 1, index: 10, round: 1 }])
    assert.equal(ro.pendingCount(), 1)
    assert.equal(ro.startRound(101), 2)
    assert.deepEqual(ro.advanceQuorumRound(2), [{ id: 2, from: 2, index: 11, round: 2 }])
  })

  it('records the highest round each node echoed, ignoring rounds never sent', () => {
    const ro = new ReadOnly()
    ro.startRound(0)
    ro.startRound(1)
    assert.equal(ro.ackedRound(N(2)), 0)
    ro.recordAck(N(2), 2)
    assert.equal(ro.ackedRound(N(2)), 2)
    ro.recordAck(N(2), 1) // a late echo of an older round
    assert.equal(ro.ackedRound(N(2)), 2)
    ro.recordAck(N(3), 3) // round 3 was never sent
    assert.equal(ro.ackedRound(N(3)), 0)
    ro.recordAck(N(3), 0)
    assert.equal(ro.ackedRound(N(3)), 0)
  })

  it('advanceQuorumRound releases reads in arrival order, and only once', () => {
    const ro = new ReadOnly()
    ro.addRead(R(1), N(1), I(5))
    ro.addRead(R(2), N(2), I(5))
    ro.startRound(0)
    ro.addRead(R(3), N(1), I(6))
    ro.startRound(1)
    ro.addRead(R(4), N(3), I(7))
    ro.startRound(2)
    ro.addRead(R(5), N(1), I(7))
    assert.deepEqual(ro.advanceQuorumRound(0), [])
    assert.deepEqual(ids(ro.advanceQuorumRound(2)), [1, 2, 3])
    assert.deepEqual(ro.advanceQuorumRound(2), [], 'the same round again')
    assert.deepEqual(ro.advanceQuorumRound(1), [], 'an older round')
    assert.deepEqual(ids(ro.advanceQuorumRound(3)), [4])
    assert.equal(ro.pendingCount(), 1)
    assert.deepEqual(ids(ro.takeAll()), [5])
    assert.equal(ro.pendingCount(), 0)
    assert.deepEqual(ro.takeAll(), [])
  })

  it('takeAll hands back every waiting read, in order (leadership lost)', () => {
    const ro = new ReadOnly()
    for (let i = 1; i <= 5; i++) {
      ro.addRead(R(i), N(1), I(i))
      if (i % 2 === 0) ro.startRound(i)
    }
    assert.deepEqual(ids(ro.takeAll()), [1, 2, 3, 4, 5])
    assert.deepEqual(ro.advanceQuorumRound(ro.currentRound()), [])
  })

  it('bounds the queue at PENDING_READS_MAX', () => {
    const ro = new ReadOnly()
    for (let i = 0; i < PENDING_READS_MAX; i++) assert.ok(ro.addRead(R(i), N(1), I(1)))
    assert.equal(ro.addRead(R(PENDING_READS_MAX), N(1), I(1)), false)
    assert.equal(ro.pendingCount(), PENDING_READS_MAX)
    ro.startRound(0)
    assert.equal(ro.advanceQuorumRound(1).length, PENDING_READS_MAX)
    assert.ok(ro.addRead(R(PENDING_READS_MAX), N(1), I(1)), 'room again once served')
  })
})

describe('raft/read-only: lease (§6.4.1)', () => {
  it('starts at the send tick of the newest quorum-acknowledged round', () => {
    const ro = new ReadOnly()
    assert.equal(ro.leaseStartTick, Number.NEGATIVE_INFINITY, 'no lease before any round')
    ro.startRound(10)
    ro.startRound(20)
    ro.startRound(30)
    ro.advanceQuorumRound(2)
    assert.equal(ro.leaseStartTick, 20)
    ro.advanceQuorumRound(3)
    assert.equal(ro.leaseStartTick, 30)
  })

  it('moves forward only', () => {
    const ro = new ReadOnly()
    ro.startRound(50)
    ro.startRound(40) // a host whose tick went backwards: the lease must not move back
    ro.advanceQuorumRound(1)
    assert.equal(ro.leaseStartTick, 50)
    ro.advanceQuorumRound(2)
    assert.equal(ro.leaseStartTick, 50)
    ro.advanceQuorumRound(1)
    assert.equal(ro.leaseStartTick, 50)
  })

  it('invalidateLease ends it until a newer round is acknowledged', () => {
    const ro = new ReadOnly()
    ro.startRound(10)
    ro.startRound(20)
    ro.advanceQuorumRound(2)
    ro.invalidateLease()
    assert.equal(ro.leaseStartTick, Number.NEGATIVE_INFINITY)
    ro.advanceQuorumRound(2)
    assert.equal(ro.leaseStartTick, Number.NEGATIVE_INFINITY, 'an old acknowledgement does not renew it')
    ro.startRound(30)
    ro.advanceQuorumRound(3)
    assert.equal(ro.leaseStartTick, 30)
  })

  it('a round too old to be remembered confirms reads but grants no lease', () => {
    const ro = new ReadOnly()
    ro.addRead(R(1), N(1), I(1))
    for (let r = 1; r <= 2000; r++) ro.startRound(r * 10)
    assert.deepEqual(ids(ro.advanceQuorumRound(1)), [1])
    assert.equal(ro.leaseStartTick, Number.NEGATIVE_INFINITY)
    ro.advanceQuorumRound(1990)
    assert.equal(ro.leaseStartTick, 19_900)
  })
})

// ---- property: against a dumb reference -------------------------------------------------------

const VOTERS = [1, 2, 3].map(N)

/**
 * The reference: every read remembers the number of rounds started before it arrived; a read is
 * served once a majority of voters echoed a round started after it. The lease is the largest send
 * tick among quorum-acknowledged rounds (since the last invalidation).
 */
class RefReadOnly {
  reads: { id: number; roundsBefore: number }[] = []
  served: number[] = []
  ticks: number[] = [] // ticks[r - 1]: when round r was sent
  acked = new Map<NodeId, number>()
  quorumRound = 0
  lease = Number.NEGATIVE_INFINITY
}

describe('raft/read-only: property', () => {
  it('serves each read exactly once, in order, only after a majority echoed a later round', () => {
    const arbOp = fc.record({ kind: fc.nat(6), node: fc.integer({ min: 1, max: 3 }), a: fc.nat(10) })
    fc.assert(
      fc.property(fc.array(arbOp, { maxLength: 60 }), (ops) => {
        const ro = new ReadOnly()
        const ref = new RefReadOnly()
        let nextId = 0
        let tick = 0
        for (const op of ops) {
          switch (op.kind) {
            case 0:
            case 1:
              ro.addRead(R(nextId), N(op.node), I(nextId))
              ref.reads.push({ id: nextId++, roundsBefore: ref.ticks.length })
              break
            case 2:
              tick += op.a
              ro.startRound(tick)
              ro.recordAck(N(1), ro.currentRound()) // the leader echoes its own round
              ref.ticks.push(tick)
              ref.acked.set(N(1), ref.ticks.length)
              break
            case 3:
            case 4: {
              // A follower echoes some round it received (possibly an old one, possibly none yet).
              const round = Math.max(0, ref.ticks.length - (op.a % 4))
              ro.recordAck(N(op.node), round)
              ref.acked.set(N(op.node), Math.max(ref.acked.get(N(op.node)) ?? 0, round))
              break
            }
            case 5:
              ro.invalidateLease()
              ref.lease = Number.NEGATIVE_INFINITY
              break
            case 6:
              // Re-echo of a round never sent: ignored.
              ro.recordAck(N(op.node), ref.ticks.length + 1 + op.a)
              break
          }
          // The leader's releaseReads, after every event.
          const q = majorityAcked(VOTERS, (id) => ro.ackedRound(id))
          const released = ro.advanceQuorumRound(q)
          // Reference: the round a majority echoed, from the reference's own acks.
          const refQ = majorityAcked(VOTERS, (id) => ref.acked.get(id) ?? 0)
          assert.equal(q, refQ)
          const want: number[] = []
          if (refQ > ref.quorumRound) {
            ref.quorumRound = refQ
            ref.lease = Math.max(ref.lease, ref.ticks[refQ - 1] as number)
            for (const r of ref.reads)
              if (r.roundsBefore < refQ && !ref.served.includes(r.id)) want.push(r.id)
          }
          assert.deepEqual(ids(released), want)
          ref.served.push(...want)
          assert.equal(ro.leaseStartTick, ref.lease)
          assert.equal(ro.pendingCount(), ref.reads.length - ref.served.length)
          for (const r of released) assert.equal(r.index, r.id, 'served at the index recorded on arrival')
        }
        assert.deepEqual(
          ids(ro.takeAll()),
          ref.reads.map((r) => r.id).filter((id) => !ref.served.includes(id)),
        )
      }),
      { numRuns: 300 },
    )
  })
})
