import BetterSqlite3 from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect, type DatabaseConnection } from 'kysely';
import { connectionSettings } from './planner.js';
import pg from 'pg';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { startCheckpointer } from './checkpointer.js';
import { migrateToLatest } from './migrations/index.js';
import type { Database } from './schema.js';
import { registerArrayRows, registerLocation, type ArrayRowRunner } from './direct-access.js';
import { NulSafeClient, statementName } from './pg-client.js';

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

/** Array rows straight from better-sqlite3 (`raw` mode), with statements of their own: raw mode is per statement. */
function sqliteArrayRows(db: BetterSqlite3.Database, max = 32): ArrayRowRunner {
  const cache = new Map<string, BetterSqlite3.Statement<unknown[], unknown[]>>();
  return (sql, parameters) => {
    let stmt = cache.get(sql);
    if (stmt === undefined) {
      stmt = (db.prepare(sql) as BetterSqlite3.Statement<unknown[], unknown[]>).raw(true);
      if (cache.size >= max) cache.delete(cache.keys().next().value as string);
      cache.set(sql, stmt);
    }
    return Promise.resolve(stmt.all(...parameters) as unknown[][]);
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
    // When the WAL starts over after a checkpoint it is overwritten in place, not cut back; past 512 MB (after a burst,
    // or a long backup holding a snapshot) it is cut back to that. Under a steady load it holds about a second of
    // writes (the checkpointer starts it over once a second): 177 MB for the Segment mix at 38k msgs/s. A limit below
    // that (it was 64 MB) cut it back each time, and each commit past the cut appended to a growing file, which cost
    // a commit 40% more.
    db.pragma(`journal_size_limit = ${512 * 1024 * 1024}`);
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
  registerArrayRows(writer, sqliteArrayRows(writeConn));
  registerLocation(writer, { dialect: 'sqlite', file });
  if (opts.migrate !== false) await migrateToLatest(writer as Kysely<unknown>);
  const readConn = openConnection(file, true);
  const reader = new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(readConn) }) });
  registerArrayRows(reader, sqliteArrayRows(readConn));
  registerLocation(reader, { dialect: 'sqlite', file });
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

/** Connections that have Roster's settings (planner.ts), whichever of Kysely or postgresArrayRows opened them. */
const settled = new WeakSet<pg.PoolClient>();

/** Array rows through the pool, on a connection with the same settings as Kysely's. */
const postgresArrayRows =
  (pool: pg.Pool): ArrayRowRunner =>
  async (text, values, prepare) => {
    const client = await pool.connect();
    try {
      if (!settled.has(client)) {
        await client.query(connectionSettings.sql);
        settled.add(client);
      }
      const name = prepare ? statementName(text) : undefined;
      const { rows } = await client.query<unknown[]>({ name, text, values: [...values], rowMode: 'array' });
      client.release();
      return rows;
    } catch (err) {
      client.release(err as Error); // a connection that failed is closed rather than reused
      throw err;
    }
  };

/** ROSTER_PG_WRITERS: batches in flight at once per process on PostgreSQL (1 to 16, default 2). */
export function pgWritersFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.ROSTER_PG_WRITERS;
  if (raw === undefined || raw === '') return defaultPgWriters;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 16)
    throw new Error(`ROSTER_PG_WRITERS must be an integer from 1 to 16, not ${raw}.`);
  return n;
}

// Two by default: a process prepares its next batch while PostgreSQL works on the one before (the writer keeps their
// order, ingest/writer.ts; docs/scaling.md).
export const defaultPgWriters = 2;

/**
 * Opens the PostgreSQL store at `url` and runs migrations (Kysely's migrator takes a lock, so several processes
 * may start at once). The writer pool is small: a connection for each batch the ingest writer has in flight
 * (ROSTER_PG_WRITERS) and two for admin commands and jobs, at least 4.
 */
export async function openPostgresStore(url: string, opts: Pick<OpenOptions, 'migrate'> = {}): Promise<Store> {
  const onCreateConnection = async (c: DatabaseConnection) => void (await c.executeQuery(connectionSettings));
  const writePool = new pg.Pool({
    connectionString: url,
    max: Math.max(4, pgWritersFromEnv() + 2),
    Client: NulSafeClient,
  });
  const writer = new Kysely<Database>({ dialect: new PostgresDialect({ pool: writePool, onCreateConnection }) });
  registerArrayRows(writer, postgresArrayRows(writePool));
  registerLocation(writer, { dialect: 'postgres', url });
  if (opts.migrate !== false) await migrateToLatest(writer as Kysely<unknown>);
  const readPool = new pg.Pool({ connectionString: url, max: 8, Client: NulSafeClient });
  const reader = new Kysely<Database>({ dialect: new PostgresDialect({ pool: readPool, onCreateConnection }) });
  registerArrayRows(reader, postgresArrayRows(readPool));
  registerLocation(reader, { dialect: 'postgres', url });
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
