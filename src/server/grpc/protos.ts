import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import {
  type GrpcObject,
  loadPackageDefinition,
  type ServiceClientConstructor,
  type ServiceDefinition,
} from '@grpc/grpc-js'
import { loadSync, type Options, type ProtobufTypeDefinition } from '@grpc/proto-loader'

/**
 * PROTO_DIR is the repository's proto/ folder. This file runs as dist/src/server/grpc/protos.js
 * and proto/ is not copied into dist/, so the folder is found four levels up from the compiled
 * file, at the repository root.
 */
export const PROTO_DIR = fileURLToPath(new URL('../../../../proto/', import.meta.url))

/** ETCD_PROTO_FILES are the entry points, relative to PROTO_DIR; they import kv.proto and auth.proto. */
export const ETCD_PROTO_FILES = [
  'etcdserverpb/rpc.proto',
  'v3lockpb/v3lock.proto',
  'v3electionpb/v3election.proto',
] as const

/**
 * LOADER_OPTIONS decide how messages look in JavaScript; none of them changes the wire.
 * - keepCase: fields keep etcd's names (`range_end`, `create_revision`, `ID`, `TTL`), the names
 *   etcd's docs and JSON gateway use, instead of being camel-cased.
 * - longs: String. int64/uint64 arrive as decimal strings: member and lease ids use all 64 bits,
 *   which a number would round. Sending accepts strings, numbers and bigints alike.
 * - enums: String. Enums arrive as their etcd names (`'DESCEND'`, `'PUT'`), which read well in
 *   code and logs; sending accepts names or numbers, and a number the file does not know (from a
 *   newer client) arrives as that number rather than failing.
 * - bytes: Buffer (the default), so keys and values are Buffers.
 * - defaults: absent fields arrive as their proto3 zero value, as in Go: etcd leaves zero-valued
 *   fields off the wire, and a handler must not have to tell absent from zero.
 * - oneofs: a oneof arrives with a virtual field naming the member that is set, e.g.
 *   `request: 'request_put'` on a RequestOp, so handlers can switch on it.
 */
export const LOADER_OPTIONS: Options = {
  keepCase: true,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
}

/** EtcdProtos are the loaded packages, each a tree of service constructors and message types. */
export interface EtcdProtos {
  readonly etcdserverpb: GrpcObject
  readonly mvccpb: GrpcObject
  readonly authpb: GrpcObject
  readonly v3lockpb: GrpcObject
  readonly v3electionpb: GrpcObject
}

/**
 * loadEtcdProtos parses Synod's etcd v3.4-compatible .proto files from protoDir (PROTO_DIR by
 * default) and returns their packages. It reads the disk on every call, so a server loads once
 * at start. Throws, naming the folder, when the files are not there.
 */
export function loadEtcdProtos(protoDir: string = PROTO_DIR): EtcdProtos {
  if (!existsSync(`${protoDir}/${ETCD_PROTO_FILES[0]}`)) {
    throw new Error(`etcd protos not found in ${protoDir} (expected ${ETCD_PROTO_FILES[0]} there)`)
  }
  const definition = loadSync([...ETCD_PROTO_FILES], { ...LOADER_OPTIONS, includeDirs: [protoDir] })
  const root = loadPackageDefinition(definition)
  return {
    etcdserverpb: packageOf(root, 'etcdserverpb'),
    mvccpb: packageOf(root, 'mvccpb'),
    authpb: packageOf(root, 'authpb'),
    v3lockpb: packageOf(root, 'v3lockpb'),
    v3electionpb: packageOf(root, 'v3electionpb'),
  }
}

function packageOf(root: GrpcObject, name: string): GrpcObject {
  const pkg = root[name]
  if (pkg === undefined || typeof pkg === 'function' || 'format' in pkg) {
    throw new Error(`etcd protos: no package ${name}`)
  }
  return pkg as GrpcObject
}

/** serviceOf returns the client constructor of a service; its `.service` is what a Server adds. */
export function serviceOf(
  pkg: GrpcObject,
  name: string,
): ServiceClientConstructor & { service: ServiceDefinition } {
  const s = pkg[name]
  if (typeof s !== 'function') throw new Error(`etcd protos: ${name} is not a service`)
  return s
}

/**
 * messageOf returns a message or enum type by its name within the package (`'RangeRequest'`;
 * nested types are not addressed here: their descriptors sit inside their parent's).
 */
export function messageOf(pkg: GrpcObject, name: string): ProtobufTypeDefinition {
  const m = pkg[name]
  if (m === undefined || typeof m === 'function' || !('format' in m)) {
    throw new Error(`etcd protos: ${name} is not a message or enum type`)
  }
  return m as ProtobufTypeDefinition
}
