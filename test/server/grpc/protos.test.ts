import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { credentials, type GrpcObject, Server, ServerCredentials, type ServiceError } from '@grpc/grpc-js'
import {
  ETCD_PROTO_FILES,
  loadEtcdProtos,
  messageOf,
  PROTO_DIR,
  serviceOf,
} from '../../../src/server/grpc/protos.js'

/**
 * These tests pin Synod's .proto files to etcd v3.4's wire format. The tables are the facts,
 * checked by hand against etcd's own release-3.4 files, as vendored by kubernetes/kubernetes
 * under vendor/go.etcd.io/etcd/:
 *   [rpc]      etcdserver/etcdserverpb/rpc.proto
 *   [kv]       mvcc/mvccpb/kv.proto (unchanged since 3.3; same in api/v3/mvccpb/kv.proto)
 *   [auth]     auth/authpb/auth.proto
 *   [lock]     etcdserver/api/v3lock/v3lockpb/v3lock.proto
 *   [election] etcdserver/api/v3election/v3electionpb/v3election.proto
 * and, mechanically, against the protos the etcd3 npm client 1.1.2 ships (etcd 3.5): every
 * message, field number, type and rpc agreed except 3.5's additions (Downgrade, AuthStatus,
 * MemberListRequest.linearizable), which 3.4 does not have and so neither do we.
 */

const protos = loadEtcdProtos()
const PACKAGES: Record<string, GrpcObject> = { ...protos }

interface FieldDescriptor {
  name: string
  number: number
  label: string
  type: string
  typeName: string
}

/** fieldsOf reads a message's fields from the descriptor proto-loader built from our files. */
function fieldsOf(qualified: string): FieldDescriptor[] {
  const [pkg, name] = qualified.split('.') as [string, string]
  const type = messageOf(PACKAGES[pkg] as GrpcObject, name).type as { field: FieldDescriptor[] }
  return type.field
}

/** typeOf writes a field's type as the table does: `int64`, `SortOrder`, `repeated mvccpb.Event`. */
function typeOf(f: FieldDescriptor): string {
  const base = f.typeName === '' ? f.type.replace(/^TYPE_/, '').toLowerCase() : f.typeName.replace(/^\./, '')
  return f.label === 'LABEL_REPEATED' ? `repeated ${base}` : base
}

