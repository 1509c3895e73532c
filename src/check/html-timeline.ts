import type { CheckResult } from './check.js'
import { describeOp, type History, type Operation } from './history.js'

/**
 * renderTimeline draws a history as a self-contained HTML page (inline SVG, CSS and a few lines
 * of script; nothing loaded from elsewhere): one lane per client, each operation a bar from its
 * call to its return — open-ended and hatched when its outcome is unknown — coloured by status.
 * When the history is not linearizable, the failing key is shown first, the operations that
 * cannot all be linearized are outlined, the one that could not go next is marked, and a red
 * line shows the earliest time by which the key's history cannot be linearized.
 */

export interface TimelineOptions {
  readonly title?: string
}

const LANE_PX = 26
const BAR_PX = 18
const LEFT_PX = 90
const WIDTH_PX = 1400
const OPS_DRAWN_MAX = 5_000

const escapeHtml = (s: string): string =>
  s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string,
  )

export function renderTimeline(history: History, check: CheckResult, options: TimelineOptions = {}): string {
  const failure = check.failure
  const core = new Set(failure?.core ?? [])
  const focusKey = failure?.key
  // On a violation, zoom on it: the failing key's operations around the core and the cut;
  // otherwise the whole history. Bounded either way.
  const window = violationWindow(history, check)
  const indices = history.ops
    .map((_, i) => i)
    .filter((i) => {
      const o = history.ops[i] as Operation
      if (focusKey !== undefined && o.key !== focusKey) return false
      return (
        window === undefined ||
        (o.call <= window.end && (o.return ?? Number.POSITIVE_INFINITY) >= window.start)
      )
    })
    .slice(0, OPS_DRAWN_MAX)
  const ops = indices.map((i) => history.ops[i] as Operation)
  const start = window?.start ?? Math.min(...ops.map((o) => o.call))
  const end = window?.end ?? Math.max(...ops.map((o) => o.return ?? o.call), start + 1)
  const span = end - start
  const x = (t: number) =>
    LEFT_PX + ((Math.min(Math.max(t, start), end) - start) / span) * (WIDTH_PX - LEFT_PX - 20)
  const clients = [...new Set(ops.map((o) => o.client))].sort((a, b) => a - b)
  const lane = new Map(clients.map((c, k) => [c, k]))
  const height = 40 + clients.length * LANE_PX + 30

  // Operations in the violation are drawn last, so that nothing covers them or their labels.
  const drawOrder = [...indices.filter((i) => !core.has(i)), ...indices.filter((i) => core.has(i))]
  const bars = drawOrder.map((i) => {
    const o = history.ops[i] as Operation
    const y = 30 + (lane.get(o.client) as number) * LANE_PX
    const x1 = x(o.call)
    const x2 = o.return === null ? WIDTH_PX - 20 : Math.max(x(o.return), x1 + 3)
    const classes = [`op ${o.status}`, core.has(i) ? 'core' : '', failure?.blocking === i ? 'blocking' : '']
    // A label that cannot fit is left to the tooltip — except in the violation, where it is
    // written after the bar: those are the operations a reader must see.
    const fits = x2 - x1 > 60
    const label = fits || core.has(i) ? escapeHtml(describeOp(o)) : ''
    const labelX = fits ? x1 + 4 : x2 + 4
    const tip = escapeHtml(
      `#${i} client ${o.client}: ${describeOp(o)} [${o.call}, ${o.return ?? '∞'}] ${o.status}`,
    )
    return (
      `<g class="${classes.join(' ').trim()}"><title>${tip}</title>` +
      `<rect x="${x1.toFixed(1)}" y="${y}" width="${(x2 - x1).toFixed(1)}" height="${BAR_PX}" rx="3"/>` +
      `<text x="${labelX.toFixed(1)}" y="${y + 13}">${label}</text></g>`
    )
  })
  const laneLabels = clients.map(
    (c, k) => `<text class="lane" x="6" y="${30 + k * LANE_PX + 13}">client ${c}</text>`,
  )
  const axis = [0, 0.25, 0.5, 0.75, 1]
    .map((f) => Math.round(start + f * span))
    .map((t) => `<text class="axis" x="${x(t).toFixed(1)}" y="${height - 6}">t=${t}</text>`)
    .join('')
  const cut =
    failure === null
      ? ''
      : `<line class="cut" x1="${x(failure.cut)}" y1="20" x2="${x(failure.cut)}" y2="${height - 20}"/>` +
        `<text class="cut" x="${x(failure.cut) + 4}" y="16">not linearizable by t=${failure.cut}</text>`
  const verdict =
    check.verdict === 'linearizable'
      ? '<p class="verdict okv">linearizable</p>'
      : check.verdict === 'unknown'
        ? '<p class="verdict unk">undecided: the search ran out of budget</p>'
        : `<p class="verdict bad">NOT linearizable — key <b>${escapeHtml(failure?.key ?? '?')}</b>: the outlined ` +
          `operations cannot all be linearized; the thick outline could not take effect next ` +
          `(state then: ${escapeHtml(failure?.stateAfterPrefix ?? '?')}).</p>`
  const shown =
    focusKey === undefined
      ? 'all keys'
      : `key ${escapeHtml(focusKey)}, ${ops.length} of its operations around the violation (t=${start}..${end})`
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>${escapeHtml(options.title ?? 'Synod history')}</title>
<style>
body{font:14px system-ui,sans-serif;margin:20px;color:#222}
.verdict{font-size:16px}.okv{color:#17803d}.bad{color:#b91c1c}.unk{color:#a16207}
svg{border:1px solid #ddd;background:#fcfcfc}
.op rect{stroke:#444;stroke-width:.5}.op text{font:11px ui-monospace,monospace;fill:#111;pointer-events:none}
.ok rect{fill:#bbf7d0}.fail rect{fill:#e5e7eb}.unknown rect{fill:url(#hatch)}
.core rect{stroke:#b91c1c;stroke-width:2}.core text{fill:#b91c1c;font-weight:bold}.axis{font:11px system-ui;fill:#777;text-anchor:middle}.blocking rect{stroke:#b91c1c;stroke-width:4}
.lane{font:12px system-ui;fill:#555}line.cut{stroke:#dc2626;stroke-width:2;stroke-dasharray:6 4}
text.cut{fill:#dc2626;font:12px system-ui}.legend span{display:inline-block;margin-right:16px}
.sw{display:inline-block;width:14px;height:10px;border:1px solid #444;margin-right:4px;vertical-align:middle}
</style></head><body>
<h2>${escapeHtml(options.title ?? 'Synod history')}</h2>
${verdict}
<p>${history.ops.length} operations, model <code>${escapeHtml(history.model)}</code>; showing ${shown}. Hover a bar for details.</p>
<p class="legend"><span><i class="sw" style="background:#bbf7d0"></i>ok</span><span><i class="sw" style="background:#e5e7eb"></i>fail (did not take effect)</span><span><i class="sw" style="background:#fde68a"></i>unknown (may take effect any time after its call)</span><span><i class="sw" style="border:2px solid #b91c1c"></i>in the violation</span></p>
<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH_PX}" height="${height}">
<defs><pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="#fde68a"/><line x1="0" y1="0" x2="0" y2="6" stroke="#d97706" stroke-width="2"/></pattern></defs>
${laneLabels.join('\n')}
${bars.join('\n')}
${cut}
${axis}
</svg>
</body></html>
`
}

/** violationWindow: the time span worth looking at — the core operations and the cut, padded. */
function violationWindow(history: History, check: CheckResult): { start: number; end: number } | undefined {
  const f = check.failure
  if (!f) return undefined
  const core = f.core.map((i) => history.ops[i] as Operation)
  const lo = Math.min(...core.map((o) => o.call), f.cut)
  const hi = Math.max(...core.map((o) => o.return ?? o.call), f.cut)
  const pad = Math.max(5, Math.ceil((hi - lo) * 0.15))
  return { start: lo - pad, end: hi + pad }
}
