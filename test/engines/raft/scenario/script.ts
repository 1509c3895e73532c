/**
 * The scenario script format: the lexical layer. A file in testdata/ holds scenarios; each one is
 *
 *   # Reference: Raft §5.2 — what the scenario shows, and where the rule comes from
 *   scenario <name>
 *   [known-engine-bug <why>]
 *   cluster 3 preVote=false
 *   <command or expect line>…
 *
 * Other `#` lines are comments and blank lines separate scenarios for the reader only. Nothing
 * but comments and blank lines may come before the first scenario. The grammar of the command and
 * expect lines is in commands.ts and expectations.ts; both are strict: an unknown word or a
 * malformed argument is a ScriptError that names file:line.
 */

/** Line is one line of a scenario file, for error messages. */
export interface Line {
  readonly file: string
  readonly line: number
  readonly text: string
}

export function where(at: Line): string {
  return `${at.file}:${at.line}`
}

/** ScriptError is a malformed script, or an expectation that did not hold; it names the line. */
export class ScriptError extends Error {
  override readonly name = 'ScriptError'

  constructor(
    readonly at: Line,
    readonly reason: string,
  ) {
    super(`${where(at)}: ${reason}\n    | ${at.text.trim()}`)
  }
}

/** Scenario is one story of a file, not yet compiled. */
export interface Scenario {
  readonly file: string
  readonly name: string
  readonly reference: string
  /** The `scenario` line. */
  readonly at: Line
  /** knownEngineBug: the scenario is expected to fail because the engine is wrong (see report). */
  readonly knownEngineBug: string | undefined
  readonly lines: readonly Line[]
}

export interface ScriptFile {
  readonly scenarios: readonly Scenario[]
  /** errors outside any scenario (a scenario's own errors surface when it is compiled). */
  readonly errors: readonly ScriptError[]
}

const REFERENCE = /^#\s*Reference:\s*(\S.*)$/
const SCENARIO = /^scenario\s+(\S.*)$/
const KNOWN_BUG = /^known-engine-bug\s+(\S.*)$/

