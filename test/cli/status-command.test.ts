import assert from 'node:assert/strict'
import { createServer, type Server } from 'node:http'
import { after, before, describe, it } from 'node:test'
import { runStatus } from '../../src/cli/status-command.js'

/** `synod status` against members that answer, disagree, or are down. */

function fakeMember(status: object): Promise<Server> {
  const server = createServer((req, res) => {
    res.writeHead(req.url === '/v0/status' ? 200 : 404, { 'content-type': 'application/json' })
    res.end(JSON.stringify(status))
  })
  return new Promise((r) => server.listen(0, '127.0.0.1', () => r(server)))
}

const at = (s: Server) => `127.0.0.1:${(s.address() as { port: number }).port}`
const member = (name: string, role: string, leader: string | null) => ({
  name,
  id: `${name}id`,
  role,
  term: 3,
  leader,
  leaderName: leader,
  commit: 10,
  applied: 9,
  walBytes: 3 * 1024 * 1024,
})

describe('synod status', () => {
  const servers: Server[] = []
  before(async () => {
    servers.push(await fakeMember(member('n1', 'leader', 'n1')))
    servers.push(await fakeMember(member('n2', 'follower', 'n1')))
    servers.push(await fakeMember(member('n3', 'follower', null)))
  })
  after(() => {
    for (const s of servers) s.close()
  })

  it('prints a table and exits 0 when every member answers and names one leader', async () => {
    const lines: string[] = []
    const code = await runStatus([at(servers[0] as Server), at(servers[1] as Server)], false, (l) =>
      lines.push(l),
    )
    assert.equal(code, 0)
    const [header, ...rows] = lines.join('\n').split('\n')
    assert.match(header as string, /^ENDPOINT\s+NAME\s+ID\s+ROLE\s+TERM\s+LEADER\s+COMMIT\s+APPLIED\s+WAL$/)
    assert.match(rows[0] as string, /n1\s+n1id\s+leader\s+3\s+n1\s+10\s+9\s+3\.0 MiB$/)
  })

  it('exits 1 when a member is down or knows no leader, and says which', async () => {
    const closed = await fakeMember({})
    const down = at(closed)
    await new Promise((r) => closed.close(r)) // nothing listens there any more
    const lines: string[] = []
    const code = await runStatus([at(servers[0] as Server), at(servers[2] as Server), down], true, (l) =>
      lines.push(l),
    )
    assert.equal(code, 1)
    const rows = JSON.parse(lines.join('')) as { endpoint: string; error?: string; leader?: string | null }[]
    assert.equal(rows[1]?.leader, null)
    assert.equal(rows[2]?.endpoint, down)
    assert.match(rows[2]?.error ?? '', /ECONNREFUSED/)
  })
})
