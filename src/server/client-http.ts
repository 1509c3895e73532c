import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Logger } from '../core/logger.js'
import { decodeKvResult, encodeKvCommand, encodeKvQuery, type KvCommand } from '../kv/register-commands.js'
import type { HostCallback, HostError, HostResult, ReadLevel } from '../node/host.js'
import type { PeerAddress } from './identity.js'

/**
 * ClientHttpServer is the interim client port (until the etcd v3 gRPC API replaces it): plain
 * HTTP/JSON over the register KV, enough for tests, `synod status` and benchmarks.
 *
 *   PUT    /v0/kv/<key>   body: the value         → 200 {"index"}
 *   DELETE /v0/kv/<key>                           → 200 {"index","deleted"}
 *   GET    /v0/kv/<key>[?consistency=serializable] → 200 {"value"|null,"index"}
 *   GET    /v0/status                             → 200 member status (see MemberStatus)
 *   GET    /v0/digest                             → 200 {"applied","digest"}: replicas that applied
 *                                                   the same index must have the same digest
 *   GET    /health                                → 200 {"health":"true"} while a leader is known
 *
 * Errors are JSON `{"error": code, …}`: 421 not-leader (with the leader's name when known),
 * 409 not-committed (certainly did not happen), 504 unknown (may or may not have happened),
 * 503 overloaded / read-dropped / stopped (did not happen), 400/404/405/413 for bad requests.
 */

export const CLIENT_BODY_BYTES_MAX = 1.5 * 1024 * 1024
/** REQUEST_TIMEOUT_MS: a request with no outcome by then answers `unknown` (e.g. no quorum). */
export const REQUEST_TIMEOUT_MS = 5000

type StatusProvider = () => object | undefined
type DigestProvider = () => { applied: number; digest: string } | undefined

/** RequestHost: what the client port needs of the host loop (any engine's). */
export interface RequestHost {
  propose(cmd: Uint8Array, done: HostCallback): void
  read(query: Uint8Array, level: ReadLevel, done: HostCallback): void
}

export class ClientHttpServer {
  private readonly server: Server

  constructor(
    private readonly host: RequestHost,
    private readonly status: StatusProvider,
    private readonly digest: DigestProvider,
    private readonly log: Logger,
  ) {
    this.server = createServer((req, res) => this.handle(req, res))
    this.server.on('clientError', (_err, socket) => socket.destroy())
  }

  listen(at: PeerAddress): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject)
      this.server.listen(at.port, at.host, () => {
        this.server.off('error', reject)
        resolve()
      })
    })
  }

  address(): PeerAddress {
    const a = this.server.address() as AddressInfo
    return { host: a.address, port: a.port }
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      if (!this.server.listening) return resolve()
      this.server.close(() => resolve())
      this.server.closeAllConnections()
    })
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://localhost')
    const get = req.method === 'GET'
    if (get && url.pathname === '/health') {
      const leader = (this.status() as { leader?: string | null } | undefined)?.leader
      reply(res, leader ? 200 : 503, { health: leader ? 'true' : 'false' })
    } else if (get && url.pathname === '/v0/status') {
      reply(res, 200, this.status() ?? {})
    } else if (get && url.pathname === '/v0/digest') {
      reply(res, 200, this.digest() ?? {})
    } else if (url.pathname.startsWith('/v0/kv/')) {
      this.handleKv(req, res, url)
    } else {
      reply(res, 404, { error: 'not-found' })
    }
  }

  private handleKv(req: IncomingMessage, res: ServerResponse, url: URL): void {
    let key = ''
    try {
      key = decodeURIComponent(url.pathname.slice('/v0/kv/'.length))
    } catch {
      reply(res, 400, { error: 'bad-request', message: 'the key is not valid percent-encoding' })
      return
    }
    if (key === '') {
      reply(res, 400, { error: 'bad-request', message: 'empty key' })
    } else if (req.method === 'GET') {
      this.get(key, url.searchParams.get('consistency'), res)
    } else if (req.method === 'DELETE') {
      this.propose({ f: 'delete', key }, res)
    } else if (req.method !== 'PUT') {
      reply(res, 405, { error: 'method-not-allowed' })
    } else {
      readBody(req, CLIENT_BODY_BYTES_MAX, (err, body) => {
        if (err) reply(res, 413, { error: 'too-large', message: err.message })
        else this.propose({ f: 'put', key, value: body }, res)
      })
    }
  }

  private get(key: string, consistency: string | null, res: ServerResponse): void {
    if (consistency !== null && consistency !== 'serializable' && consistency !== 'linearizable') {
      reply(res, 400, { error: 'bad-request', message: 'consistency is linearizable or serializable' })
      return
    }
    const done = once(res, (r) => ({ value: decodeKvResult(r.result), index: r.index }))
    this.host.read(encodeKvQuery({ f: 'get', key }), consistency ?? 'linearizable', done)
  }

  private propose(cmd: KvCommand, res: ServerResponse): void {
    const done = once(res, (r) =>
      cmd.f === 'delete'
        ? { index: r.index, deleted: decodeKvResult(r.result) === 'true' }
        : { index: r.index },
    )
    try {
      this.host.propose(encodeKvCommand(cmd), done)
    } catch (err) {
      this.log.error({ err: String(err) }, 'client request failed')
      reply(res, 500, { error: 'internal' })
    }
  }
}

/** once answers a request exactly once: with the host's result, or `unknown` at the timeout. */
function once(res: ServerResponse, ok: (r: HostResult & { ok: true }) => object): (r: HostResult) => void {
  let answered = false
  const timer = setTimeout(() => finish({ ok: false, error: { code: 'unknown' } }), REQUEST_TIMEOUT_MS)
  function finish(r: HostResult): void {
    if (answered) return
    answered = true
    clearTimeout(timer)
    if (r.ok) reply(res, 200, ok(r))
    else reply(res, httpStatusOf(r.error), { error: r.error.code, ...errorDetail(r.error) })
  }
  return finish
}

function httpStatusOf(e: HostError): number {
  switch (e.code) {
    case 'not-leader':
      return 421
    case 'not-committed':
      return 409
    case 'unknown':
      return 504
    case 'read-dropped':
    case 'overloaded':
    case 'stopped':
      return 503
  }
}

function errorDetail(e: HostError): object {
  if (e.code !== 'not-leader') return {}
  const message = 'this member does not lead: send writes to the leader (synod put finds it)'
  return { leader: e.leaderHint === 0 ? null : e.leaderHint.toString(16), message }
}

function reply(res: ServerResponse, status: number, body: object): void {
  if (res.headersSent || res.destroyed) return
  const text = JSON.stringify(body)
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) })
  res.end(text)
}

function readBody(
  req: IncomingMessage,
  bytesMax: number,
  done: (err: Error | null, body: string) => void,
): void {
  const chunks: Buffer[] = []
  let size = 0
  let failed = false
  req.on('data', (c: Buffer) => {
    size += c.length
    if (size > bytesMax && !failed) {
      failed = true
      done(new Error(`request is too large (over ${bytesMax} bytes)`), '')
      req.destroy()
    } else if (!failed) chunks.push(c)
  })
  req.on('end', () => {
    if (!failed) done(null, Buffer.concat(chunks).toString('utf8'))
  })
  req.on('error', () => {
    failed = true
  })
}
