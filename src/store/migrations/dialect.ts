import { PostgresAdapter, type ColumnDefinitionBuilder, type Kysely } from 'kysely';

/** True when the migration runs on PostgreSQL. */
export const isPostgres = (db: Kysely<unknown>): boolean => db.getExecutor().adapter instanceof PostgresAdapter;

/** The type of an auto-numbered primary key: SQLite's rowid alias must be exactly `integer`. */
export const pkType = (db: Kysely<unknown>) => (isPostgres(db) ? 'bigint' : 'integer');

/** An auto-numbered primary key: SQLite's autoincrementing rowid, PostgreSQL's identity column. */
export const primaryKey = (db: Kysely<unknown>) => (col: ColumnDefinitionBuilder) =>
  isPostgres(db) ? col.primaryKey().generatedByDefaultAsIdentity() : col.primaryKey().autoIncrement();
