/**
 * Logger is the structured log the edges write to (storage, transport, the node process). Its
 * shape is pino's, so a pino logger is one; tests pass `silentLogger` or a recording logger.
 * Pure folders never log: they report through return values, and the host logs for them.
 */
export interface Logger {
  debug(fields: object, msg: string): void
  info(fields: object, msg: string): void
  warn(fields: object, msg: string): void
  error(fields: object, msg: string): void
}

export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
}

export interface LogLine {
  readonly level: 'debug' | 'info' | 'warn' | 'error'
  readonly fields: object
  readonly msg: string
}

/** recordingLogger keeps every line, for tests that assert what was logged. */
export function recordingLogger(): Logger & { readonly lines: LogLine[] } {
  const lines: LogLine[] = []
  const at =
    (level: LogLine['level']) =>
    (fields: object, msg: string): void => {
      lines.push({ level, fields, msg })
    }
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') }
}