// [message, field, number, type]; the source of each group is in brackets.
const FIELDS: readonly [string, string, number, string][] = [
  // [rpc] ResponseHeader
  ['etcdserverpb.ResponseHeader', 'cluster_id', 1, 'uint64'],
  ['etcdserverpb.ResponseHeader', 'member_id', 2, 'uint64'],
  ['etcdserverpb.ResponseHeader', 'revision', 3, 'int64'],
  ['etcdserverpb.ResponseHeader', 'raft_term', 4, 'uint64'],
  // [rpc] RangeRequest / RangeResponse
  ['etcdserverpb.RangeRequest', 'key', 1, 'bytes'],
  ['etcdserverpb.RangeRequest', 'range_end', 2, 'bytes'],
  ['etcdserverpb.RangeRequest', 'limit', 3, 'int64'],
  ['etcdserverpb.RangeRequest', 'revision', 4, 'int64'],
  ['etcdserverpb.RangeRequest', 'sort_order', 5, 'SortOrder'],
  ['etcdserverpb.RangeRequest', 'sort_target', 6, 'SortTarget'],
  ['etcdserverpb.RangeRequest', 'serializable', 7, 'bool'],
  ['etcdserverpb.RangeRequest', 'keys_only', 8, 'bool'],
  ['etcdserverpb.RangeRequest', 'count_only', 9, 'bool'],
  ['etcdserverpb.RangeRequest', 'min_mod_revision', 10, 'int64'],
  ['etcdserverpb.RangeRequest', 'max_mod_revision', 11, 'int64'],
  ['etcdserverpb.RangeRequest', 'min_create_revision', 12, 'int64'],
  ['etcdserverpb.RangeRequest', 'max_create_revision', 13, 'int64'],
  ['etcdserverpb.RangeResponse', 'header', 1, 'ResponseHeader'],
  ['etcdserverpb.RangeResponse', 'kvs', 2, 'repeated mvccpb.KeyValue'],
  ['etcdserverpb.RangeResponse', 'more', 3, 'bool'],
  ['etcdserverpb.RangeResponse', 'count', 4, 'int64'],
  // [rpc] PutRequest / PutResponse / DeleteRange
  ['etcdserverpb.PutRequest', 'key', 1, 'bytes'],
  ['etcdserverpb.PutRequest', 'value', 2, 'bytes'],
  ['etcdserverpb.PutRequest', 'lease', 3, 'int64'],
  ['etcdserverpb.PutRequest', 'prev_kv', 4, 'bool'],
  ['etcdserverpb.PutRequest', 'ignore_value', 5, 'bool'],
  ['etcdserverpb.PutRequest', 'ignore_lease', 6, 'bool'],
  ['etcdserverpb.PutResponse', 'prev_kv', 2, 'mvccpb.KeyValue'],
  ['etcdserverpb.DeleteRangeRequest', 'prev_kv', 3, 'bool'],
  ['etcdserverpb.DeleteRangeResponse', 'deleted', 2, 'int64'],
  ['etcdserverpb.DeleteRangeResponse', 'prev_kvs', 3, 'repeated mvccpb.KeyValue'],
  // [rpc] Txn, RequestOp / ResponseOp, Compare
  ['etcdserverpb.TxnRequest', 'compare', 1, 'repeated Compare'],
  ['etcdserverpb.TxnRequest', 'success', 2, 'repeated RequestOp'],
  ['etcdserverpb.TxnRequest', 'failure', 3, 'repeated RequestOp'],
  ['etcdserverpb.TxnResponse', 'succeeded', 2, 'bool'],
  ['etcdserverpb.TxnResponse', 'responses', 3, 'repeated ResponseOp'],
  ['etcdserverpb.RequestOp', 'request_range', 1, 'RangeRequest'],
  ['etcdserverpb.RequestOp', 'request_put', 2, 'PutRequest'],
  ['etcdserverpb.RequestOp', 'request_delete_range', 3, 'DeleteRangeRequest'],
  ['etcdserverpb.RequestOp', 'request_txn', 4, 'TxnRequest'],
  ['etcdserverpb.ResponseOp', 'response_txn', 4, 'TxnResponse'],
  ['etcdserverpb.Compare', 'result', 1, 'CompareResult'],
  ['etcdserverpb.Compare', 'target', 2, 'CompareTarget'],
  ['etcdserverpb.Compare', 'key', 3, 'bytes'],
  ['etcdserverpb.Compare', 'version', 4, 'int64'],
  ['etcdserverpb.Compare', 'create_revision', 5, 'int64'],
  ['etcdserverpb.Compare', 'mod_revision', 6, 'int64'],
  ['etcdserverpb.Compare', 'value', 7, 'bytes'],
  ['etcdserverpb.Compare', 'lease', 8, 'int64'],
  ['etcdserverpb.Compare', 'range_end', 64, 'bytes'],
  ['etcdserverpb.CompactionRequest', 'revision', 1, 'int64'],
  ['etcdserverpb.CompactionRequest', 'physical', 2, 'bool'],
  // [rpc] Watch
  ['etcdserverpb.WatchRequest', 'create_request', 1, 'WatchCreateRequest'],
  ['etcdserverpb.WatchRequest', 'cancel_request', 2, 'WatchCancelRequest'],
  ['etcdserverpb.WatchRequest', 'progress_request', 3, 'WatchProgressRequest'],
  ['etcdserverpb.WatchCreateRequest', 'key', 1, 'bytes'],
  ['etcdserverpb.WatchCreateRequest', 'range_end', 2, 'bytes'],
  ['etcdserverpb.WatchCreateRequest', 'start_revision', 3, 'int64'],
  ['etcdserverpb.WatchCreateRequest', 'progress_notify', 4, 'bool'],
  ['etcdserverpb.WatchCreateRequest', 'filters', 5, 'repeated FilterType'],
  ['etcdserverpb.WatchCreateRequest', 'prev_kv', 6, 'bool'],
  ['etcdserverpb.WatchCreateRequest', 'watch_id', 7, 'int64'],
  ['etcdserverpb.WatchCreateRequest', 'fragment', 8, 'bool'],
  ['etcdserverpb.WatchCancelRequest', 'watch_id', 1, 'int64'],
  ['etcdserverpb.WatchResponse', 'header', 1, 'ResponseHeader'],
  ['etcdserverpb.WatchResponse', 'watch_id', 2, 'int64'],
  ['etcdserverpb.WatchResponse', 'created', 3, 'bool'],
  ['etcdserverpb.WatchResponse', 'canceled', 4, 'bool'],
  ['etcdserverpb.WatchResponse', 'compact_revision', 5, 'int64'],
  ['etcdserverpb.WatchResponse', 'cancel_reason', 6, 'string'],
  ['etcdserverpb.WatchResponse', 'fragment', 7, 'bool'],
  ['etcdserverpb.WatchResponse', 'events', 11, 'repeated mvccpb.Event'],
  // [rpc] Lease
  ['etcdserverpb.LeaseGrantRequest', 'TTL', 1, 'int64'],
  ['etcdserverpb.LeaseGrantRequest', 'ID', 2, 'int64'],
  ['etcdserverpb.LeaseGrantResponse', 'ID', 2, 'int64'],
  ['etcdserverpb.LeaseGrantResponse', 'TTL', 3, 'int64'],
  ['etcdserverpb.LeaseGrantResponse', 'error', 4, 'string'],
  ['etcdserverpb.LeaseKeepAliveResponse', 'TTL', 3, 'int64'],
  ['etcdserverpb.LeaseTimeToLiveRequest', 'keys', 2, 'bool'],
  ['etcdserverpb.LeaseTimeToLiveResponse', 'grantedTTL', 4, 'int64'],
  ['etcdserverpb.LeaseTimeToLiveResponse', 'keys', 5, 'repeated bytes'],
  ['etcdserverpb.LeaseLeasesResponse', 'leases', 2, 'repeated LeaseStatus'],
  ['etcdserverpb.LeaseCheckpoint', 'remaining_TTL', 2, 'int64'],
  // [rpc] Cluster
  ['etcdserverpb.Member', 'ID', 1, 'uint64'],
  ['etcdserverpb.Member', 'name', 2, 'string'],
  ['etcdserverpb.Member', 'peerURLs', 3, 'repeated string'],
  ['etcdserverpb.Member', 'clientURLs', 4, 'repeated string'],
  ['etcdserverpb.Member', 'isLearner', 5, 'bool'],
  ['etcdserverpb.MemberAddRequest', 'isLearner', 2, 'bool'],
  ['etcdserverpb.MemberAddResponse', 'members', 3, 'repeated Member'],
  ['etcdserverpb.MemberListResponse', 'members', 2, 'repeated Member'],
  ['etcdserverpb.MemberPromoteRequest', 'ID', 1, 'uint64'],
  // [rpc] Maintenance: every column of `etcdctl endpoint status`
  ['etcdserverpb.StatusResponse', 'header', 1, 'ResponseHeader'],
  ['etcdserverpb.StatusResponse', 'version', 2, 'string'],
  ['etcdserverpb.StatusResponse', 'dbSize', 3, 'int64'],
  ['etcdserverpb.StatusResponse', 'leader', 4, 'uint64'],
  ['etcdserverpb.StatusResponse', 'raftIndex', 5, 'uint64'],
  ['etcdserverpb.StatusResponse', 'raftTerm', 6, 'uint64'],
  ['etcdserverpb.StatusResponse', 'raftAppliedIndex', 7, 'uint64'],
  ['etcdserverpb.StatusResponse', 'errors', 8, 'repeated string'],
  ['etcdserverpb.StatusResponse', 'dbSizeInUse', 9, 'int64'],
  ['etcdserverpb.StatusResponse', 'isLearner', 10, 'bool'],
  ['etcdserverpb.AlarmRequest', 'memberID', 2, 'uint64'],
  ['etcdserverpb.AlarmRequest', 'alarm', 3, 'AlarmType'],
  ['etcdserverpb.HashKVResponse', 'compact_revision', 3, 'int64'],
  ['etcdserverpb.SnapshotResponse', 'remaining_bytes', 2, 'uint64'],
  ['etcdserverpb.SnapshotResponse', 'blob', 3, 'bytes'],
  ['etcdserverpb.MoveLeaderRequest', 'targetID', 1, 'uint64'],
  // [rpc] + [auth]
  ['etcdserverpb.AuthUserAddRequest', 'options', 3, 'authpb.UserAddOptions'],
  ['etcdserverpb.AuthUserGrantRoleRequest', 'user', 1, 'string'],
  ['etcdserverpb.AuthRoleGrantPermissionRequest', 'perm', 2, 'authpb.Permission'],
  ['authpb.Permission', 'permType', 1, 'Type'],
  ['authpb.UserAddOptions', 'no_password', 1, 'bool'],
  // [kv]
  ['mvccpb.KeyValue', 'key', 1, 'bytes'],
  ['mvccpb.KeyValue', 'create_revision', 2, 'int64'],
  ['mvccpb.KeyValue', 'mod_revision', 3, 'int64'],
  ['mvccpb.KeyValue', 'version', 4, 'int64'],
  ['mvccpb.KeyValue', 'value', 5, 'bytes'],
  ['mvccpb.KeyValue', 'lease', 6, 'int64'],
  ['mvccpb.Event', 'type', 1, 'EventType'],
  ['mvccpb.Event', 'kv', 2, 'KeyValue'],
  ['mvccpb.Event', 'prev_kv', 3, 'KeyValue'],
  // [lock]
  ['v3lockpb.LockRequest', 'name', 1, 'bytes'],
  ['v3lockpb.LockRequest', 'lease', 2, 'int64'],
  ['v3lockpb.LockResponse', 'header', 1, 'etcdserverpb.ResponseHeader'],
  ['v3lockpb.LockResponse', 'key', 2, 'bytes'],
  ['v3lockpb.UnlockRequest', 'key', 1, 'bytes'],
  // [election]
  ['v3electionpb.CampaignRequest', 'name', 1, 'bytes'],
  ['v3electionpb.CampaignRequest', 'lease', 2, 'int64'],
  ['v3electionpb.CampaignRequest', 'value', 3, 'bytes'],
  ['v3electionpb.CampaignResponse', 'header', 1, 'etcdserverpb.ResponseHeader'],
  ['v3electionpb.CampaignResponse', 'leader', 2, 'LeaderKey'],
  ['v3electionpb.LeaderKey', 'name', 1, 'bytes'],
  ['v3electionpb.LeaderKey', 'key', 2, 'bytes'],
  ['v3electionpb.LeaderKey', 'rev', 3, 'int64'],
  ['v3electionpb.LeaderKey', 'lease', 4, 'int64'],
  ['v3electionpb.LeaderResponse', 'kv', 2, 'mvccpb.KeyValue'],
  ['v3electionpb.ProclaimRequest', 'leader', 1, 'LeaderKey'],
  ['v3electionpb.ProclaimRequest', 'value', 2, 'bytes'],
]

