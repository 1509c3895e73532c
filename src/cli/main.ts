#!/usr/bin/env node
import { Command, InvalidArgumentError, Option } from 'commander'
import type { RaftTestingBug } from '../engines/raft/options.js'
import { type RawServeOptions, SERVE_OPTIONS, type ServeOptionName } from '../server/config.js'
import { runCheckCommand } from './check-cli.js'
import { runClusterUp } from './cluster-command.js'
import { runDemo } from './demo.js'
import { type KvCommand, runKvCommand } from './kv-commands.js'
import { runServe } from './serve-command.js'
import { parseNemesis, parseSeeds, runSimCommand } from './sim-command.js'
import { runStatus } from './status-command.js'

/** The `synod` command. Each subcommand lives in its own module; this file only wires them. */

function integer(value: string): number {
  const n = Number(value)
  if (!Number.isSafeInteger(n)) throw new InvalidArgumentError('not an integer')
  return n
}

const BUGS: readonly RaftTestingBug[] = [
  'commitPreviousTermByCount',
  'unpersistedVote',
  'readWithoutBarrier',
  'applyBeforeCommit',
]

const program = new Command()
program.name('synod').description('Synod: replicated state machines and coordination for Node.js')

program
  .command('demo')
  .description('run a 3-node Raft group in this process: election, replication, reads, failover')
  .option('--seed <n>', 'seed for election timeouts', integer, 7)
  .action((opts: { seed: number }) => {
    process.exitCode = runDemo(opts.seed)
  })

program
  .command('sim')
  .description('simulate many seeds under injected faults and check every history for linearizability')
  .addOption(new Option('--engine <name>', 'consensus engine').choices(['raft']).default('raft'))
  .option('--seeds <spec>', 'seeds to run: 7, 1-500 or 1,5,9-12', '1-100')
  .option('--nemesis <faults>', 'partition,crash,drop,dup,reorder,skew,disk, all or none', 'all')
  .option('--nodes <n>', 'group size', integer, 3)
  .addOption(
    new Option('--read-mode <mode>', 'how leaders confirm reads').choices(['safe', 'lease']).default('safe'),
  )
  .addOption(new Option('--bug <name...>', 'plant a known bug (to see it caught)').choices([...BUGS]))
  .option('--out <dir>', 'where failing seeds leave their history and timeline', 'sim-failures')
  .option('--json', 'print a machine-readable summary')
  .action(
    (o: {
      engine: 'raft'
      seeds: string
      nemesis: string
      nodes: number
      readMode: 'safe' | 'lease'
      bug?: RaftTestingBug[]
      out: string
      json?: boolean
    }) => {
      process.exitCode = runSimCommand(
        {
          engine: o.engine,
          seeds: parseSeeds(o.seeds),
          nemesis: parseNemesis(o.nemesis),
          nodes: o.nodes,
          readMode: o.readMode,
          bugs: o.bug ?? [],
          json: o.json === true,
          out: o.out,
          progress: o.json !== true && process.stderr.isTTY === true,
        },
        (line) => process.stdout.write(`${line}\n`),
        (s) => process.stderr.write(s),
      )
    },
  )

program
  .command('check')
  .description(
    'check a history file for linearizability (exit 0: linearizable, 1: not, 2: bad input, 3: undecided)',
  )
  .argument('<history>', 'history JSON file (format in README)')
  .option('--html <file>', 'where to write the HTML timeline', 'timeline.html')
  .option('--json', 'print the verdict as JSON')
  .option('--max-steps <n>', 'search budget per key (undecided past it)', integer)
  .action(async (history: string, o: { html: string; json?: boolean; maxSteps?: number }) => {
    const opts = { html: o.html, json: o.json === true, maxSteps: o.maxSteps }
    process.exitCode = await runCheckCommand(history, opts, (line) => process.stdout.write(`${line}\n`))
  })

const serve = program
  .command('serve')
  .description('run one member: WAL in --data-dir, peers over TCP, clients on --listen-client')
  .option('--config-file <path>', 'JSON file of options named as the flags ("data-dir": …)')
