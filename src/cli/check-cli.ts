import { readFile, writeFile } from 'node:fs/promises'
import { type CheckResult, checkHistory } from '../check/check.js'
import { describeOp, type History, HistoryError, type Operation, parseHistoryText } from '../check/history.js'
import { renderTimeline } from '../check/html-timeline.js'

/**
 * `synod check HISTORY.json`: read a history, decide linearizability, print the verdict and — on
 * a violation — the failing key's operations, and write the HTML timeline. Exit codes: 0
 * linearizable, 1 not linearizable, 2 bad input, 3 undecided (the search ran out of budget).
 */
export async function runCheckCommand(
  path: string,
  opts: { readonly html?: string; readonly json?: boolean; readonly maxSteps?: number },
  out: (line: string) => void,
): Promise<number> {
  let history: History
  try {
    history = parseHistoryText(await readFile(path, 'utf8'))
  } catch (err) {
    const why = err instanceof HistoryError || err instanceof Error ? err.message : String(err)
    out(`${path}: ${why}`)
    return 2
  }
  const result = checkHistory(history, opts.maxSteps === undefined ? {} : { stepsMax: opts.maxSteps })
  if (opts.html) await writeFile(opts.html, renderTimeline(history, result, { title: path }))
  if (opts.json)
    out(JSON.stringify({ verdict: result.verdict, steps: result.steps, failure: result.failure }))
  else report(history, result, opts.html, out)
  return result.verdict === 'linearizable' ? 0 : result.verdict === 'not-linearizable' ? 1 : 3
}

function report(
  history: History,
  r: CheckResult,
  html: string | undefined,
  out: (line: string) => void,
): void {
  const keys = r.keys.length
  if (r.verdict === 'linearizable') out(`linearizable (${history.ops.length} operations, ${keys} keys)`)
  else if (r.verdict === 'unknown')
    out(`undecided: the search ran out of budget on some key (${history.ops.length} operations)`)
  else {
    const f = r.failure
    out(`not linearizable (${history.ops.length} operations, ${keys} keys)`)
    if (f) {
      const core = new Set(f.core)
      out('')
      out(
        `key ${JSON.stringify(f.key)}: ${f.ops.length} operations; these ${f.core.length} cannot all be linearized${f.minimal ? '' : ' (not minimised: budget)'}:`,
      )
      out('   #op  client       call     return  status   operation')
      for (const i of f.ops) {
        if (!core.has(i)) continue
        const o = history.ops[i] as Operation
        const mark = i === f.blocking ? '>' : ' '
        out(
          `${mark}${String(i).padStart(5)}  ${String(o.client).padStart(6)}  ${String(o.call).padStart(9)}  ${String(o.return ?? '∞').padStart(9)}  ${o.status.padEnd(7)}  ${describeOp(o)}`,
        )
      }
      out(
        `state before the marked (>) operation: ${f.stateAfterPrefix}; nothing consistent may follow by t=${f.cut}`,
      )
    }
  }
  if (html) out(`timeline: ${html}`)
}
