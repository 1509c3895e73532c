import fc from 'fast-check'
import type { KvOp, OpStatus } from '../../src/check/history.js'
import { assertNever } from '../../src/core/assert.js'

/**
 * smallHistory generates single-key kv histories of up to `max` operations with values from a
 * tiny domain, so that random results are sometimes right and sometimes not: a mix of
 * linearizable and non-linearizable histories, with repeated values, unknown and failed ops.
 * Client ids are not kept apart; the checker does not rely on them.
 */
export function smallHistory(max: number): fc.Arbitrary<KvOp[]> {
  const value = fc.constantFrom('a', 'b', 'c')
  const maybe = fc.constantFrom<string | null>('a', 'b', null)
  const op = fc
    .record({
      f: fc.constantFrom<KvOp['f']>('get', 'put', 'cas', 'delete'),
      call: fc.integer({ min: 0, max: 12 }),
      duration: fc.integer({ min: 0, max: 6 }),
      status: fc.constantFrom<OpStatus>('ok', 'ok', 'ok', 'unknown', 'unknown', 'fail'),
      value,
      expected: maybe,
      read: maybe,
      swapped: fc.boolean(),
    })
    .map((o): KvOp => {
      const base = {
        client: 0,
        key: 'x',
        call: o.call,
        return: o.status === 'unknown' ? null : o.call + o.duration,
        status: o.status,
      }
      const ok = o.status === 'ok'
      switch (o.f) {
        case 'get':
          return ok ? { ...base, f: 'get', result: o.read } : { ...base, f: 'get' }
        case 'put':
          return { ...base, f: 'put', value: o.value }
        case 'cas': {
          const cas = { ...base, f: 'cas' as const, expected: o.expected, value: o.value }
          return ok ? { ...cas, result: o.swapped } : cas
        }
        case 'delete':
          return { ...base, f: 'delete' }
        default:
          return assertNever(o.f)
      }
    })
  return fc.array(op, { minLength: 1, maxLength: max })
}
