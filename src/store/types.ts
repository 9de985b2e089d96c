import { PostgresAdapter, type Kysely } from 'kysely';
import type { Database } from './schema.js';

/** A database handle or an open transaction on it. */
export type Db = Kysely<Database>;

/** True on PostgreSQL, for the few queries that differ (row locks). */
export const onPostgres = (db: Db): boolean => db.getExecutor().adapter instanceof PostgresAdapter;

/** Rows read inside a write transaction on PostgreSQL are locked (`FOR UPDATE`); SQLite's writer is already alone. */
export const lockRows = (db: Db): boolean => db.isTransaction && onPostgres(db);

/**
 * A failure another transaction caused and a retry may not meet again: a unique key taken by a concurrent insert,
 * a deadlock or serialization failure (PostgreSQL), a busy database (SQLite).
 */
export function isRetryableConflict(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return (
    code === '23505' ||
    code === '40001' ||
    code === '40P01' ||
    code === 'SQLITE_CONSTRAINT_UNIQUE' ||
    code === 'SQLITE_BUSY' ||
    code === 'SQLITE_BUSY_SNAPSHOT'
  );
}
