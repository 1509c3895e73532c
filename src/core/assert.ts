/**
 * Assertions for programmer errors. An assertion that fails means the code is wrong, not the input:
 * it throws an AssertionFailure, which a host must treat as fatal (crash, do not retry).
 * Operating errors — bad input, a follower asked to lead — are typed values instead (see errors.ts).
 */
export class AssertionFailure extends Error {
  override readonly name = 'AssertionFailure'
}

/** assert throws AssertionFailure with `message` unless `condition` holds. */
export function assert(condition: unknown, message: string | (() => string)): asserts condition {
  if (!condition) throw new AssertionFailure(typeof message === 'function' ? message() : message)
}

/** assertNever ends every switch over a union: it fails to compile when a case is missing. */
export function assertNever(value: never, what = 'value'): never {
  throw new AssertionFailure(`unexpected ${what}: ${JSON.stringify(value)}`)
}
