/**
 * The history file: what clients did, as the checker sees it. The format is public (documented
 * in the top-level README.md) and stable: `{"model":"kv","ops":[{"client":1,"f":"put","key":"x",
 * "value":"1","call":0,"return":5,"status":"ok"}, …]}`.
 *
 * parseHistory validates strictly, once, at the boundary; everything behind it may rely on the
 * invariants written on the types below.
 */

/** OpStatus says whether an operation took effect: `ok` it did, `fail` it certainly did not
 * (an error before it ran), `unknown` it may or may not have (a timeout, a lost connection). */
export type OpStatus = 'ok' | 'fail' | 'unknown'

/** KvFunction names the operations of the `kv` model. */
export type KvFunction = 'get' | 'put' | 'cas' | 'delete'

interface OpBase {
  /** client issued the operation. Invariant: a client's operations do not overlap in time. */
  readonly client: number
  /** key the operation touches. Invariant: non-empty. */
  readonly key: string
  /** call is when the client sent the request, an integer in the history's own unit. */
  readonly call: number
  /** return is when the answer arrived. Invariant: null iff status is 'unknown'; else >= call. */
  readonly return: number | null
  readonly status: OpStatus
}

/** GetOp reads the key. Invariant: result is present iff status is 'ok'; null means absent. */
export interface GetOp extends OpBase {
  readonly f: 'get'
  readonly result?: string | null
}

/** PutOp writes `value`. */
export interface PutOp extends OpBase {
  readonly f: 'put'
  readonly value: string
}

/**
 * CasOp writes `value` if the key holds `expected` (null: if the key is absent). Invariant:
 * result is present iff status is 'ok': true if it swapped, false if the compare failed.
 */
export interface CasOp extends OpBase {
  readonly f: 'cas'
  readonly expected: string | null
  readonly value: string
  readonly result?: boolean
}

/** DeleteOp removes the key (a no-op if it is absent). */
export interface DeleteOp extends OpBase {
  readonly f: 'delete'
}

export type KvOp = GetOp | PutOp | CasOp | DeleteOp

/** Operation is any operation a history may hold; today only the kv model's. */
export type Operation = KvOp

/** ModelName lists the models a history file may name. */
export type ModelName = 'kv'

/**
 * History is a parsed history file. Operations keep their file order, and the checker and the
 * reports name an operation by its index in `ops`.
 */
export interface History {
  readonly model: ModelName
  readonly ops: readonly Operation[]
  /** meta is free-form provenance (engine, seed, workload), carried through unchanged. */
  readonly meta?: Readonly<Record<string, unknown>>
}

/** HistoryError is bad input: the message names the operation index and field at fault. */
export class HistoryError extends Error {
  override readonly name = 'HistoryError'
}

/** serializeHistory writes valid JSON with one operation per line, so files diff well. */
export function serializeHistory(h: History): string {
  const head = h.meta === undefined ? `"model":${JSON.stringify(h.model)}` : headWithMeta(h)
  if (h.ops.length === 0) return `{${head},"ops":[]}\n`
  return `{${head},"ops":[\n${h.ops.map(serializeOp).join(',\n')}\n]}\n`
}

function headWithMeta(h: History): string {
  return `"model":${JSON.stringify(h.model)},"meta":${JSON.stringify(h.meta)}`
}

/** serializeOp writes the fields in the documented order, omitting absent optional ones. */
export function serializeOp(op: Operation): string {
  const o: Record<string, unknown> = { client: op.client, f: op.f, key: op.key }
  if (op.f === 'cas') o.expected = op.expected
  if (op.f === 'put' || op.f === 'cas') o.value = op.value
  if ((op.f === 'get' || op.f === 'cas') && op.result !== undefined) o.result = op.result
  o.call = op.call
  o.return = op.return
  o.status = op.status
  return JSON.stringify(o)
}

