/** HostOptions bound every queue and batch of the host loop (STYLE.md: every queue has a named bound). */
export interface HostOptions {
  /** proposalsPerBatchMax: client commands handed to the engine as one batch (one fsync). */
  readonly proposalsPerBatchMax: number
  /** proposalQueueMax: commands waiting for the next batch; past it proposals are refused. */
  readonly proposalQueueMax: number
  /** readsPendingMax: linearizable reads waiting for their barrier; past it reads are refused. */
  readonly readsPendingMax: number
  /** snapshotEntries: take a snapshot every this many applied entries; 0 never. */
  readonly snapshotEntries: number
  /** snapshotRetainEntries: entries kept behind a snapshot, so slow followers need no snapshot. */
  readonly snapshotRetainEntries: number
}

export const DEFAULT_HOST_OPTIONS: HostOptions = {
  proposalsPerBatchMax: 1024,
  proposalQueueMax: 16_384,
  readsPendingMax: 16_384,
  snapshotEntries: 10_000,
  snapshotRetainEntries: 1_000,
}

export function validateHostOptions(o: HostOptions): void {
  const check = (v: number, min: number, name: string) => {
    if (!Number.isSafeInteger(v) || v < min)
      throw new RangeError(`host: ${name} must be an integer >= ${min}`)
  }
  check(o.proposalsPerBatchMax, 1, 'proposalsPerBatchMax')
  check(o.proposalQueueMax, 1, 'proposalQueueMax')
  check(o.readsPendingMax, 1, 'readsPendingMax')
  check(o.snapshotEntries, 0, 'snapshotEntries')
  check(o.snapshotRetainEntries, 0, 'snapshotRetainEntries')
}
