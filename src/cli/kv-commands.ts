import { HttpKvClient, type KvOutcome } from '../client/http-kv-client.js'

/**
 * `synod put / get / del` over the interim client port, with etcdctl's output: `OK` for a put,
 * the value for a get, the number of keys deleted for a del. The client finds the leader among
 * the endpoints. Exit 0 on success; 1 when the request certainly failed; 2 when its outcome is
 * unknown (it may have taken effect). The etcd v3 API and its client replace these in #5.
 */

export type KvCommand =
  | { readonly op: 'put'; readonly key: string; readonly value: string }
  | { readonly op: 'get'; readonly key: string; readonly serializable: boolean }
  | { readonly op: 'del'; readonly key: string }

export async function runKvCommand(
  endpoints: readonly string[],
  cmd: KvCommand,
  out: (line: string) => void,
  err: (line: string) => void,
): Promise<number> {
  const kv = new HttpKvClient(endpoints)
  let r: KvOutcome<string | null | boolean>
  if (cmd.op === 'put') r = await kv.put(cmd.key, cmd.value)
  else if (cmd.op === 'get') r = await kv.get(cmd.key, cmd.serializable ? 'serializable' : 'linearizable')
  else r = await kv.delete(cmd.key)
  if (r.status !== 'ok') {
    err(
      r.status === 'unknown'
        ? `unknown outcome (it may have taken effect): ${r.error}`
        : `failed: ${r.error}`,
    )
    return r.status === 'unknown' ? 2 : 1
  }
  if (cmd.op === 'put') out('OK')
  else if (cmd.op === 'del') out(r.value ? '1' : '0')
  else if (typeof r.value === 'string') out(r.value)
  return 0
}
