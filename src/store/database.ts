import BetterSqlite3 from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect, type DatabaseConnection } from 'kysely';
import { connectionSettings } from './planner.js';
import pg from 'pg';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { startCheckpointer } from './checkpointer.js';
import { migrateToLatest } from './migrations/index.js';
import type { Database } from './schema.js';

/** The open store: one connection that writes (the ingest writer's), one that reads, both on the same file. */
export interface Store {
  dialect: 'sqlite' | 'postgres';
  /** Used only by the single writer per process, inside its transactions, and by admin commands. */
  writer: Kysely<Database>;
  /** Reads that must never wait behind a write batch; WAL lets them see the last committed state. */
  reader: Kysely<Database>;
  file: string;
  close(): Promise<void>;
}

// Kysely prepares every query afresh; caching statements by SQL text saves most of the cost on the hot path.
function withStatementCache(db: BetterSqlite3.Database, max = 512) {
  const cache = new Map<string, BetterSqlite3.Statement>();
  return {
    prepare(sql: string) {
      // A writing transaction takes the write lock when it begins, so a write from another process makes it wait
      // (busy_timeout) instead of failing midway with SQLITE_BUSY_SNAPSHOT when it upgrades from reading.
      if (sql === 'begin' && !db.readonly) sql = 'begin immediate';
      let stmt = cache.get(sql);
      if (stmt === undefined) {
        stmt = db.prepare(sql);
        if (cache.size >= max) cache.delete(cache.keys().next().value as string);
        cache.set(sql, stmt);
      }
      return stmt;
    },
    close() {
      cache.clear();
      db.close();
    },
  };
}

function openConnection(file: string, readonly: boolean, autoCheckpoint = true): BetterSqlite3.Database {
  const db = new BetterSqlite3(file, { readonly });
  db.pragma('busy_timeout = 5000');
  // SQLite's default page cache is 2 MB: past that, every index page a random key (cio_id, event id) lands on is
  // read back from the OS. The writer keeps 64 MB of pages, a reader 32 MB (memory only as pages are used).
  db.pragma(`cache_size = -${readonly ? 32 * 1024 : 64 * 1024}`);
  if (!readonly) {
    db.pragma('journal_mode = WAL');
    // NORMAL in WAL mode: a committed transaction survives a killed process; only an OS crash can lose the last few.
    db.pragma(`synchronous = ${process.env.ROSTER_SQLITE_SYNCHRONOUS === 'full' ? 'FULL' : 'NORMAL'}`);
    db.pragma('foreign_keys = ON');
    // A server checkpoints from a worker thread instead (checkpointer.ts); commands and tests keep SQLite's default.
    if (!autoCheckpoint) db.pragma('wal_autocheckpoint = 0');
  }
  return db;
}

/** How a store is opened. */
export interface OpenOptions {
  /** The server: WAL checkpoints run in a worker thread rather than inside the writer's commits. */
  backgroundCheckpoints?: boolean;
  /** Run migrations on open (default true); `roster migrate` runs them itself to report what ran. */
  migrate?: boolean;
}

/** Opens (creating if needed) the SQLite store in `dataDir` (its `roster.sqlite`) and runs migrations. */
export async function openSqliteStore(dataDir: string, opts: OpenOptions = {}): Promise<Store> {
  mkdirSync(dataDir, { recursive: true });
  return openSqliteFile(join(dataDir, 'roster.sqlite'), opts);
}

/** Opens (creating if needed) a SQLite store file, wherever it is and whatever its name, and runs migrations. */
export async function openSqliteFile(file: string, opts: OpenOptions = {}): Promise<Store> {
  const writeConn = openConnection(file, false, !opts.backgroundCheckpoints);
  const checkpointer = opts.backgroundCheckpoints ? startCheckpointer(file) : null;
  const writer = new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(writeConn) }) });
  if (opts.migrate !== false) await migrateToLatest(writer as Kysely<unknown>);
  const reader = new Kysely<Database>({
    dialect: new SqliteDialect({ database: withStatementCache(openConnection(file, true)) }),
  });
  return {
    dialect: 'sqlite',
    writer,
    reader,
    file,
    async close() {
      await reader.destroy();
      await checkpointer?.stop();
      await writer.destroy();
    },
  };
}

// int8 (bigint) columns hold unix-ms times and counts, all far below 2^53: read them as numbers, as SQLite does.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));

/**
 * PostgreSQL text cannot hold U+0000 (SQLite can): a NUL in an event name, a device token or a logged reference
 * made the statement fail and the call answer 500. Parameters are sent with each NUL replaced by U+FFFD, so such a
 * call is stored (and found again by the same string) instead. JSON columns are unaffected: JSON escapes NUL.
 */
const withoutNul = (v: unknown): unknown =>
  typeof v === 'string'
    ? v.includes('\u0000')
      ? v.split('\u0000').join('\ufffd')
      : v
    : Array.isArray(v) // the writer's multi-row statements send a column as an array
      ? v.map(withoutNul)
      : v;
class NulSafeClient extends pg.Client {
  override query(...args: unknown[]): never {
    const [config, values] = args;
    if (Array.isArray(values)) args[1] = values.map(withoutNul);
    else if (config && typeof config === 'object' && Array.isArray((config as pg.QueryConfig).values))
      args[0] = { ...(config as pg.QueryConfig), values: (config as pg.QueryConfig).values!.map(withoutNul) };
    return (super.query as (...a: unknown[]) => never)(...args);
  }
}

/** ROSTER_PG_WRITERS: batches in flight at once per process on PostgreSQL (1 to 16, default 1). */
export function pgWritersFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.ROSTER_PG_WRITERS;
  if (raw === undefined || raw === '') return defaultPgWriters;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 16)
    throw new Error(`ROSTER_PG_WRITERS must be an integer from 1 to 16, not ${raw}.`);
  return n;
}

export const defaultPgWriters = 1;

/**
 * Opens the PostgreSQL store at `url` and runs migrations (Kysely's migrator takes a lock, so several processes
 * may start at once). The writer pool is small: a connection for each batch the ingest writer has in flight
 * (ROSTER_PG_WRITERS) and two for admin commands and jobs, at least 4.
 */
export async function openPostgresStore(url: string, opts: Pick<OpenOptions, 'migrate'> = {}): Promise<Store> {
  const onCreateConnection = async (c: DatabaseConnection) => void (await c.executeQuery(connectionSettings));
  const writer = new Kysely<Database>({
    dialect: new PostgresDialect({
      pool: new pg.Pool({ connectionString: url, max: Math.max(4, pgWritersFromEnv() + 2), Client: NulSafeClient }),
      onCreateConnection,
    }),
  });
  if (opts.migrate !== false) await migrateToLatest(writer as Kysely<unknown>);
  const reader = new Kysely<Database>({
    dialect: new PostgresDialect({
      pool: new pg.Pool({ connectionString: url, max: 8, Client: NulSafeClient }),
      onCreateConnection,
    }),
  });
  return {
    dialect: 'postgres',
    writer,
    reader,
    file: url.replace(/\/\/[^@/]*@/, '//'),
    async close() {
      await reader.destroy();
      await writer.destroy();
    },
  };
}

/** The store the configuration names: PostgreSQL when `databaseUrl` is set, else the SQLite file in `dataDir`. */
export function openStore(config: { dataDir: string; databaseUrl?: string }, opts: OpenOptions = {}): Promise<Store> {
  return config.databaseUrl ? openPostgresStore(config.databaseUrl, opts) : openSqliteStore(config.dataDir, opts);
}