/** describeOp renders an operation for people: `put x = "1"`, `get x → "1"`, `cas x "1"→"2" ✓`. */
export function describeOp(op: Operation): string {
  const q = (v: string | null): string => (v === null ? 'absent' : JSON.stringify(v))
  switch (op.f) {
    case 'get':
      return `get ${op.key}${op.result === undefined ? '' : ` → ${q(op.result)}`}`
    case 'put':
      return `put ${op.key} = ${q(op.value)}`
    case 'cas': {
      const outcome = op.result === undefined ? '' : op.result ? ' ✓' : ' ✗'
      return `cas ${op.key} ${q(op.expected)}→${q(op.value)}${outcome}`
    }
    case 'delete':
      return `delete ${op.key}`
  }
}

// ---- parsing ----------------------------------------------------------------------------------

const FUNCTIONS: readonly KvFunction[] = ['get', 'put', 'cas', 'delete']
const STATUSES: readonly OpStatus[] = ['ok', 'fail', 'unknown']
const COMMON_FIELDS = ['client', 'f', 'key', 'call', 'return', 'status']
/** FIELDS lists, per function, the fields an operation may carry; anything else is a typo. */
const FIELDS: Record<KvFunction, readonly string[]> = {
  get: [...COMMON_FIELDS, 'result'],
  put: [...COMMON_FIELDS, 'value'],
  cas: [...COMMON_FIELDS, 'expected', 'value', 'result'],
  delete: COMMON_FIELDS,
}

/** parseHistoryText parses the text of a history file; see parseHistory. */
export function parseHistoryText(text: string): History {
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (err) {
    throw new HistoryError(`not JSON: ${err instanceof Error ? err.message : String(err)}`)
  }
  return parseHistory(json)
}

/**
 * parseHistory validates a decoded history file and returns it typed, or throws HistoryError
 * naming the first problem (`ops[3].return: …`). Rules: the top level is an object with
 * `model` "kv", an `ops` array and optionally a `meta` object, nothing else; every operation
 * carries exactly the fields its `f` allows (see FIELDS); `client` is a non-negative integer,
 * `key` a non-empty string, `value` a string, `expected` a string or null; `call` and `return`
 * are safe integers with return >= call, and return is null iff status is `unknown`; `result`
 * is present iff status is `ok` (a get's result is a string or null, a cas's a boolean). Last,
 * a client's operations must not overlap in time: each starts no earlier than the previous one
 * returned. An unknown operation counts as the instant of its call, because the client gave up
 * on it and went on, although the operation itself may still take effect later.
 */
export function parseHistory(json: unknown): History {
  if (!isObject(json)) throw new HistoryError('a history must be a JSON object')
  for (const k of Object.keys(json)) {
    if (k !== 'model' && k !== 'ops' && k !== 'meta') throw new HistoryError(`unknown top-level field "${k}"`)
  }
  if (json.model !== 'kv') throw new HistoryError(`model: must be "kv", got ${show(json.model)}`)
  if (!Array.isArray(json.ops)) throw new HistoryError('ops: must be an array')
  if (json.meta !== undefined && !isObject(json.meta)) throw new HistoryError('meta: must be an object')
  const ops = json.ops.map((raw: unknown, i: number) => parseOp(raw, `ops[${i}]`))
  checkClientsSequential(ops)
  return json.meta === undefined ? { model: 'kv', ops } : { model: 'kv', ops, meta: json.meta }
}

