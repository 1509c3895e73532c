import assert from 'node:assert/strict'
import { dirname, join, resolve } from 'node:path'
import { describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { compileScenario, loadScripts, runScenario, ScenarioFailure, withoutFrames } from './scenario/run.js'
import { splitScenarios } from './scenario/script.js'

/**
 * The Raft interaction scenarios: small scripts in testdata/*.txt, one file per topic and one
 * test per scenario, each naming the rule of the Raft paper or dissertation it checks. The format
 * is described in scenario/script.ts, scenario/commands.ts and scenario/expectations.ts.
 *
 * A scenario marked `known-engine-bug <why>` states what the paper requires and is expected to
 * fail against the current engine, at an expectation or a safety invariant: it is reported as
 * TODO while it fails so, and fails the suite if it fails otherwise (a crash, a malformed line)
 * or passes, so that the marker is removed with the fix.
 *
 * This file runs as dist/test/engines/raft/scenarios.test.js; the scripts stay in the source tree.
 */
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..')
const TESTDATA = join(ROOT, 'test', 'engines', 'raft', 'testdata')

for (const { file, script } of loadScripts(TESTDATA)) {
  describe(`raft scenarios: ${file}`, () => {
    for (const err of script.errors) {
      it(`${file}:${err.at.line} is well-formed`, () => {
        throw withoutFrames(err)
      })
    }
    for (const s of script.scenarios) {
      it(`${file}: ${s.name}`, (t) => {
        if (s.knownEngineBug === undefined) {
          runScenario(s)
          return
        }
        // A malformed script is never excused by the marker.
        try {
          compileScenario(s)
        } catch (e) {
          throw withoutFrames(e)
        }
        try {
          runScenario(s)
        } catch (e) {
          // Only a wrong outcome is excused, never a crash of the engine or of the harness.
          if (!(e instanceof ScenarioFailure) || e.kind === 'error') throw e
          t.diagnostic(
            `known engine bug (${s.knownEngineBug}):\n${e instanceof Error ? e.message : String(e)}`,
          )
          t.todo(`known engine bug: ${s.knownEngineBug}`)
          return
        }
        throw new Error(
          `${file}:${s.at.line}: marked known-engine-bug (${s.knownEngineBug}) but passes: remove the marker`,
        )
      })
    }
  })
}

/** The runner must fail loudly, naming file:line, on anything it does not understand. */
describe('raft scenarios: the runner is strict', () => {
  const run = (text: string) => {
    const { scenarios, errors } = splitScenarios('t.txt', text)
    if (errors[0]) throw errors[0]
    for (const s of scenarios) runScenario(s)
  }
  const header = '# Reference: test\nscenario s\n'
  const cases: [string, string, RegExp][] = [
    ['an unknown command', `${header}cluster 3\nelekt 1`, /t\.txt:4: unknown command `elekt`/],
    ['an unknown expectation', `${header}cluster 3\nexpect lead 1`, /t\.txt:4: unknown expectation `lead`/],
    ['a malformed filter', `${header}cluster 3\ndrop type=MsgFoo`, /t\.txt:4: unknown message type `MsgFoo`/],
    ['an unknown option', `${header}cluster 3 preVot=false`, /t\.txt:3: unknown cluster option `preVot`/],
    ['trailing words', `${header}cluster 3\nheal now`, /t\.txt:4: unexpected `now`/],
    ['a scenario without a reference', 'scenario s\ncluster 3', /t\.txt:1: a scenario must start with/],
    ['a scenario without a cluster', `${header}campaign 1`, /t\.txt:3: a scenario starts with `cluster/],
    [
      'a deliver that matches nothing',
      `${header}cluster 3\ndeliver type=MsgApp`,
      /t\.txt:4: deliver: no queued/,
    ],
    [
      'a wrong expectation',
      `${header}cluster 3\nelect 1\nexpect term all = 5`,
      /t\.txt:5: expect term = 5: node 1: term is 2[\s\S]*--- trace/,
    ],
    [
      'a missing violation',
      `${header}cluster 3\nexpect violation Leader\nelect 1`,
      /expected a violation of "Leader"/,
    ],
  ]
  for (const [what, text, message] of cases) {
    it(`fails on ${what}`, () => assert.throws(() => run(text), message))
  }
  it('passes a correct scenario', () =>
    run(`${header}cluster 3\nelect 1\nexpect leader 1 # trailing comment`))
})
