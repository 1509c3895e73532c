/**
 * The write-ahead log: the real node's Storage (DESIGN.md in this folder). openWal opens or
 * creates a log directory and returns a Wal with what the directory held.
 */
export { WalCorruptionError } from './errors.js'
export { type FileOps, nodeFileOps, type WalFile } from './file-ops.js'
export { type OpenedWal, openWal, type WalEnv } from './open.js'
export { DEFAULT_WAL_OPTIONS, type WalOptions } from './options.js'
export { RecordTooLargeError } from './record.js'
export { Wal } from './wal.js'
