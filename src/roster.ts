import type { FastifyInstance, FastifyServerOptions } from 'fastify';
import { rateLimitsFromEnv, trustProxyFromEnv } from './http/access.js';
import { Metrics, metricsOptionsFromEnv } from './http/metrics.js';
import { buildServer } from './http/server.js';
import { Writer, type WriterOptions } from './ingest/writer.js';
import { registerExportJobs } from './jobs/exports.js';
import { registerPartitionJobs } from './jobs/partitions.js';
import { registerRetentionJobs } from './jobs/retention.js';
import { JobRunner } from './jobs/runner.js';
import { openStore, type Store } from './store/database.js';
import { loadMasterKey } from './store/secrets.js';

/** A running Roster: store, writer and HTTP server, started and stopped together. */
export interface Roster {
  store: Store;
  writer: Writer;
  /** Runs due jobs (retention and other housekeeping) from the queue shared by every process. */
  jobs: JobRunner;
  app: FastifyInstance;
  masterKey: Buffer;
  /** Stop accepting, let in-flight requests finish and commit, close the database. */
  close(): Promise<void>;
}

const positiveOr = (n: number, fallback: number) => (Number.isFinite(n) && n > 0 ? n : fallback);

/** Opens the data dir (migrating it) and builds the server, not yet listening. */
export async function createRoster(opts: {
  dataDir: string;
  /** PostgreSQL instead of the SQLite file in dataDir (default: DATABASE_URL). */
  databaseUrl?: string;
  logger?: FastifyServerOptions['logger'];
  /** Segment API requests per second per workspace (default ROSTER_SEGMENT_RATE_LIMIT, else no limit). */
  segmentRateLimit?: number;
  /** How often the job runner looks for due jobs, in ms (default ROSTER_JOB_POLL_MS, else 5000). */
  jobPollMs?: number;
  /** The ingest writer's batch size and (PostgreSQL) batches in flight, when not the defaults. */
  writer?: Pick<WriterOptions, 'maxBatch' | 'writers'>;
}): Promise<Roster> {
  const store = await openStore(
    { dataDir: opts.dataDir, databaseUrl: opts.databaseUrl ?? (process.env.DATABASE_URL || undefined) },
    { backgroundCheckpoints: true },
  );
  const masterKey = loadMasterKey(opts.dataDir);
  const metrics = new Metrics(store.reader, metricsOptionsFromEnv(process.env));
  await metrics.start();
  const writer = new Writer(store.writer, { ...opts.writer, onBatch: metrics.onBatch });
  // The runner is made after the server; an export queued before then waits for its first poll.
  const made: { jobs?: JobRunner } = {};
  const app = buildServer({
    store,
    writer,
    masterKey,
    rateLimits: rateLimitsFromEnv(process.env),
    segmentRateLimit: opts.segmentRateLimit,
    logger: opts.logger ?? false,
    onExportQueued: () =>
      void made.jobs?.runDueJobs().catch((err: unknown) => app.log.error({ err }, 'jobs: run failed')),
    exportLinkTtlMs: positiveOr(Number(process.env.ROSTER_EXPORT_LINK_TTL_MS), 15 * 60 * 1000),
    trustProxy: trustProxyFromEnv(process.env.ROSTER_TRUST_PROXY),
    metrics,
    metricsToken: process.env.ROSTER_METRICS_TOKEN || undefined,
  });
  await app.ready();
  const jobs = new JobRunner(store, {
    pollMs: opts.jobPollMs ?? positiveOr(Number(process.env.ROSTER_JOB_POLL_MS), 5000),
    log: app.log,
  });
  registerRetentionJobs(jobs);
  registerExportJobs(jobs);
  made.jobs = jobs;
  if (store.dialect === 'postgres') registerPartitionJobs(jobs);
  await jobs.start();
  return {
    store,
    writer,
    jobs,
    app,
    masterKey,
    async close() {
      // The job in hand finishes (cut short at its next safe point) while requests drain.
      // Keep-alive connections whose last request finishes after close began would otherwise idle until their
      // timeout: close each as soon as it goes idle.
      const sweep = setInterval(() => app.server.closeIdleConnections(), 20);
      try {
        await Promise.all([app.close(), jobs.stop()]);
      } finally {
        clearInterval(sweep);
      }
      await writer.close();
      await store.close();
    },
  };
}
