import pino from 'pino'
import { fromEnv, fromFile, type RawServeOptions, resolveServeConfig } from '../server/config.js'
import { Member } from '../server/member.js'

/**
 * runServe is `synod serve`: one member process. It exits 1 when it cannot start (a corrupt or
 * foreign data dir, a port in use) or when its disk fails, and 0 after a graceful shutdown on
 * SIGTERM / SIGINT (the batch on its way to disk finishes and the WAL closes first).
 */
export async function runServe(flags: RawServeOptions, configFile: string | undefined): Promise<void> {
  const config = resolveServeConfig(configFile ? fromFile(configFile) : {}, fromEnv(process.env), flags)
  const log = pino({ level: config.logLevel, base: { member: config.name } })
  let member: Member
  try {
    member = await Member.start(config, log, () => {
      // Never retry a failed fsync: the page cache may have dropped the data. Exit and let a
      // supervisor restart us from what is really on disk.
      process.exit(1)
    })
  } catch (err) {
    log.fatal({}, err instanceof Error ? err.message : String(err))
    process.exitCode = 1
    return
  }
  let signalled = false
  const shutdown = (signal: string) => {
    if (signalled) return
    signalled = true
    log.info({ signal }, 'shutting down')
    member.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err: String(err) }, 'shutdown failed')
        process.exit(1)
      },
    )
  }
  process.on('SIGTERM', () => shutdown('SIGTERM'))
  process.on('SIGINT', () => shutdown('SIGINT'))
}