function parseOp(raw: unknown, at: string): Operation {
  if (!isObject(raw)) throw new HistoryError(`${at}: an operation must be an object`)
  const f = raw.f
  if (typeof f !== 'string' || !(FUNCTIONS as readonly string[]).includes(f)) {
    throw new HistoryError(`${at}.f: must be one of ${FUNCTIONS.join(' | ')}, got ${show(f)}`)
  }
  const fn = f as KvFunction
  for (const k of Object.keys(raw)) {
    if (!FIELDS[fn].includes(k)) throw new HistoryError(`${at}.${k}: not a field of a ${fn} operation`)
  }
  const status = raw.status
  if (typeof status !== 'string' || !(STATUSES as readonly string[]).includes(status)) {
    throw new HistoryError(`${at}.status: must be one of ${STATUSES.join(' | ')}, got ${show(status)}`)
  }
  const base = {
    client: nonNegativeInt(raw.client, `${at}.client`),
    key: nonEmptyString(raw.key, `${at}.key`),
    ...times(raw, status as OpStatus, at),
    status: status as OpStatus,
  }
  const ok = status === 'ok'
  if (!ok && raw.result !== undefined) {
    throw new HistoryError(`${at}.result: only an ok operation has a result (this one is ${status})`)
  }
  switch (fn) {
    case 'get': {
      if (!ok) return { ...base, f: 'get' }
      if (raw.result !== null && typeof raw.result !== 'string') {
        throw new HistoryError(`${at}.result: an ok get needs a result, a string or null (absent)`)
      }
      return { ...base, f: 'get', result: raw.result }
    }
    case 'put':
      return { ...base, f: 'put', value: valueString(raw.value, `${at}.value`) }
    case 'cas': {
      if (raw.expected !== null && typeof raw.expected !== 'string') {
        throw new HistoryError(`${at}.expected: a cas needs expected, a string or null (absent)`)
      }
      const cas = {
        ...base,
        f: 'cas' as const,
        expected: raw.expected,
        value: valueString(raw.value, `${at}.value`),
      }
      if (!ok) return cas
      if (typeof raw.result !== 'boolean') {
        throw new HistoryError(`${at}.result: an ok cas needs a result, true (swapped) or false`)
      }
      return { ...cas, result: raw.result }
    }
    case 'delete':
      return { ...base, f: 'delete' }
  }
}

function times(
  raw: Record<string, unknown>,
  status: OpStatus,
  at: string,
): { call: number; return: number | null } {
  const call = safeInt(raw.call, `${at}.call`)
  if (status === 'unknown') {
    if (raw.return !== null) throw new HistoryError(`${at}.return: must be null for an unknown operation`)
    return { call, return: null }
  }
  const ret = safeInt(raw.return, `${at}.return`)
  if (ret < call) throw new HistoryError(`${at}.return: ${ret} is before call ${call}`)
  return { call, return: ret }
}

/** checkClientsSequential enforces that each client has at most one operation in flight. */
function checkClientsSequential(ops: readonly Operation[]): void {
  const byClient = new Map<number, number[]>()
  ops.forEach((op, i) => {
    const list = byClient.get(op.client)
    if (list === undefined) byClient.set(op.client, [i])
    else list.push(i)
  })
  const end = (i: number): number => ops[i]!.return ?? ops[i]!.call
  for (const [client, list] of byClient) {
    list.sort((a, b) => ops[a]!.call - ops[b]!.call || end(a) - end(b) || a - b)
    let last = list[0]!
    for (const i of list.slice(1)) {
      if (ops[i]!.call < end(last)) {
        const l = ops[last]!
        throw new HistoryError(
          `ops[${i}]: client ${client} calls at ${ops[i]!.call} while ops[${last}] (call ${l.call}, return ${l.return}) is in flight; a client's operations must not overlap`,
        )
      }
      if (end(i) >= end(last)) last = i
    }
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function show(v: unknown): string {
  return v === undefined ? 'nothing' : JSON.stringify(v)
}

function safeInt(v: unknown, at: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v))
    throw new HistoryError(`${at}: must be an integer, got ${show(v)}`)
  return v
}

function nonNegativeInt(v: unknown, at: string): number {
  const n = safeInt(v, at)
  if (n < 0) throw new HistoryError(`${at}: must not be negative, got ${n}`)
  return n
}

function nonEmptyString(v: unknown, at: string): string {
  if (typeof v !== 'string' || v === '')
    throw new HistoryError(`${at}: must be a non-empty string, got ${show(v)}`)
  return v
}

function valueString(v: unknown, at: string): string {
  if (typeof v !== 'string') throw new HistoryError(`${at}: must be a string, got ${show(v)}`)
  return v
}
