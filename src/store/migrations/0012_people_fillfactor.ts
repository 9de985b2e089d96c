import { sql, type Kysely, type Migration } from 'kysely';
import { isPostgres } from './dialect.js';

/**
 * PostgreSQL: leave 15% of each people page free, so an update that changes only attributes (most identifies) can
 * write the new row version in the same page without touching the four identifier indexes (a HOT update).
 * SQLite updates rows in place and needs nothing.
 */
export const peopleFillfactorMigration: Migration = {
  async up(db: Kysely<unknown>) {
    if (isPostgres(db)) await sql`alter table people set (fillfactor = 85)`.execute(db);
  },
  async down(db: Kysely<unknown>) {
    if (isPostgres(db)) await sql`alter table people reset (fillfactor)`.execute(db);
  },
};
