import { BinaryReader, BinaryWriter } from '../core/codec.js'
import type { Entry } from '../engines/engine.js'
import { decodeKvCommand, decodeKvQuery, encodeKvResult, type KvCommand } from './register-commands.js'
import type { StateMachine } from './state-machine.js'

/**
 * RegisterKv is the simplest useful replicated state machine: string keys, string values,
 * get / put / cas / delete, each key a linearizable register. It is what the simulator runs;
 * the MVCC store of the etcd API replaces it there later.
 */
export class RegisterKv implements StateMachine {
  private readonly data = new Map<string, string>()

  apply(entry: Entry): Uint8Array {
    return encodeKvResult(this.execute(decodeKvCommand(entry.data)))
  }

  /** execute runs one command; it returns null for put, and "true"/"false" for cas and delete. */
  execute(c: KvCommand): string | null {
    switch (c.f) {
      case 'put':
        this.data.set(c.key, c.value)
        return null
      case 'cas': {
        const current = this.data.get(c.key) ?? null
        if (current !== c.expected) return 'false'
        this.data.set(c.key, c.value)
        return 'true'
      }
      case 'delete':
        return this.data.delete(c.key) ? 'true' : 'false'
    }
  }

  query(q: Uint8Array): Uint8Array {
    return encodeKvResult(this.data.get(decodeKvQuery(q).key) ?? null)
  }

  get(key: string): string | null {
    return this.data.get(key) ?? null
  }

  snapshot(): Uint8Array {
    const w = new BinaryWriter()
    const keys = [...this.data.keys()].sort()
    w.uvarint(keys.length)
    for (const k of keys) w.string(k).string(this.data.get(k) as string)
    return w.finish()
  }

  restore(data: Uint8Array): void {
    const r = new BinaryReader(data)
    this.data.clear()
    const n = r.uvarint()
    for (let i = 0; i < n; i++) this.data.set(r.string(), r.string())
    r.expectEnd('kv snapshot')
  }
}
