import fc from 'fast-check'

/**
 * Random message-passing executions among a few processes, and their true causal order, for
 * checking logical clocks against the definition of happened-before (Lamport 1978): e → f if e
 * precedes f on one process, or e is the send of a message whose receive is f, or by transitivity.
 */

export type Step =
  | { readonly kind: 'local'; readonly p: number }
  | { readonly kind: 'send'; readonly p: number }
  /** recv delivers the pending message chosen by `pick` (modulo the number pending), if any. */
  | { readonly kind: 'recv'; readonly p: number; readonly pick: number }

export interface Event {
  readonly id: number
  readonly p: number
  readonly kind: 'local' | 'send' | 'recv'
  /** from is the id of the matching send, for a receive. */
  readonly from?: number
  /** prev is the id of the previous event on the same process. */
  readonly prev?: number
}

export interface Execution {
  readonly processes: number
  readonly events: readonly Event[]
  /** hb[e][f] says whether e → f, computed by reachability. */
  readonly hb: readonly (readonly boolean[])[]
}

/** arbSteps: 3–5 processes and up to `maxSteps` local, send and receive steps in any mix. */
export const arbSteps = (maxSteps = 40): fc.Arbitrary<{ processes: number; steps: Step[] }> =>
  fc.integer({ min: 3, max: 5 }).chain((processes) =>
    fc.record(
      {
        processes: fc.constant(processes),
        steps: fc.array(
          fc.oneof(
            fc.record(
              { kind: fc.constant('local' as const), p: fc.nat(processes - 1) },
              { noNullPrototype: true },
            ),
            fc.record(
              { kind: fc.constant('send' as const), p: fc.nat(processes - 1) },
              { noNullPrototype: true },
            ),
            fc.record(
              { kind: fc.constant('recv' as const), p: fc.nat(processes - 1), pick: fc.nat() },
              { noNullPrototype: true },
            ),
          ),
          { maxLength: maxSteps },
        ),
      },
      { noNullPrototype: true },
    ),
  )

/**
 * buildExecution turns steps into events: a receive with no pending message is skipped, and each
 * message is delivered at most once (to whichever process receives it; the network may reorder).
 */
export function buildExecution(processes: number, steps: readonly Step[]): Execution {
  const events: Event[] = []
  const last: (number | undefined)[] = new Array(processes).fill(undefined)
  const pending: number[] = []
  for (const s of steps) {
    const id = events.length
    const prev = last[s.p]
    if (s.kind === 'recv') {
      if (pending.length === 0) continue
      const [from] = pending.splice(s.pick % pending.length, 1)
      events.push(withPrev({ id, p: s.p, kind: 'recv', from: from as number }, prev))
    } else {
      events.push(withPrev({ id, p: s.p, kind: s.kind }, prev))
      if (s.kind === 'send') pending.push(id)
    }
    last[s.p] = id
  }
  return { processes, events, hb: happenedBeforeMatrix(events) }
}

function withPrev(e: Event, prev: number | undefined): Event {
  return prev === undefined ? e : { ...e, prev }
}

/** happenedBeforeMatrix: the transitive closure of the program-order and send→receive edges. */
function happenedBeforeMatrix(events: readonly Event[]): boolean[][] {
  const n = events.length
  const hb = events.map(() => new Array<boolean>(n).fill(false))
  const at = (g: number, e: number): boolean => (hb[g] as boolean[])[e] as boolean
  // Events are in a topological order (a send precedes its receive, program order is kept), so
  // when e is reached every predecessor's column is final: e inherits it, plus the edge itself.
  for (const e of events) {
    for (const pred of [e.prev, e.from]) {
      if (pred === undefined) continue
      for (let g = 0; g < n; g++) if (g === pred || at(g, pred)) (hb[g] as boolean[])[e.id] = true
    }
  }
  return hb
}

/** causalPast lists the events g with g → e. */
export function causalPast(x: Execution, e: number): number[] {
  return x.events.filter((g) => x.hb[g.id]?.[e]).map((g) => g.id)
}
