import type { NodeId } from '../core/ids.js'
import type { Rng } from '../core/rng.js'

/**
 * Partition shapes for the nemesis, after Jepsen's `jepsen.nemesis` (bisect, split-one, bridge,
 * majorities-ring). Each builder only describes a cut; SimNetwork.applyShape enforces it. Every
 * random choice comes from the Rng passed in, and each builder works for any number of nodes:
 * where a shape has no proper form (too few nodes) it cuts as much of it as exists, possibly
 * nothing, rather than throwing — a nemesis picks shapes without looking at the cluster size.
 */

export type ShapeKind = 'halves' | 'isolate' | 'majority-minority' | 'bridge' | 'ring'

/**
 * PartitionShape is a cut of the network: either `groups` (nodes talk only within their group;
 * a node in no group is isolated) or `blocked`, a list of ordered pairs [from, to] that cannot
 * talk (symmetric shapes list both directions). `name` describes the layout for logs.
 */
export type PartitionShape =
  | {
      readonly kind: ShapeKind
      readonly name: string
      readonly cut: 'groups'
      readonly groups: readonly (readonly NodeId[])[]
    }
  | {
      readonly kind: ShapeKind
      readonly name: string
      readonly cut: 'links'
      readonly blocked: readonly (readonly [NodeId, NodeId])[]
    }

const list = (ids: readonly NodeId[]): string => `{${ids.join(',')}}`

function groupsShape(kind: ShapeKind, groups: readonly (readonly NodeId[])[]): PartitionShape {
  const nonEmpty = groups.filter((g) => g.length > 0)
  return { kind, cut: 'groups', groups: nonEmpty, name: `${kind} ${nonEmpty.map(list).join(' | ')}` }
}

/**
 * randomHalves splits the nodes at random into two halves, the first of ⌊n/2⌋ nodes (Jepsen's
 * `bisect` of a shuffle). With an odd n the second half is a majority; with an even n neither
 * half is, and no quorum can form anywhere until the heal.
 */
export function randomHalves(ids: readonly NodeId[], rng: Rng): PartitionShape {
  const order = rng.shuffle(ids)
  const k = Math.floor(order.length / 2)
  return groupsShape('halves', [order.slice(0, k), order.slice(k)])
}

/**
 * isolateNode cuts one node off from all the others (Jepsen's `split-one`); the nemesis uses it
 * on the leader, which must then step down while the rest elect a new one.
 */
export function isolateNode(ids: readonly NodeId[], id: NodeId): PartitionShape {
  return groupsShape('isolate', [[id], ids.filter((x) => x !== id)])
}

/**
 * majorityMinority splits off a random minority of random size in [1, ⌈n/2⌉ - 1], so the rest is
 * always a strict majority that can make progress. With n < 3 there is no non-empty minority
 * that leaves a majority behind, and the shape cuts nothing.
 */
export function majorityMinority(ids: readonly NodeId[], rng: Rng): PartitionShape {
  const order = rng.shuffle(ids)
  const minorityMax = Math.ceil(order.length / 2) - 1
  const k = minorityMax >= 1 ? rng.int(1, minorityMax) : 0
  return groupsShape('majority-minority', [order.slice(0, k), order.slice(k)])
}

/**
 * bridge cuts the nodes in two halves that cannot talk to each other, except through one node
 * in the middle that talks to everyone (Jepsen's `bridge`). With n = 5: {a,b} | c | {d,e}, and
 * both {a,b,c} and {c,d,e} are majorities that overlap only in c — a test that two leaders
 * cannot both commit. Halves get ⌊(n-1)/2⌋ and ⌈(n-1)/2⌉ nodes; with n < 3 nothing is cut.
 */
export function bridge(ids: readonly NodeId[], rng: Rng): PartitionShape {
  const order = rng.shuffle(ids)
  const middle = order[0]
  const rest = order.slice(1)
  const left = rest.slice(0, Math.floor(rest.length / 2))
  const right = rest.slice(left.length)
  const blocked: [NodeId, NodeId][] = []
  for (const a of left) for (const b of right) blocked.push([a, b], [b, a])
  const name = middle === undefined ? 'bridge {}' : `bridge ${list(left)} | ${middle} | ${list(right)}`
  return { kind: 'bridge', cut: 'links', blocked, name }
}

/**
 * ring places the nodes on a random ring and lets each talk only to the nodes within ring
 * distance d = ⌈⌊n/2⌋/2⌉, which is the least for which a node and its neighbours (2d + 1 nodes)
 * form a majority (Jepsen's majorities ring). With n = 5 each node sees exactly its two
 * neighbours: every node sees a majority, including itself, yet for n >= 4 no two nodes see
 * the same set, so leaders can be elected by overlapping majorities that disagree on who leads.
 * With n <= 3 every node is within reach of every other and nothing is cut.
 */
export function ring(ids: readonly NodeId[], rng: Rng): PartitionShape {
  const order = rng.shuffle(ids)
  const n = order.length
  const reach = Math.ceil(Math.floor(n / 2) / 2)
  const blocked: [NodeId, NodeId][] = []
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const distance = Math.min(Math.abs(i - j), n - Math.abs(i - j))
      if (distance > reach) blocked.push([order[i]!, order[j]!])
    }
  }
  return { kind: 'ring', cut: 'links', blocked, name: `ring ${order.join('-')} reach ${reach}` }
}
