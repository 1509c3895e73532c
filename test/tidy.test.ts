import assert from 'node:assert/strict'
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { builtinModules } from 'node:module'
import { dirname, join, relative, resolve, sep } from 'node:path'
import { describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'

/**
 * Tidy enforces the house rules of STYLE.md and the layering of DESIGN.md on the source tree, so
 * that they hold by construction rather than by review. It reads src/ from the repository root:
 * this file runs as dist/test/tidy.test.js, two levels below the root.
 */

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')
const SRC = join(ROOT, 'src')

/** PURE folders decide things; they must not do I/O, read clocks or draw unseeded randomness. */
const PURE = ['core', 'engines', 'kv', 'check', 'txn', 'eventual'] as const

/**
 * PURE_MAY_IMPORT: the layering core < engines < kv/txn/eventual (check beside them, seeing only
 * engines and core). A pure folder imports only from itself and from folders below it.
 */
const PURE_MAY_IMPORT: Record<(typeof PURE)[number], readonly string[]> = {
  core: ['core'],
  engines: ['core', 'engines'],
  kv: ['core', 'engines', 'kv', 'txn', 'eventual'],
  txn: ['core', 'engines', 'kv', 'txn', 'eventual'],
  eventual: ['core', 'engines', 'kv', 'txn', 'eventual'],
  check: ['core', 'engines', 'check'],
}

/** RANK orders the host-side layers: node < server/client/cli. No folder imports a higher rank. */
const RANK: Record<string, number> = { node: 3, server: 4, client: 4, cli: 4 }

const BANNED_IN_PURE: readonly [RegExp, string][] = [
  [/\bDate\.now\b/, 'Date.now'],
  [/\bnew Date\(\s*\)/, 'new Date()'],
  [/\bMath\.random\b/, 'Math.random'],
  [/\bsetTimeout\b/, 'setTimeout'],
  [/\bsetInterval\b/, 'setInterval'],
  [/\bsetImmediate\b/, 'setImmediate'],
  [/\bperformance\.now\b/, 'performance.now'],
  [/(?<![\w$.])process\./, 'process.'],
  [/\bglobalThis\.process\b/, 'globalThis.process'],
]

const NODE_BUILTINS = new Set(builtinModules)
const LINES_MAX = 600

interface SourceFile {
  /** path relative to src/, with forward slashes: 'engines/raft/wire.ts'. */
  readonly path: string
  readonly text: string
  /** code is the text with comments blanked out (strings kept: import specifiers live there). */
  readonly code: string
}

function listTs(dir: string): string[] {
  if (!existsSync(dir)) return []
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name)
    if (statSync(p).isDirectory()) return listTs(p)
    return name.endsWith('.ts') && !name.endsWith('.d.ts') ? [p] : []
  })
}

function loadSources(): SourceFile[] {
  return listTs(SRC).map((abs) => {
    const text = readFileSync(abs, 'utf8')
    return { path: relative(SRC, abs).split(sep).join('/'), text, code: stripComments(text) }
  })
}

/**
 * stripComments replaces comments by spaces (keeping line breaks), skipping over string and
 * template literals so that '//' inside a string is not taken for a comment. Template literals
 * with nested backticks inside ${} are not understood; the sources don't need them to be.
 */
function stripComments(s: string): string {
  let out = ''
  let i = 0
  while (i < s.length) {
    const c = s[i] as string
    const next = s[i + 1]
    if (c === '/' && next === '/') {
      while (i < s.length && s[i] !== '\n') {
        out += ' '
        i++
      }
    } else if (c === '/' && next === '*') {
      const end = s.indexOf('*/', i + 2)
      const stop = end < 0 ? s.length : end + 2
      out += s.slice(i, stop).replace(/[^\n]/g, ' ')
      i = stop
    } else if (c === "'" || c === '"' || c === '`') {
      let j = i + 1
      while (j < s.length && s[j] !== c && !(c !== '`' && s[j] === '\n')) j += s[j] === '\\' ? 2 : 1
      out += s.slice(i, j + 1)
      i = j + 1
    } else {
      out += c
      i++
    }
  }
  return out
}