// [enum type, value names in number order from 0]; sources as above.
const ENUMS: readonly [string, string, readonly string[]][] = [
  ['etcdserverpb.RangeRequest', 'SortOrder', ['NONE', 'ASCEND', 'DESCEND']], // [rpc]
  ['etcdserverpb.RangeRequest', 'SortTarget', ['KEY', 'VERSION', 'CREATE', 'MOD', 'VALUE']], // [rpc]
  ['etcdserverpb.Compare', 'CompareResult', ['EQUAL', 'GREATER', 'LESS', 'NOT_EQUAL']], // [rpc]
  ['etcdserverpb.Compare', 'CompareTarget', ['VERSION', 'CREATE', 'MOD', 'VALUE', 'LEASE']], // [rpc]
  ['etcdserverpb.WatchCreateRequest', 'FilterType', ['NOPUT', 'NODELETE']], // [rpc]
  ['etcdserverpb.AlarmRequest', 'AlarmAction', ['GET', 'ACTIVATE', 'DEACTIVATE']], // [rpc]
  ['mvccpb.Event', 'EventType', ['PUT', 'DELETE']], // [kv]
  ['authpb.Permission', 'Type', ['READ', 'WRITE', 'READWRITE']], // [auth]
]

// [service, rpc, client streams, server streams]: every rpc of etcd 3.4, sources as above.
type Rpc = readonly [service: string, rpc: string, clientStreams: boolean, serverStreams: boolean]
const unary = (service: string, rpcs: string[]): Rpc[] => rpcs.map((rpc) => [service, rpc, false, false])
const AUTH_RPCS = [
  'AuthEnable',
  'AuthDisable',
  'Authenticate',
  'UserAdd',
  'UserGet',
  'UserList',
  'UserDelete',
]
const AUTH_RPCS_MORE = [
  'UserChangePassword',
  'UserGrantRole',
  'UserRevokeRole',
  'RoleAdd',
  'RoleGet',
  'RoleList',
]
const RPCS: readonly Rpc[] = [
  ...unary('etcdserverpb.KV', ['Range', 'Put', 'DeleteRange', 'Txn', 'Compact']),
  ['etcdserverpb.Watch', 'Watch', true, true],
  ...unary('etcdserverpb.Lease', ['LeaseGrant', 'LeaseRevoke', 'LeaseTimeToLive', 'LeaseLeases']),
  ['etcdserverpb.Lease', 'LeaseKeepAlive', true, true],
  ...unary('etcdserverpb.Cluster', [
    'MemberAdd',
    'MemberRemove',
    'MemberUpdate',
    'MemberList',
    'MemberPromote',
  ]),
  ...unary('etcdserverpb.Maintenance', ['Alarm', 'Status', 'Defragment', 'Hash', 'HashKV', 'MoveLeader']),
  ['etcdserverpb.Maintenance', 'Snapshot', false, true],
  ...unary('etcdserverpb.Auth', [...AUTH_RPCS, ...AUTH_RPCS_MORE, 'RoleDelete']),
  ...unary('etcdserverpb.Auth', ['RoleGrantPermission', 'RoleRevokePermission']),
  ...unary('v3lockpb.Lock', ['Lock', 'Unlock']),
  ...unary('v3electionpb.Election', ['Campaign', 'Proclaim', 'Leader', 'Resign']),
  ['v3electionpb.Election', 'Observe', false, true],
]

