import { type ChildProcess, spawn } from 'node:child_process'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'

/**
 * LocalCluster runs members as separate `synod serve` processes on one machine: for `synod
 * cluster up`, the benchmarks and the chaos tests. Every process it starts can be killed by PID
 * (`destroy()`), each member's log lines go to `onLog` and are kept for a failing test to print.
 */

const MAIN = fileURLToPath(new URL('./main.js', import.meta.url))

export interface LocalMember {
  readonly name: string
  readonly client: string
  readonly peer: string
  readonly dataDir: string
  child?: ChildProcess
  /** log: the member's recent log lines, across restarts (at most LOG_LINES_MAX). */
  readonly log: string[]
}

export interface LocalClusterOptions {
  readonly nodes: number
  readonly dataDir: string
  /** portBase: member i listens on base+2i (client) and base+2i+1 (peer); 0: free ports. */
  readonly portBase: number
  readonly host?: string
  readonly token?: string
  /** serveArgs go to every `synod serve`, after the ones LocalCluster sets. */
  readonly serveArgs?: readonly string[]
  readonly onLog?: (member: string, line: string) => void
}

const LOG_LINES_MAX = 2000

export class LocalCluster {
  readonly members: LocalMember[]
  private readonly initialCluster: string

  private constructor(
    ports: readonly number[],
    private readonly opts: LocalClusterOptions,
  ) {
    const host = opts.host ?? '127.0.0.1'
    this.members = Array.from({ length: opts.nodes }, (_, i) => ({
      name: `n${i + 1}`,
      client: `${host}:${ports[2 * i]}`,
      peer: `${host}:${ports[2 * i + 1]}`,
      dataDir: join(opts.dataDir, `n${i + 1}`),
      log: [],
    }))
    this.initialCluster = this.members.map((m) => `${m.name}=${m.peer}`).join(',')
  }

  static async create(opts: LocalClusterOptions): Promise<LocalCluster> {
    if (!(Number.isInteger(opts.nodes) && opts.nodes >= 1 && opts.nodes <= 9))
      throw new Error('nodes must be 1 to 9')
    const ports =
      opts.portBase === 0
        ? await freePorts(2 * opts.nodes)
        : Array.from({ length: 2 * opts.nodes }, (_, i) => opts.portBase + i)
    return new LocalCluster(ports, opts)
  }

  get endpoints(): string[] {
    return this.members.map((m) => m.client)
  }

  member(name: string): LocalMember {
    const m = this.members.find((x) => x.name === name)
    if (!m) throw new Error(`no member ${name}`)
    return m
  }

  startAll(): void {
    for (const m of this.members) this.start(m.name)
  }

  /** start launches a member's process; `extraArgs` apply to this start only (and win). */
  start(name: string, extraArgs: readonly string[] = []): ChildProcess {
    const m = this.member(name)
    if (m.child && isRunning(m.child)) throw new Error(`${name} is already running`)
    const args = [MAIN, 'serve', '--name', m.name, '--data-dir', m.dataDir, '--listen-client', m.client]
    args.push('--listen-peer', m.peer, '--initial-cluster', this.initialCluster)
    if (this.opts.token) args.push('--initial-cluster-token', this.opts.token)
    args.push(...(this.opts.serveArgs ?? []), ...extraArgs)
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] })
    for (const stream of [child.stdout, child.stderr]) {
      createInterface({ input: stream }).on('line', (line) => {
        m.log.push(line)
        if (m.log.length > LOG_LINES_MAX) m.log.splice(0, m.log.length - LOG_LINES_MAX)
        this.opts.onLog?.(m.name, line)
      })
    }
    m.child = child
    return child
  }

  isUp(name: string): boolean {
    const c = this.member(name).child
    return c !== undefined && isRunning(c)
  }

  /** kill9 kills a member's process at once (SIGKILL): no shutdown code runs. */
  kill9(name: string): Promise<number | null> {
    return this.signal(name, 'SIGKILL')
  }

  /** stop asks for a graceful shutdown (SIGTERM) and resolves with the exit code. */
  stop(name: string): Promise<number | null> {
    return this.signal(name, 'SIGTERM')
  }

  /**
   * pause stops a member's process without killing it (SIGSTOP) — a long GC pause or a stalled
   * VM: its sockets stay open and its timers stop. resume (SIGCONT) lets it run on, unaware.
   */
  pause(name: string): void {
    const child = this.member(name).child
    if (child && isRunning(child)) child.kill('SIGSTOP')
  }

  resume(name: string): void {
    const child = this.member(name).child
    if (child && isRunning(child)) child.kill('SIGCONT')
  }

  /** waitExit resolves with the exit code of a member expected to stop by itself. */
  waitExit(name: string): Promise<number | null> {
    const child = this.member(name).child
    if (!child || !isRunning(child)) return Promise.resolve(child?.exitCode ?? null)
    return new Promise((r) => child.once('exit', (code) => r(code)))
  }

  /** destroy SIGKILLs every process still running. */
  async destroy(): Promise<void> {
    await Promise.all(this.members.map((m) => this.kill9(m.name)))
  }

  /** logs renders every member's last lines, for a failing assertion's message. */
  logs(lines = 40): string {
    return this.members.map((m) => `--- ${m.name} ---\n${m.log.slice(-lines).join('\n')}`).join('\n')
  }

  private signal(name: string, sig: NodeJS.Signals): Promise<number | null> {
    const child = this.member(name).child
    if (!child || !isRunning(child)) return Promise.resolve(null)
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)))
    child.kill(sig)
    return exited
  }
}

function isRunning(c: ChildProcess): boolean {
  return c.exitCode === null && c.signalCode === null
}

/** freePorts asks the kernel for distinct free ports (another process could take one; rare). */
async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<ReturnType<typeof createServer>>((res, rej) => {
          const s = createServer()
          s.once('error', rej)
          s.listen(0, '127.0.0.1', () => res(s))
        }),
    ),
  )
  const ports = servers.map((s) => (s.address() as { port: number }).port)
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))))
  return ports
}

/** waitFor polls `probe` every 50 ms until it returns a value, or throws after `ms`. */
export async function waitFor<T>(what: string, ms: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = performance.now() + ms
  for (;;) {
    const v = await probe()
    if (v !== undefined) return v
    if (performance.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

/** statusOf asks one member for its status; undefined when it does not answer. */
export async function statusOf(endpoint: string): Promise<Record<string, unknown> | undefined> {
  try {
    const res = await fetch(`http://${endpoint}/v0/status`, { signal: AbortSignal.timeout(1000) })
    return res.ok ? ((await res.json()) as Record<string, unknown>) : undefined
  } catch {
    return undefined
  }
}

/** waitForLeader resolves with the leader's name once every running member names the same one. */
export function waitForLeader(c: LocalCluster, ms = 15_000): Promise<string> {
  return waitFor('a leader', ms, async () => {
    const up = c.members.filter((m) => c.isUp(m.name))
    const st = await Promise.all(up.map((m) => statusOf(m.client)))
    const names = new Set(st.map((s) => s?.leaderName))
    const [only] = names
    return names.size === 1 && typeof only === 'string' ? only : undefined
  })
}
