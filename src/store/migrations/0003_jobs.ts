import type { Kysely, Migration } from 'kysely';
import { pkType, primaryKey } from './dialect.js';

/** The job queue (recurring housekeeping such as retention), and the indexes that make the integration log readable. */
export const jobsMigration: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('jobs')
      .addColumn('pk', pkType(db), primaryKey(db))
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('run_at', 'bigint', (c) => c.notNull())
      .addColumn('payload', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('claimed_by', 'text')
      .addColumn('lease_until', 'bigint')
      .addColumn('last_error', 'text')
      // Unique: a job with a key is queued once however many processes enqueue it (NULLs never collide).
      .addColumn('dedupe_key', 'text', (c) => c.unique())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('jobs_due').on('jobs').columns(['status', 'run_at']).execute();

    // Counts per outcome over a window (a range per outcome), and `type=` filtered pages of the workspace feed.
    await db.schema
      .createIndex('integration_log_outcome')
      .on('integration_log')
      .columns(['workspace_pk', 'outcome', 'ts'])
      .execute();
    // The workspace feed pages by pk (newest first), whatever the timestamps say.
    await db.schema.createIndex('integration_log_feed').on('integration_log').columns(['workspace_pk', 'pk']).execute();
  },
};