describe('etcd protos', () => {
  it('load from the repository proto/ folder, which the compiled loader finds from dist/', () => {
    for (const f of ETCD_PROTO_FILES) assert.ok(existsSync(join(PROTO_DIR, f)), `${f} in ${PROTO_DIR}`)
    for (const name of ['etcdserverpb', 'mvccpb', 'authpb', 'v3lockpb', 'v3electionpb']) {
      assert.ok(PACKAGES[name], name)
    }
    assert.throws(() => loadEtcdProtos('/nonexistent'), /etcd protos not found in \/nonexistent/)
  })

  it('number and type every field as etcd v3.4 does', () => {
    for (const [message, field, number, type] of FIELDS) {
      const f = fieldsOf(message).find((x) => x.name === field)
      assert.ok(f, `${message}.${field} exists`)
      assert.equal(f.number, number, `${message}.${field} number`)
      assert.equal(typeOf(f), type, `${message}.${field} type`)
    }
  })

  it('number enum values as etcd v3.4 does', () => {
    for (const [message, name, values] of ENUMS) {
      const [pkg, msg] = message.split('.') as [string, string]
      const type = messageOf(PACKAGES[pkg] as GrpcObject, msg).type as {
        enumType: { name: string; value: { name: string; number: number }[] }[]
      }
      const e = type.enumType.find((x) => x.name === name)
      assert.ok(e, `${message}.${name} exists`)
      assert.deepEqual(
        e.value.map((v) => [v.name, v.number]),
        values.map((v, i) => [v, i]),
        `${message}.${name}`,
      )
    }
    const alarm = messageOf(protos.etcdserverpb, 'AlarmType').type as {
      value: { name: string; number: number }[]
    }
    assert.deepEqual(
      alarm.value.map((v) => [v.name, v.number]),
      [
        ['NONE', 0],
        ['NOSPACE', 1],
        ['CORRUPT', 2],
      ],
    )
  })

  it('offer every rpc of etcd v3.4 with its streaming flags, and no other', () => {
    const seen = new Map<string, Set<string>>()
    for (const [qualified, rpc, clientStream, serverStream] of RPCS) {
      const [pkg, name] = qualified.split('.') as [string, string]
      const m = serviceOf(PACKAGES[pkg] as GrpcObject, name).service[rpc]
      assert.ok(m, `${qualified}.${rpc} exists`)
      assert.equal(m.path, `/${qualified}/${rpc}`)
      assert.equal(m.requestStream, clientStream, `${qualified}.${rpc} client streaming`)
      assert.equal(m.responseStream, serverStream, `${qualified}.${rpc} server streaming`)
      seen.set(qualified, (seen.get(qualified) ?? new Set()).add(rpc))
    }
    for (const [qualified, rpcs] of seen) {
      const [pkg, name] = qualified.split('.') as [string, string]
      assert.deepEqual(
        Object.keys(serviceOf(PACKAGES[pkg] as GrpcObject, name).service).sort(),
        [...rpcs].sort(),
        qualified,
      )
    }
  })

  it('decode oneofs with a field naming the member that is set, and int64 as strings', () => {
    const t = messageOf(protos.etcdserverpb, 'WatchRequest') as ReturnType<typeof messageOf> & {
      serialize(v: object): Buffer
      deserialize(b: Buffer): Record<string, unknown>
    }
    const back = t.deserialize(t.serialize({ cancel_request: { watch_id: '18446744073709551615' } }))
    assert.equal(back.request_union, 'cancel_request')
    assert.deepEqual(back.cancel_request, { watch_id: '-1' }) // int64, as on etcd's wire
    const c = messageOf(protos.etcdserverpb, 'Compare') as typeof t
    const cmp = c.deserialize(c.serialize({ target: 'MOD', mod_revision: '9007199254740993' }))
    assert.equal(cmp.target_union, 'mod_revision')
    assert.equal(cmp.target, 'MOD')
    assert.equal(cmp.mod_revision, '9007199254740993')
  })
})

