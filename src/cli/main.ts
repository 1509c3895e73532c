#!/usr/bin/env node
import { Command, InvalidArgumentError } from 'commander'
import { runDemo } from './demo.js'

/** The `synod` command. Each subcommand lives in its own module; this file only wires them. */

function integer(value: string): number {
  const n = Number(value)
  if (!Number.isSafeInteger(n)) throw new InvalidArgumentError('not an integer')
  return n
}

const program = new Command()
program.name('synod').description('Synod: replicated state machines and coordination for Node.js')

program
  .command('demo')
  .description('run a 3-node Raft group in this process: election, replication, reads, failover')
  .option('--seed <n>', 'seed for election timeouts', integer, 7)
  .action((opts: { seed: number }) => {
    process.exitCode = runDemo(opts.seed)
  })

program.parseAsync(process.argv).catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err))
  process.exitCode = 1
})
