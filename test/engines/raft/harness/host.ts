import type { NodeId, ReadId } from '../../../../src/core/ids.js'
import type { ReadState, Ready, Role } from '../../../../src/engines/engine.js'
import type { RaftMessage } from '../../../../src/engines/raft/messages.js'
import type { RaftOptions } from '../../../../src/engines/raft/options.js'
import { RaftEngine } from '../../../../src/engines/raft/raft.js'
import { SimDisk } from './disk.js'
import type { SafetyChecker } from './invariants.js'
import type { SimNetwork } from './network.js'
import { TestStateMachine } from './state-machine.js'
import { describeEntries, describeMessage } from './trace.js'

/** HostContext is what a host shares with the rest of the cluster. */
export interface HostContext {
  readonly checker: SafetyChecker
  readonly net: SimNetwork
  trace(line: string | (() => string)): void
  /** leaderDisk is the disk of node `id` if it is live and leads `term` now. */
  leaderDisk(id: NodeId, term: number): SimDisk | undefined
}

const READY_LOOPS_MAX = 10_000

/**
 * SimHost is one simulated server: the host loop of DESIGN.md around one engine (absent while
 * crashed), with its disk and state machine. `drain` performs the host's duties for every Ready,
 * in the order the doc comment on `Ready` gives them, asserting each, then checks the node's state.
 */
export class SimHost {
  engine: RaftEngine | undefined
  sm = new TestStateMachine()
  readonly disk: SimDisk
  incarnation = 0
  /** The term in which the node was last seen leading, or 0. */
  private leaderTerm = 0
  /** What the node last reported, to detect changes (for the trace and the cheap path). */
  private lastRole: Role | undefined
  private lastTerm = 0
  /** Every ReadState and dropped read this host received, across restarts. */
  readonly reads: ReadState[] = []
  readonly readsDropped: ReadId[] = []
  nextReadId = 1

  constructor(
    readonly id: NodeId,
    /** The bootstrap voters this node was configured with (used again while its disk is empty). */
    readonly bootstrap: readonly NodeId[] | undefined,
    private readonly ctx: HostContext,
  ) {
    this.disk = new SimDisk(ctx.checker.failFn)
  }

  /** start builds the engine from the disk (a fresh node or a restart) and handles its Readys. */
  start(opts: RaftOptions): void {
    const start = this.disk.startState(this.id, this.bootstrap)
    this.sm = new TestStateMachine(this.disk.snapshot)
    this.engine = new RaftEngine(opts, start)
    const incarnation = this.incarnation
    this.ctx.trace(
      () =>
        `  start n${this.id}#${incarnation} ${start.bootstrap ? `bootstrap ${start.bootstrap.join(',')}` : ''}` +
        ` hs=${start.hardState ? `t${start.hardState.term} v${start.hardState.vote} c${start.hardState.commit}` : '-'}` +
        ` snap=${start.snapshot ? `${start.snapshot.meta.index}@${start.snapshot.meta.term}` : '-'}` +
        ` entries=${describeEntries(start.entries ?? [])}`,
    )
    this.drain(true)
  }

  /** crash loses the engine and the state machine; the disk stays (and must hold what it acted on). */
  crash(): void {
    if (this.engine) this.observe(this.engine, true)
    this.engine = undefined
    this.lastRole = undefined
    this.leaderTerm = 0
    this.ctx.checker.onCrash(this.id)
  }

  /** drain handles every Ready the node has (host duties 1-5), then checks its state. */
  drain(force = false): void {
    const eng = this.engine
    if (!eng) return
    for (let loops = 0; eng.hasReady(); loops++) {
      if (loops >= READY_LOOPS_MAX) {
        this.ctx.checker.fail('Ready loop', `n${this.id} still has a Ready after ${loops} rounds`)
      }
      const rd = eng.ready()
      this.persist(rd)
      this.send(rd)
      this.apply(rd)
      this.serveReads(rd)
      eng.advance(rd) // 5. with this very object
    }
    this.observe(eng, force)
  }

