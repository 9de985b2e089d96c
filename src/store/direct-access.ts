import type { CompiledQuery } from 'kysely';
import type { Db } from './types.js';

/**
 * Runs compiled SQL and answers its rows as arrays of column values, in the SELECT's order. `prepare`: PostgreSQL
 * keeps the statement prepared on each connection that runs it (SQLite's statements are cached anyway).
 */
export type ArrayRowRunner = (sql: string, parameters: readonly unknown[], prepare?: boolean) => Promise<unknown[][]>;

const runners = new WeakMap<Db, ArrayRowRunner>();

/**
 * Registers the array-row runner of a store's connection (database.ts does it for every store). Kysely only reads
 * rows as objects; a bulk read such as an export spends about as long building those objects as SQLite spends
 * reading the rows, so it asks the driver for arrays instead.
 */
export function registerArrayRows(db: Db, run: ArrayRowRunner): void {
  runners.set(db, run);
}

/**
 * Lets a transaction on a store's single connection (SQLite's writer) read array rows through the store's runner: the
 * runner's statements run on that same connection, so inside the transaction. Never for a pool (PostgreSQL), whose
 * runner takes any connection.
 */
export function shareArrayRows(trx: Db, db: Db): void {
  const run = runners.get(db);
  if (run !== undefined) runners.set(trx, run);
}

/**
 * The query's rows as arrays; `Row` is the caller's word for their shape. A handle without a runner (a transaction,
 * a store opened elsewhere) still answers, through Kysely's object rows. `prepare` is for a query run again and again
 * with other parameters: PostgreSQL then plans it once per connection rather than at every run (an email lookup
 * spent 0.8 ms planning and 0.2 ms running).
 */
export async function arrayRows<Row extends readonly unknown[] = unknown[]>(
  db: Db,
  query: CompiledQuery,
  opts: { prepare?: boolean } = {},
): Promise<Row[]> {
  const run = runners.get(db);
  if (run !== undefined) return (await run(query.sql, query.parameters, opts.prepare)) as unknown as Row[];
  const { rows } = await db.executeQuery<Record<string, unknown>>(query);
  return rows.map((row) => Object.values(row) as unknown as Row);
}

/** Where a store's data is, for code that opens connections of its own (worker threads). */
export type StoreLocation = { dialect: 'sqlite'; file: string } | { dialect: 'postgres'; url: string };

const locations = new WeakMap<Db, StoreLocation>();

export function registerLocation(db: Db, location: StoreLocation): void {
  locations.set(db, location);
}

/** Where the handle's database is, if it was opened by database.ts (not a transaction). */
export const locationOf = (db: Db): StoreLocation | undefined => locations.get(db);
