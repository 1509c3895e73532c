/**
 * Distinct number types for the quantities a consensus engine juggles, so that a term is never
 * passed where an index is expected. They are plain numbers at run time; all stay below 2^53.
 */
declare const brand: unique symbol
export type Brand<T, B extends string> = T & { readonly [brand]: B }

/** NodeId names a member of a group. Invariant: a positive integer; 0 (NO_NODE) means "none". */
export type NodeId = Brand<number, 'NodeId'>
/** Term is Raft's logical clock (a ballot in Paxos, an epoch in Zab, a view in primary-backup). */
export type Term = Brand<number, 'Term'>
/** Index is a position in the replicated log (a slot in Paxos, the counter of a zxid in Zab). */
export type Index = Brand<number, 'Index'>
/** ReadId names a read request; the host makes them unique per node. */
export type ReadId = Brand<number, 'ReadId'>

export const NO_NODE = 0 as NodeId

function checkedInteger(n: number, min: number, what: string): number {
  if (!Number.isSafeInteger(n) || n < min)
    throw new RangeError(`${what} must be an integer >= ${min}, got ${n}`)
  return n
}

export const nodeId = (n: number): NodeId => checkedInteger(n, 1, 'node id') as NodeId
export const term = (n: number): Term => checkedInteger(n, 0, 'term') as Term
export const index = (n: number): Index => checkedInteger(n, 0, 'index') as Index
export const readId = (n: number): ReadId => checkedInteger(n, 0, 'read id') as ReadId