  /** 1. persist, atomically: snapshot, entries, HardState. */
  private persist(rd: Ready<RaftMessage>): void {
    const { checker } = this.ctx
    const p = rd.persist
    if (rd.status.role === 'leader' && this.leaderTerm === rd.status.term && p.entries.length > 0) {
      const first = p.entries[0]?.index ?? 0
      // Reference: Raft §5.3 Leader Append-Only — a leader never overwrites or deletes its entries.
      if (first !== this.disk.lastIndex() + 1) {
        checker.fail(
          'Leader Append-Only (Raft §5.3)',
          `n${this.id}, leader of term ${rd.status.term}, rewrites its log from ${first} (last ${this.disk.lastIndex()})`,
        )
      }
    }
    if (p.hardState) checker.onHardState(this.id, this.disk.hardState, p.hardState)
    if (p.snapshot) {
      if (p.snapshot.meta.index < this.sm.appliedIndex) {
        checker.fail(
          'Host duty 3 (apply)',
          `n${this.id} is told to restore snapshot ${p.snapshot.meta.index} below its applied index ${this.sm.appliedIndex}`,
        )
      }
      checker.onSnapshot(this.id, p.snapshot, 'installs')
    }
    checker.onPersist(this.id, this.disk, this.disk.write(p))
  }

  /** 2. send, only now that the Ready is durable. */
  private send(rd: Ready<RaftMessage>): void {
    const { checker, net } = this.ctx
    for (const m of rd.messages) {
      if (m.from !== this.id) {
        checker.fail(
          'Ready contract (messages)',
          `n${this.id} sends a message from n${m.from}: ${describeMessage(m)}`,
        )
      }
      checker.onSend(this.disk, m, (id) => this.ctx.leaderDisk(id, m.term))
      if (!net.send(m)) this.ctx.trace(() => `lost (partition) ${describeMessage(m)}`)
    }
  }

  /** 3. apply: restore the snapshot, then the committed entries in order. */
  private apply(rd: Ready<RaftMessage>): void {
    const { checker } = this.ctx
    if (rd.persist.snapshot) this.sm.restore(rd.persist.snapshot)
    checker.noteCommit(rd.status.commit)
    for (const e of rd.committed) {
      if (e.index !== this.sm.appliedIndex + 1) {
        checker.fail(
          'Host duty 3 (apply in order)',
          `n${this.id} is handed ${e.index}@${e.term} to apply after ${this.sm.appliedIndex}`,
        )
      }
      if (e.index > rd.status.commit) {
        checker.fail(
          'Ready contract (apply only committed)',
          `n${this.id} is handed ${e.index}@${e.term} with commit ${rd.status.commit}`,
        )
      }
      checker.onCommitted(this.id, e, rd.status.term, this.disk)
      this.sm.apply(e)
    }
    if (rd.committed.length > 0)
      this.ctx.trace(() => `  n${this.id} applies ${describeEntries(rd.committed)}`)
  }

  /** 4. reads: record those granted (the tests serve them) and those dropped. */
  private serveReads(rd: Ready<RaftMessage>): void {
    for (const rs of rd.reads) {
      this.ctx.checker.onReadGranted(this.id, rs)
      this.reads.push(rs)
      this.ctx.trace(() => `  n${this.id} read #${rs.id} at ${rs.index}`)
    }
    for (const rid of rd.readsDropped) this.readsDropped.push(rid)
  }

  /**
   * observe checks the node's state after its Readys were handled. inspect() copies the whole
   * log, so the full check (durability included) runs when the role or term changed, and at a
   * crash, where it matters most; the rest is checked every time.
   */
  private observe(eng: RaftEngine, full: boolean): void {
    const st = eng.status()
    if (st.id !== this.id) this.ctx.checker.fail('Status', `n${this.id} reports id ${st.id}`)
    const changed = full || st.role !== this.lastRole || st.term !== this.lastTerm
    if (st.role !== this.lastRole || st.term !== this.lastTerm) {
      const from = this.lastRole === undefined ? '' : `${this.lastRole} t${this.lastTerm} -> `
      this.ctx.trace(
        () => `  n${this.id} ${from}${st.role} t${st.term} (leader ${st.leader}, commit ${st.commit})`,
      )
    }
    this.lastRole = st.role
    this.lastTerm = st.term
    this.ctx.checker.onObserve(
      this.id,
      st,
      changed ? eng.inspect() : undefined,
      this.disk,
      this.sm.appliedIndex,
    )
    this.leaderTerm = st.role === 'leader' ? st.term : 0
  }
}
