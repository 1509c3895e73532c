import { assertNever } from '../../core/assert.js'
import { compareBytes } from './keys.js'
import type { KeyValue, RangeRequest, RangeResponse, Revision, SortOrder, SortTarget } from './types.js'

const EMPTY = new Uint8Array(0)

/**
 * shapeRange turns the key-values a range found (sorted by key, all of them, at the read
 * revision) into etcd's RangeResponse, in etcd's order of steps: count everything, drop the
 * min/max mod and create revision filters' misses, sort, cut at `limit` (setting `more`), and
 * blank values for keysOnly. countOnly returns the count alone.
 *
 * Sorting is stable, so keys that tie on the sort target stay in ascending key order (etcd
 * leaves that order unspecified; a replicated store must not).
 */
export function shapeRange(found: readonly KeyValue[], req: RangeRequest, revision: Revision): RangeResponse {
  const count = found.length
  if (req.countOnly) return { revision, kvs: [], more: false, count }
  let kvs = found.filter((kv) => passesFilters(kv, req))
  const target = req.sortTarget ?? 'key'
  const order = effectiveOrder(req.sortOrder ?? 'none', target)
  if (order !== 'none') {
    const sign = order === 'ascend' ? 1 : -1
    kvs = [...kvs].sort((a, b) => sign * compareOn(target, a, b))
  }
  let more = false
  const limit = req.limit ?? 0
  if (limit > 0 && kvs.length > limit) {
    kvs = kvs.slice(0, limit)
    more = true
  }
  if (req.keysOnly) kvs = kvs.map((kv) => ({ ...kv, value: EMPTY }))
  return { revision, kvs, more, count }
}

function passesFilters(kv: KeyValue, req: RangeRequest): boolean {
  if (req.maxModRevision && kv.modRevision > req.maxModRevision) return false
  if (req.minModRevision && kv.modRevision < req.minModRevision) return false
  if (req.maxCreateRevision && kv.createRevision > req.maxCreateRevision) return false
  if (req.minCreateRevision && kv.createRevision < req.minCreateRevision) return false
  return true
}

/** effectiveOrder: etcd sorts ascending by default on a non-key target; key order is already ascending. */
function effectiveOrder(order: SortOrder, target: SortTarget): SortOrder {
  if (target !== 'key' && order === 'none') return 'ascend'
  if (target === 'key' && order === 'ascend') return 'none'
  return order
}

function compareOn(target: SortTarget, a: KeyValue, b: KeyValue): number {
  switch (target) {
    case 'key':
      return compareBytes(a.key, b.key)
    case 'version':
      return a.version - b.version
    case 'create':
      return a.createRevision - b.createRevision
    case 'mod':
      return a.modRevision - b.modRevision
    case 'value':
      return compareBytes(a.value, b.value)
    default:
      return assertNever(target, 'sort target')
  }
}
