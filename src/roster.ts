import type { FastifyInstance, FastifyServerOptions } from 'fastify';
import { buildServer } from './http/server.js';
import { Writer } from './ingest/writer.js';
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
}): Promise<Roster> {
  const store = await openStore(
    { dataDir: opts.dataDir, databaseUrl: opts.databaseUrl ?? (process.env.DATABASE_URL || undefined) },
    { backgroundCheckpoints: true },
  );
  const masterKey = loadMasterKey(opts.dataDir);
  const writer = new Writer(store.writer);
  const app = buildServer({
    store,
    writer,
    masterKey,
    segmentRateLimit: opts.segmentRateLimit ?? Number(process.env.ROSTER_SEGMENT_RATE_LIMIT ?? 0),
    logger: opts.logger ?? false,
  });
  await app.ready();
  const jobs = new JobRunner(store, {
    pollMs: opts.jobPollMs ?? positiveOr(Number(process.env.ROSTER_JOB_POLL_MS), 5000),
    log: app.log,
  });
  registerRetentionJobs(jobs);
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