describe('etcd protos over gRPC', () => {
  it('carry a KV.Range call and its answer between a grpc-js server and client', {
    timeout: 10_000,
  }, async () => {
    const KV = serviceOf(protos.etcdserverpb, 'KV')
    const server = new Server()
    let asked: Record<string, unknown> | undefined
    server.addService(KV.service, {
      Range(call: { request: Record<string, unknown> }, callback: (e: null, r: object) => void) {
        asked = call.request
        callback(null, {
          header: { cluster_id: '14841639068965178418', member_id: '10276657743932975437', revision: '7' },
          kvs: [
            {
              key: Buffer.from('foo'),
              value: Buffer.from('bar'),
              create_revision: '2',
              mod_revision: '7',
              version: '3',
            },
          ],
          count: '1',
        })
      },
    })
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (e, p) =>
        e ? reject(e) : resolve(p),
      ),
    )
    const client = new KV(`127.0.0.1:${port}`, credentials.createInsecure())
    try {
      const answer = await new Promise<Record<string, unknown>>((resolve, reject) => {
        const deadline = new Date(Date.now() + 5000)
        const request = { key: Buffer.from('foo'), sort_order: 'DESCEND', serializable: true }
        client.Range!(request, { deadline }, (e: ServiceError | null, r: Record<string, unknown>) =>
          e ? reject(e) : resolve(r),
        )
      })
      assert.ok(asked)
      assert.deepEqual(asked.key, Buffer.from('foo'))
      assert.equal(asked.sort_order, 'DESCEND')
      assert.equal(asked.serializable, true)
      assert.equal(asked.limit, '0') // defaults: absent fields arrive as zero values
      assert.deepEqual(answer.header, {
        cluster_id: '14841639068965178418',
        member_id: '10276657743932975437',
        revision: '7',
        raft_term: '0',
      })
      const kvs = answer.kvs as Record<string, unknown>[]
      assert.equal(kvs.length, 1)
      assert.deepEqual(kvs[0]?.value, Buffer.from('bar'))
      assert.equal(kvs[0]?.version, '3')
      assert.equal(answer.count, '1')
      assert.equal(answer.more, false)
    } finally {
      client.close()
      await new Promise<void>((resolve) => server.tryShutdown(() => resolve()))
    }
  })
})