/** splitScenarios cuts a file into scenarios; it checks the framing, not the commands. */
export function splitScenarios(file: string, text: string): ScriptFile {
  const scenarios: Scenario[] = []
  const errors: ScriptError[] = []
  const names = new Set<string>()
  const raw = text.split('\n')
  let current:
    | { name: string; reference: string; at: Line; bug: string | undefined; lines: Line[] }
    | undefined
  const flush = () => {
    if (!current) return
    scenarios.push({
      file,
      name: current.name,
      reference: current.reference,
      at: current.at,
      knownEngineBug: current.bug,
      lines: current.lines,
    })
    current = undefined
  }
  // skipping: after a framing error, ignore lines up to the next `# Reference:` (one error, not many).
  let skipping = false
  for (let k = 0; k < raw.length; k++) {
    const at: Line = { file, line: k + 1, text: raw[k] as string }
    const t = at.text.trim()
    const ref = REFERENCE.exec(t)
    if (ref) {
      // The reference may go on over more comment lines, up to the `scenario` line.
      const parts = [(ref[1] as string).trim()]
      let j = k + 1
      while (j < raw.length && (raw[j] as string).trim().startsWith('#')) {
        parts.push((raw[j] as string).trim().replace(/^#\s*/, ''))
        j++
      }
      const next: Line = { file, line: j + 1, text: raw[j] ?? '' }
      const sc = SCENARIO.exec(next.text.trim())
      flush()
      if (!sc) {
        errors.push(new ScriptError(next, 'a `# Reference:` comment must be followed by `scenario <name>`'))
        skipping = true
        continue
      }
      skipping = false
      const name = (sc[1] as string).trim()
      if (names.has(name)) errors.push(new ScriptError(next, `duplicate scenario name "${name}"`))
      names.add(name)
      current = { name, reference: parts.join(' '), at: next, bug: undefined, lines: [] }
      k = j
      continue
    }
    if (t === '' || t.startsWith('#') || skipping) continue
    if (SCENARIO.test(t)) {
      errors.push(
        new ScriptError(at, 'a scenario must start with a `# Reference: …` comment naming its source'),
      )
      skipping = true
      continue
    }
    if (!current) {
      errors.push(new ScriptError(at, 'command outside a scenario'))
      skipping = true
      continue
    }
    const bug = KNOWN_BUG.exec(t)
    if (bug) {
      if (current.lines.length > 0 || current.bug !== undefined) {
        errors.push(new ScriptError(at, '`known-engine-bug` must come right after the `scenario` line'))
      }
      current.bug = (bug[1] as string).trim()
      continue
    }
    current.lines.push(at)
  }
  flush()
  return { scenarios, errors }
}

// ---- argument helpers -------------------------------------------------------------------------

/** Args is a line's words after the command (and, for expect, after the kind), consumed in order. */
export class Args {
  private k = 0

  constructor(
    readonly at: Line,
    private readonly words: readonly string[],
  ) {}

  fail(reason: string): never {
    throw new ScriptError(this.at, reason)
  }

  get done(): boolean {
    return this.k >= this.words.length
  }

  peek(): string | undefined {
    return this.words[this.k]
  }

  next(what: string): string {
    const w = this.words[this.k]
    if (w === undefined) this.fail(`missing ${what}`)
    this.k++
    return w
  }

  /** rest returns every remaining word. */
  rest(): string[] {
    const r = this.words.slice(this.k)
    this.k = this.words.length
    return r
  }

  /** keyword consumes `word` or fails. */
  keyword(word: string): void {
    const w = this.next(`\`${word}\``)
    if (w !== word) this.fail(`expected \`${word}\`, got \`${w}\``)
  }

  int(what: string): number {
    return parseNat(this.next(what), what, this)
  }

  node(what = 'node id'): number {
    return parseNode(this.next(what), this)
  }

  /** nodes reads `1,2,3` or `all` (resolved later, when the cluster exists). */
  nodes(what = 'node list'): NodeList {
    return parseNodes(this.next(what), this)
  }

  end(): void {
    if (!this.done) this.fail(`unexpected \`${this.rest().join(' ')}\``)
  }
}

export type NodeList = readonly number[] | 'all'

export function parseNat(s: string, what: string, a: Args): number {
  if (!/^\d+$/.test(s)) a.fail(`${what} must be a non-negative integer, got \`${s}\``)
  return Number(s)
}

export function parseNode(s: string, a: Args): number {
  const n = parseNat(s, 'node id', a)
  if (n < 1) a.fail('node ids start at 1')
  return n
}

export function parseNodes(s: string, a: Args): NodeList {
  if (s === 'all') return 'all'
  return s.split(',').map((x) => parseNode(x, a))
}

/** parseNodeOrNone reads a node id or `none` (0, NO_NODE). */
export function parseNodeOrNone(s: string, a: Args): number {
  return s === 'none' ? 0 : parseNode(s, a)
}

export function parseBool(s: string, what: string, a: Args): boolean {
  if (s === 'true') return true
  if (s === 'false') return false
  return a.fail(`${what} must be true or false, got \`${s}\``)
}

/** keyValues splits `k=v` words; every word must have that form and keys must not repeat. */
export function keyValues(words: readonly string[], a: Args): Map<string, string> {
  const out = new Map<string, string>()
  for (const w of words) {
    const eq = w.indexOf('=')
    if (eq <= 0) a.fail(`expected key=value, got \`${w}\``)
    const key = w.slice(0, eq)
    if (out.has(key)) a.fail(`\`${key}\` given twice`)
    out.set(key, w.slice(eq + 1))
  }
  return out
}

/** takeKeys checks that every key of `kv` is one of `allowed`. */
export function checkKeys(kv: ReadonlyMap<string, string>, allowed: readonly string[], a: Args): void {
  for (const k of kv.keys()) {
    if (!allowed.includes(k)) a.fail(`unknown key \`${k}\` (known: ${allowed.join(', ')})`)
  }
}

/** words splits a line into words; a `#` starts a trailing comment. */
export function words(text: string): string[] {
  const hash = text.indexOf(' #')
  const body = hash >= 0 ? text.slice(0, hash) : text
  return body
    .trim()
    .split(/\s+/)
    .filter((w) => w.length > 0)
}
