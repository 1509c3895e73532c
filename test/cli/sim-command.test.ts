import assert from 'node:assert/strict'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { runCheckCommand } from '../../src/cli/check-cli.js'
import { parseNemesis, parseSeeds, runSimCommand, type SimCommandOptions } from '../../src/cli/sim-command.js'

function options(over: Partial<SimCommandOptions>, out: string): SimCommandOptions {
  return {
    engine: 'raft',
    seeds: [1, 2],
    nemesis: parseNemesis('all'),
    nodes: 3,
    readMode: 'safe',
    bugs: [],
    json: false,
    out,
    progress: false,
    ...over,
  }
}

describe('cli: synod sim', () => {
  it('parses seed ranges and fault lists, refusing nonsense', () => {
    assert.deepEqual(parseSeeds('7'), [7])
    assert.deepEqual(parseSeeds('1-3,9'), [1, 2, 3, 9])
    assert.throws(() => parseSeeds('5-1'), /bad seed range/)
    assert.throws(() => parseSeeds('x'), /bad seed range/)
    assert.deepEqual(parseNemesis('crash,drop'), ['crash', 'drop'])
    assert.deepEqual(parseNemesis('none'), [])
    assert.throws(() => parseNemesis('crash,meteor'), /unknown fault "meteor"/)
  })

  it('prints a summary table and exits 0 when every seed passes', () => {
    const dir = mkdtempSync(join(tmpdir(), 'synod-sim-'))
    try {
      const lines: string[] = []
      const code = runSimCommand(
        options({}, dir),
        (l) => lines.push(l),
        () => {},
      )
      const text = lines.join('\n')
      assert.equal(code, 0, text)
      assert.match(text, /ops ok \/ fail \/ unknown\s+\d+ \/ \d+ \/ \d+/)
      assert.match(text, /safety violations\s+0/)
      assert.match(text, /all 2 seeds passed/)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('on a planted bug: exit 1, the replay command, and a history and timeline on disk', () => {
    const dir = mkdtempSync(join(tmpdir(), 'synod-sim-'))
    try {
      const lines: string[] = []
      const o = options({ seeds: parseSeeds('1-80'), bugs: ['readWithoutBarrier'], json: true }, dir)
      const code = runSimCommand(
        o,
        (l) => lines.push(l),
        () => {},
      )
      assert.equal(code, 1)
      const summary = JSON.parse(lines.join('')) as {
        failures: { seed: number; replay: string; artifacts: string }[]
      }
      const first = summary.failures[0]
      assert.ok(first, 'no seed failed')
      assert.match(first.replay, new RegExp(`--seeds ${first.seed} .*--bug readWithoutBarrier`))
      assert.ok(existsSync(join(first.artifacts, 'timeline.html')))
      const historyPath = join(first.artifacts, 'history.json')
      assert.match(readFileSync(historyPath, 'utf8'), /"model":"kv"/)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

describe('cli: synod check', () => {
  const stale = {
    model: 'kv',
    ops: [
      { client: 1, f: 'put', key: 'x', value: '1', call: 0, return: 5, status: 'ok' },
      { client: 1, f: 'put', key: 'x', value: '2', call: 6, return: 9, status: 'ok' },
      { client: 2, f: 'get', key: 'x', result: '1', call: 10, return: 12, status: 'ok' },
    ],
  }

  it('exits 1 on a stale read, names the operations and writes the timeline', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'synod-check-'))
    try {
      const file = join(dir, 'h.json')
      writeFileSync(file, JSON.stringify(stale))
      const lines: string[] = []
      const code = await runCheckCommand(file, { html: join(dir, 't.html') }, (l) => lines.push(l))
      assert.equal(code, 1)
      assert.match(lines.join('\n'), /not linearizable/)
      assert.match(lines.join('\n'), /get x → "1"/)
      assert.match(readFileSync(join(dir, 't.html'), 'utf8'), /NOT linearizable/)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('exits 0 on a linearizable history and 2 on a malformed one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'synod-check-'))
    try {
      const good = join(dir, 'good.json')
      writeFileSync(good, JSON.stringify({ ...stale, ops: stale.ops.slice(0, 2) }))
      assert.equal(await runCheckCommand(good, {}, () => {}), 0)
      const bad = join(dir, 'bad.json')
      writeFileSync(bad, '{"model":"kv","ops":[{"client":1,"f":"put"}]}')
      const lines: string[] = []
      assert.equal(await runCheckCommand(bad, {}, (l) => lines.push(l)), 2)
      assert.match(lines.join('\n'), /ops\[0\]/)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
