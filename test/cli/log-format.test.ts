import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { formatLogLine } from '../../src/cli/cluster-command.js'

describe('cluster up log lines', () => {
  it('renders a pino JSON line as time, level, message and fields', () => {
    const line = JSON.stringify({
      level: 30,
      time: Date.UTC(2026, 0, 1, 12, 0, 1, 234),
      pid: 9,
      member: 'n1',
      msg: 'leader changed',
      term: 2,
      leader: 'n3',
    })
    assert.equal(formatLogLine(line), '12:00:01.234 INFO  leader changed term=2 leader=n3')
  })

  it('passes anything else through unchanged', () => {
    assert.equal(formatLogLine('not json {'), 'not json {')
    assert.equal(formatLogLine('null'), 'null')
  })
})
