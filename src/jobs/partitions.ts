import { ensureMonthlyPartitions } from '../store/partitions.js';
import type { JobRunner } from './runner.js';

/** The recurring partition maintenance job's kind (PostgreSQL only). */
export const maintainPartitionsKind = 'maintain_partitions';

/**
 * Registers the daily partition maintenance (scheduled once across all processes, claimed by one): it creates the
 * monthly partitions of events and activities for the current month and the next three, so inserts never reach
 * DEFAULT while the job runs at least once every three months. Only for PostgreSQL stores.
 */
export function registerPartitionJobs(runner: JobRunner, opts: { everyMs?: number } = {}): void {
  runner.register(maintainPartitionsKind, (_job, ctx) => ensureMonthlyPartitions(ctx.writer, { now: ctx.now }), {
    everyMs: opts.everyMs ?? 86_400_000,
  });
}
