import assert from 'node:assert/strict'
import { test } from 'node:test'
import { runDemo } from '../../src/cli/demo.js'

// The README's main job: the story must play out the same way for any seed.
test('demo: election, replication, follower read, failover and catch-up', () => {
  for (const seed of [1, 7, 42]) {
    const lines: string[] = []
    const code = runDemo(seed, (l) => lines.push(l))
    const out = lines.join('\n')
    assert.equal(code, 0, out)
    assert.match(out, /n\d is leader for term 2/)
    assert.match(out, /refused: not-leader \(leader hint: n\d\)/)
    assert.match(out, /linearizable read on n\d: ReadIndex \d+ confirmed/)
    assert.match(out, /is leader for term 3 \(failover took \d+ ms\)/)
    assert.match(out, /All three state machines agree\./)
  }
})