/** importSpecifiers finds static imports, re-exports, side-effect imports and dynamic import(). */
function importSpecifiers(code: string): string[] {
  const patterns = [
    /(?:^|[;\s])(?:import|export)\s[^;'"`]*?\bfrom\s*(['"])([^'"]+)\1/g,
    /(?:^|[;\s])import\s*(['"])([^'"]+)\1/g,
    /\bimport\s*\(\s*(['"])([^'"]+)\1\s*\)/g,
  ]
  return patterns.flatMap((re) => [...code.matchAll(re)].map((m) => m[2] as string))
}

/** resolveRelative maps './x.js' imported from `from` (a src-relative path) to 'dir/x.ts'. */
function resolveRelative(from: string, spec: string): string {
  const abs = resolve(SRC, dirname(from), spec.replace(/\.js$/, '.ts'))
  return relative(SRC, abs).split(sep).join('/')
}

const topFolder = (path: string): string => (path.includes('/') ? (path.split('/')[0] as string) : '')
const isNodeBuiltin = (spec: string): boolean =>
  spec.startsWith('node:') || NODE_BUILTINS.has(spec.split('/')[0]!)

function layeringViolations(files: readonly SourceFile[]): string[] {
  const out: string[] = []
  for (const f of files) {
    const from = topFolder(f.path)
    const pure = (PURE as readonly string[]).includes(from)
    for (const spec of importSpecifiers(f.code)) {
      if (pure && isNodeBuiltin(spec)) out.push(`${f.path}: pure folder imports '${spec}'`)
      if (!spec.startsWith('.')) continue
      const target = resolveRelative(f.path, spec)
      const to = target.startsWith('..') ? '(outside src)' : topFolder(target)
      if (pure && !PURE_MAY_IMPORT[from as (typeof PURE)[number]].includes(to)) {
        out.push(`${f.path}: ${from}/ may not import from ${to}/ ('${spec}')`)
      } else if (RANK[from] !== undefined && (RANK[to] ?? 0) > (RANK[from] as number)) {
        out.push(`${f.path}: ${from}/ may not import from ${to}/, a higher layer ('${spec}')`)
      }
    }
  }
  return out
}

/** findCycles returns each import cycle once, as a path that starts and ends at the same file. */
function findCycles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  const state = new Map<string, 'active' | 'done'>()
  const stack: string[] = []
  const cycles: string[][] = []
  const visit = (n: string): void => {
    state.set(n, 'active')
    stack.push(n)
    for (const m of graph.get(n) ?? []) {
      if (state.get(m) === 'active') cycles.push([...stack.slice(stack.indexOf(m)), m])
      else if (!state.has(m)) visit(m)
    }
    stack.pop()
    state.set(n, 'done')
  }
  for (const n of [...graph.keys()].sort()) if (!state.has(n)) visit(n)
  return cycles
}

function importGraph(files: readonly SourceFile[]): Map<string, string[]> {
  const known = new Set(files.map((f) => f.path))
  return new Map(
    files.map((f) => [
      f.path,
      importSpecifiers(f.code)
        .filter((s) => s.startsWith('.'))
        .map((s) => resolveRelative(f.path, s))
        .filter((p) => known.has(p)),
    ]),
  )
}

describe('tidy', () => {
  const files = loadSources()

  it('finds the source tree', () => {
    assert.ok(
      files.some((f) => f.path === 'core/ids.ts'),
      `no src/core/ids.ts under ${ROOT}`,
    )
  })

  it('keeps pure folders free of clocks, timers, unseeded randomness and process', () => {
    const out: string[] = []
    for (const f of files.filter((f) => (PURE as readonly string[]).includes(topFolder(f.path)))) {
      for (const [re, name] of BANNED_IN_PURE) if (re.test(f.code)) out.push(`${f.path}: uses ${name}`)
    }
    assert.deepStrictEqual(out, [])
  })

  it('respects the layering and keeps node: modules out of pure folders', () => {
    assert.deepStrictEqual(layeringViolations(files), [])
  })

  it('has no import cycles in src/', () => {
    assert.deepStrictEqual(
      findCycles(importGraph(files)).map((c) => c.join(' -> ')),
      [],
    )
  })

  it('leaves no FIXME or XXX in src/', () => {
    const out = files.filter((f) => /\b(FIXME|XXX)\b/.test(f.text)).map((f) => f.path)
    assert.deepStrictEqual(out, [])
  })

  it(`keeps every file in src/ at most ${LINES_MAX} lines`, () => {
    const out = files
      .map((f) => ({ path: f.path, lines: f.text.split('\n').length - (f.text.endsWith('\n') ? 1 : 0) }))
      .filter((f) => f.lines > LINES_MAX)
      .map((f) => `${f.path}: ${f.lines} lines`)
    assert.deepStrictEqual(out, [])
  })

  // The checks above are only as good as their parsing; these pin it down.
  it('parses imports and comments as the checks assume', () => {
    const sample = [
      "import { a } from './a.js' // from './not-this.js'",
      "import type {\n  B,\n} from '../b/b.js'",
      "export * from './c.js'",
      "import './d.js'",
      "const e = await import('node:fs')",
      "/* import { x } from './x.js' */ const s = 'http://example' // Date.now",
    ].join('\n')
    const code = stripComments(sample)
    assert.deepStrictEqual(importSpecifiers(code).sort(), [
      '../b/b.js',
      './a.js',
      './c.js',
      './d.js',
      'node:fs',
    ])
    assert.ok(code.includes("'http://example'") && !code.includes('Date.now'))
    assert.deepStrictEqual(
      findCycles(
        new Map([
          ['a', ['b']],
          ['b', ['c']],
          ['c', ['a']],
          ['d', ['d']],
        ]),
      ),
      [
        ['a', 'b', 'c', 'a'],
        ['d', 'd'],
      ],
    )
  })
})
