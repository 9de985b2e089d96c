import { PostgresAdapter, sql, type Kysely, type RawBuilder } from 'kysely';
import type { Database } from './schema.js';
import { isStaleResultType } from './pg-client.js';

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
    isStaleResultType(err) ||
    code === 'SQLITE_CONSTRAINT_UNIQUE' ||
    code === 'SQLITE_BUSY' ||
    code === 'SQLITE_BUSY_SNAPSHOT'
  );
}

/**
 * The right-hand side of `column in (…)` for a batch's worth of keys. SQLite: one JSON array parameter read by
 * `json_each`, so the statement's text, and with it the cached prepared statement, is the same for any number of keys,
 * and Kysely compiles one parameter instead of one per key (a fresh `in (?, ?, …)` of 2,000 keys cost ~40 µs a key
 * in the server, mostly compiling and preparing it). SQLite still searches the column's index once per key.
 * PostgreSQL: the list itself.
 */
export function keyList(db: Db, values: readonly string[]): RawBuilder<string> | string[] {
  return onPostgres(db) ? [...values] : sql<string>`(select value from json_each(${JSON.stringify(values)}))`;
}
