import type { MemberStatus } from '../server/member.js'

/**
 * runStatus is `synod status`: each member's own view (id, role, term, leader, commit and applied
 * index, WAL size), asked of every endpoint in parallel. Exit 0 when every member answered and
 * they agree on one leader, 1 otherwise.
 */
export async function runStatus(
  endpoints: readonly string[],
  json: boolean,
  out: (line: string) => void,
): Promise<number> {
  const rows = await Promise.all(endpoints.map((e) => fetchStatus(e)))
  if (json) {
    out(JSON.stringify(rows.map((r) => ('error' in r ? r : { endpoint: r.endpoint, ...r.status }))))
  } else {
    out(renderTable(rows))
  }
  const answered = rows.flatMap((r) => ('status' in r ? [r.status] : []))
  const leaders = new Set(answered.map((s) => s.leader))
  return answered.length === rows.length && leaders.size === 1 && !leaders.has(null) ? 0 : 1
}

type Row = { endpoint: string; status: MemberStatus } | { endpoint: string; error: string }

async function fetchStatus(endpoint: string): Promise<Row> {
  try {
    const res = await fetch(`http://${endpoint}/v0/status`, { signal: AbortSignal.timeout(3000) })
    if (!res.ok) return { endpoint, error: `HTTP ${res.status}` }
    return { endpoint, status: (await res.json()) as MemberStatus }
  } catch (err) {
    // fetch says only "fetch failed"; the cause says why (ECONNREFUSED, a timeout, a bad port).
    const cause = (err as { cause?: { code?: string; message?: string } }).cause
    return {
      endpoint,
      error: cause?.code ?? cause?.message ?? (err instanceof Error ? err.message : String(err)),
    }
  }
}

const HEADER = ['ENDPOINT', 'NAME', 'ID', 'ROLE', 'TERM', 'LEADER', 'COMMIT', 'APPLIED', 'WAL']

function renderTable(rows: readonly Row[]): string {
  const cells = rows.map((r) =>
    'error' in r
      ? [r.endpoint, '-', '-', `unreachable: ${r.error}`, '', '', '', '', '']
      : [
          r.endpoint,
          r.status.name,
          r.status.id,
          r.status.role,
          String(r.status.term),
          r.status.leaderName ?? r.status.leader ?? 'none',
          String(r.status.commit),
          String(r.status.applied),
          formatBytes(r.status.walBytes),
        ],
  )
  const widths = HEADER.map((h, i) => Math.max(h.length, ...cells.map((c) => (c[i] as string).length)))
  const line = (c: readonly string[]) =>
    c
      .map((v, i) => v.padEnd(widths[i] as number))
      .join('  ')
      .trimEnd()
  return [line(HEADER), ...cells.map(line)].join('\n')
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`
  return `${(n / 1024 / 1024).toFixed(1)} MiB`
}
