import { createHash } from 'node:crypto'
import { type NodeId, nodeId } from '../core/ids.js'

/**
 * Identity: how members and clusters are named. As in etcd, a member's id is derived from its
 * name, its peer address and the cluster token, and the cluster id from all initial members and
 * the token — so two clusters started from different flags cannot mistake each other's members,
 * and the ids are the same on every member without any exchange.
 */

export interface PeerAddress {
  readonly host: string
  readonly port: number
}

export interface MemberSpec {
  readonly name: string
  readonly id: NodeId
  readonly peer: PeerAddress
}

export interface ClusterSpec {
  /** id: 16 hex digits, carried in every peer handshake and stored in the WAL. */
  readonly id: string
  readonly members: readonly MemberSpec[]
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/

/** parseAddress accepts `host:port` or `http://host:port` (etcd's URL form). */
export function parseAddress(text: string, what: string): PeerAddress {
  const bare = text
    .trim()
    .replace(/^https?:\/\//, '')
    .replace(/\/$/, '')
  const m = /^(\[[0-9a-fA-F:]+\]|[^:/\s]+):(\d{1,5})$/.exec(bare)
  const port = m ? Number(m[2]) : Number.NaN
  if (!m || !(port >= 0 && port <= 65535)) {
    throw new Error(`${what}: "${text}" is not host:port (for example 127.0.0.1:2380)`)
  }
  return { host: (m[1] as string).replace(/^\[|\]$/g, ''), port }
}

export function formatAddress(a: PeerAddress): string {
  return a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`
}

/** memberIdOf: the first 48 bits of sha256(token, name, peer address), never 0 (NO_NODE). */
export function memberIdOf(name: string, peer: PeerAddress, token: string): NodeId {
  const digest = createHash('sha256')
    .update(`${token}\0${name}\0${formatAddress(peer)}`)
    .digest()
  return nodeId(digest.readUIntBE(0, 6) || 1)
}

/**
 * parseInitialCluster reads etcd's `--initial-cluster` form, `n1=127.0.0.1:2380,n2=…`, and
 * derives every id. Names and addresses must be unique.
 */
export function parseInitialCluster(text: string, token: string): ClusterSpec {
  const members: MemberSpec[] = []
  for (const part of text.split(',').filter((p) => p.trim() !== '')) {
    const eq = part.indexOf('=')
    const name = part.slice(0, eq).trim()
    if (eq < 0 || !NAME.test(name)) {
      throw new Error(
        `--initial-cluster: "${part}" is not name=host:port with a name of letters, digits, . _ -`,
      )
    }
    const peer = parseAddress(part.slice(eq + 1), `--initial-cluster ${name}`)
    if (members.some((m) => m.name === name)) throw new Error(`--initial-cluster: ${name} appears twice`)
    if (members.some((m) => formatAddress(m.peer) === formatAddress(peer))) {
      throw new Error(`--initial-cluster: ${formatAddress(peer)} appears twice`)
    }
    members.push({ name, id: memberIdOf(name, peer, token), peer })
  }
  if (members.length === 0) throw new Error('--initial-cluster: no members')
  const ids = members.map((m) => m.id.toString(16)).sort()
  const id = createHash('sha256')
    .update(`${token}\0${ids.join(',')}`)
    .digest('hex')
    .slice(0, 16)
  return { id, members }
}

/** hexId renders a member id as etcd does (lower-case hex), for logs and `synod status`. */
export function hexId(id: NodeId): string {
  return id.toString(16)
}
