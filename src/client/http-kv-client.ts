/**
 * HttpKvClient speaks the interim client port (server/client-http.ts) of a set of members. It
 * finds the leader by trying members in turn and sorts every answer into the three outcomes a
 * linearizability checker needs: `ok`, `fail` (certainly did not happen — refused before it ran,
 * so another member may be tried) and `unknown` (may have happened: a timeout or a connection
 * lost after the request went out). It never retries after an unknown outcome: that would risk
 * doing a put twice. The etcd v3 API and the native client replace this in the next milestone.
 */

export type KvOutcome<T> =
  | { readonly status: 'ok'; readonly value: T; readonly index: number }
  | { readonly status: 'fail' | 'unknown'; readonly error: string }

export interface HttpKvClientOptions {
  /** requestTimeoutMs: one attempt's limit; past it the outcome is unknown. */
  readonly requestTimeoutMs: number
  /** attemptsMax: members tried (for refusals) before giving up with `fail`. */
  readonly attemptsMax: number
  /** retryDelayMs: pause before trying again after every member refused (an election is on). */
  readonly retryDelayMs: number
}

const DEFAULTS: HttpKvClientOptions = { requestTimeoutMs: 6000, attemptsMax: 30, retryDelayMs: 100 }

export class HttpKvClient {
  private preferred = 0
  private readonly opts: HttpKvClientOptions

  /** endpoints: `host:port` client addresses of the members. */
  constructor(
    private readonly endpoints: readonly string[],
    options: Partial<HttpKvClientOptions> = {},
  ) {
    if (endpoints.length === 0) throw new Error('HttpKvClient: no endpoints')
    this.opts = { ...DEFAULTS, ...options }
  }

  put(key: string, value: string): Promise<KvOutcome<null>> {
    return this.request('PUT', key, value, () => null)
  }

  delete(key: string): Promise<KvOutcome<boolean>> {
    return this.request('DELETE', key, undefined, (b) => b.deleted === true)
  }

  get(
    key: string,
    consistency: 'linearizable' | 'serializable' = 'linearizable',
  ): Promise<KvOutcome<string | null>> {
    const q = consistency === 'serializable' ? '?consistency=serializable' : ''
    return this.request('GET', key, undefined, (b) => (typeof b.value === 'string' ? b.value : null), q)
  }

  /** getFrom reads from one member only (serializable: that replica's own state). */
  async getFrom(endpoint: string, key: string): Promise<KvOutcome<string | null>> {
    const r = await this.attempt(endpoint, 'GET', key, undefined, '?consistency=serializable')
    if (r.kind !== 'answer' || r.httpStatus !== 200) return { status: 'fail', error: describe(r) }
    return {
      status: 'ok',
      value: typeof r.body.value === 'string' ? r.body.value : null,
      index: Number(r.body.index),
    }
  }

  private async request<T>(
    method: string,
    key: string,
    body: string | undefined,
    decode: (b: Record<string, unknown>) => T,
    query = '',
  ): Promise<KvOutcome<T>> {
    let last = 'no attempt'
    for (let attempt = 0; attempt < this.opts.attemptsMax; attempt++) {
      const endpoint = this.endpoints[(this.preferred + attempt) % this.endpoints.length] as string
      if (attempt > 0 && attempt % this.endpoints.length === 0) await sleep(this.opts.retryDelayMs)
      const r = await this.attempt(endpoint, method, key, body, query)
      if (r.kind === 'unknown') return { status: 'unknown', error: r.reason }
      if (r.kind === 'answer' && r.httpStatus === 200) {
        this.preferred = this.endpoints.indexOf(endpoint)
        return { status: 'ok', value: decode(r.body), index: Number(r.body.index) }
      }
      if (r.kind === 'answer' && r.body.error === 'unknown') return { status: 'unknown', error: 'unknown' }
      if (r.kind === 'answer' && r.httpStatus === 409) return { status: 'fail', error: 'not-committed' }
      if (r.kind === 'answer' && r.httpStatus >= 400 && r.httpStatus < 421)
        return { status: 'fail', error: describe(r) }
      last = describe(r) // refused before it ran: the next member may take it
    }
    return { status: 'fail', error: `no member took the request (last: ${last})` }
  }

  private async attempt(
    endpoint: string,
    method: string,
    key: string,
    body: string | undefined,
    query: string,
  ): Promise<Attempt> {
    const url = `http://${endpoint}/v0/kv/${encodeURIComponent(key)}${query}`
    try {
      const res = await fetch(url, { method, body, signal: AbortSignal.timeout(this.opts.requestTimeoutMs) })
      const parsed = (await res.json()) as Record<string, unknown>
      return { kind: 'answer', httpStatus: res.status, body: parsed }
    } catch (err) {
      const code = causeCode(err)
      // A refused connection never carried the request; anything else may have.
      if (code === 'ECONNREFUSED') return { kind: 'refused', reason: `${endpoint}: connection refused` }
      return { kind: 'unknown', reason: `${endpoint}: ${code ?? String(err)}` }
    }
  }
}

type Attempt =
  | { readonly kind: 'answer'; readonly httpStatus: number; readonly body: Record<string, unknown> }
  | { readonly kind: 'refused' | 'unknown'; readonly reason: string }

function describe(a: Attempt): string {
  return a.kind === 'answer' ? `${a.httpStatus} ${String(a.body.error ?? '')}` : a.reason
}

function causeCode(err: unknown): string | undefined {
  if (err instanceof Error && err.name === 'TimeoutError') return 'timeout'
  const cause = (err as { cause?: { code?: unknown } }).cause
  return typeof cause?.code === 'string' ? cause.code : undefined
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms))
}
