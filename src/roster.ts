import type { FastifyInstance, FastifyServerOptions } from 'fastify';
import { buildServer } from './http/server.js';
import { Writer } from './ingest/writer.js';
import { openSqliteStore, type Store } from './store/database.js';
import { loadMasterKey } from './store/secrets.js';

/** A running Roster: store, writer and HTTP server, started and stopped together. */
export interface Roster {
  store: Store;
  writer: Writer;
  app: FastifyInstance;
  masterKey: Buffer;
  /** Stop accepting, let in-flight requests finish and commit, close the database. */
  close(): Promise<void>;
}

/** Opens the data dir (migrating it) and builds the server, not yet listening. */
export async function createRoster(opts: {
  dataDir: string;
  logger?: FastifyServerOptions['logger'];
  /** Segment API requests per second per workspace (default ROSTER_SEGMENT_RATE_LIMIT, else no limit). */
  segmentRateLimit?: number;
}): Promise<Roster> {
  const store = await openSqliteStore(opts.dataDir);
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
  return {
    store,
    writer,
    app,
    masterKey,
    async close() {
      await app.close();
      await writer.close();
      await store.close();
    },
  };
}