for (const [, spec] of Object.entries(SERVE_OPTIONS)) {
  serve.option(`--${spec.flag} <value>`, `${spec.help} (default ${spec.default || 'derived'})`)
}
serve.action(async (o: Record<string, string>) => {
  // Commander names a flag's value by camel-casing it; map back to our option names.
  const flags: RawServeOptions = {}
  for (const [option, spec] of Object.entries(SERVE_OPTIONS)) {
    const v = o[spec.flag.replace(/-(\w)/g, (_, c: string) => c.toUpperCase())]
    if (v !== undefined) flags[option as ServeOptionName] = v
  }
  await runServe(flags, o.configFile)
})

program
  .command('cluster')
  .description('local clusters of separate processes')
  .command('up')
  .description('start a local cluster, print its endpoints, stream its logs; Ctrl-C stops it')
  .option('--nodes <n>', 'members', integer, 3)
  .option('--data-dir <dir>', 'data dirs go under <dir>/<name>', 'data')
  .option('--port-base <port>', 'member i listens on base+2i (client) and base+2i+1 (peer)', integer, 2379)
  .option('--host <host>', 'address to listen on', '127.0.0.1')
  .argument('[serve-flags...]', 'passed to every member after --, e.g. -- --heartbeat-interval 50')
  .action(async (extra: string[], o: { nodes: number; dataDir: string; portBase: number; host: string }) => {
    const opts = { nodes: o.nodes, dataDir: o.dataDir, portBase: o.portBase, host: o.host, extraArgs: extra }
    process.exitCode = await runClusterUp(opts, (line) => process.stdout.write(`${line}\n`))
  })

const DEFAULT_ENDPOINTS = '127.0.0.1:2379,127.0.0.1:2381,127.0.0.1:2383'

/** kv runs one put/get/del against the interim client port, finding the leader. */
async function kv(endpoints: string, cmd: KvCommand): Promise<void> {
  const list = endpoints.split(',').map((e) => e.trim().replace(/^https?:\/\//, ''))
  const print = (stream: NodeJS.WriteStream) => (line: string) => stream.write(`${line}\n`)
  process.exitCode = await runKvCommand(list, cmd, print(process.stdout), print(process.stderr))
}

program
  .command('put')
  .description('write a key (acknowledged once a quorum has it on disk); prints OK')
  .argument('<key>')
  .argument('<value>')
  .option('--endpoints <list>', 'client addresses, comma-separated', DEFAULT_ENDPOINTS)
  .action((key: string, value: string, o: { endpoints: string }) =>
    kv(o.endpoints, { op: 'put', key, value }),
  )

program
  .command('get')
  .description('read a key (linearizable unless --consistency s); prints its value, nothing if absent')
  .argument('<key>')
  .option('--endpoints <list>', 'client addresses, comma-separated', DEFAULT_ENDPOINTS)
  .addOption(
    new Option('--consistency <level>', 'l: linearizable, s: serializable').choices(['l', 's']).default('l'),
  )
  .action((key: string, o: { endpoints: string; consistency: 'l' | 's' }) =>
    kv(o.endpoints, { op: 'get', key, serializable: o.consistency === 's' }),
  )

program
  .command('del')
  .description('delete a key; prints the number of keys deleted')
  .argument('<key>')
  .option('--endpoints <list>', 'client addresses, comma-separated', DEFAULT_ENDPOINTS)
  .action((key: string, o: { endpoints: string }) => kv(o.endpoints, { op: 'del', key }))

program
  .command('status')
  .description("each member's role, term, leader, commit and applied index, and WAL size")
  .option(
    '--endpoints <list>',
    'client addresses, comma-separated',
    '127.0.0.1:2379,127.0.0.1:2381,127.0.0.1:2383',
  )
  .option('--json', 'print JSON')
  .action(async (o: { endpoints: string; json?: boolean }) => {
    const endpoints = o.endpoints.split(',').map((e) => e.trim().replace(/^https?:\/\//, ''))
    process.exitCode = await runStatus(endpoints, o.json === true, (line) =>
      process.stdout.write(`${line}\n`),
    )
  })

program.parseAsync(process.argv).catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err))
  process.exitCode = 2
})
