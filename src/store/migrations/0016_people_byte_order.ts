import { sql, type Kysely, type Migration } from 'kysely';
import { isPostgres } from './dialect.js';

/**
 * PostgreSQL: people's identifier columns compare as bytes (collation "C"), as SQLite's BINARY does and as Roster's
 * own orderings already ask for (duplicates.ts, people-filter.ts). Equality is the same in any deterministic
 * collation; what changes is the cost: under a libc locale (even C.UTF-8) each B-tree comparison of an id, email key
 * or cio_id copied both strings and called strcoll, which cost the batch ingest about 7% of PostgreSQL's time
 * (bench/README.md). The indexes on these columns are rebuilt; the table is not rewritten. SQLite: nothing to do.
 */
const columns = ['id', 'email_key', 'email_norm', 'cio_id'] as const;

const collateColumns = (db: Kysely<unknown>, collation: 'C' | 'default') =>
  sql`alter table people ${sql.join(
    columns.map((c) => sql`alter column ${sql.ref(c)} type text collate ${sql.id(collation)}`),
    sql`, `,
  )}`.execute(db);

export const peopleByteOrderMigration: Migration = {
  async up(db: Kysely<unknown>) {
    if (isPostgres(db)) await collateColumns(db, 'C');
  },
  async down(db: Kysely<unknown>) {
    if (isPostgres(db)) await collateColumns(db, 'default');
  },
};
