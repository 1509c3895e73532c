import { dirname, join, resolve } from 'node:path'
import { describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { compileScenario, loadScripts, runScenario, ScenarioFailure, withoutFrames } from './scenario/run.js'

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
