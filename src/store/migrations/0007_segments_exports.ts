import type { Kysely, Migration } from 'kysely';
import { pkType, primaryKey } from './dialect.js';

/** Segments (manual and data-driven), manual memberships, customer exports and their CSV stored in chunks. */
export const segmentsExportsMigration: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('segments')
      .addColumn('pk', pkType(db), primaryKey(db))
      .addColumn('workspace_pk', 'integer', (c) => c.notNull())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('description', 'text', (c) => c.notNull())
      .addColumn('type', 'text', (c) => c.notNull())
      // The audience filter (JSON) of a data-driven segment; null for a manual one.
      .addColumn('filter', 'text')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('segments_ws').on('segments').columns(['workspace_pk', 'pk']).execute();

    await db.schema
      .createTable('segment_members')
      .addColumn('segment_pk', 'integer', (c) => c.notNull())
      .addColumn('person_pk', 'integer', (c) => c.notNull())
      .addColumn('workspace_pk', 'integer', (c) => c.notNull())
      .addColumn('added_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('segment_members_pk', ['segment_pk', 'person_pk'])
      .execute();
    // A person's segments, and removing a deleted person's memberships.
    await db.schema
      .createIndex('segment_members_person')
      .on('segment_members')
      .columns(['workspace_pk', 'person_pk'])
      .execute();

    await db.schema
      .createTable('exports')
      .addColumn('pk', pkType(db), primaryKey(db))
      .addColumn('workspace_pk', 'integer', (c) => c.notNull())
      .addColumn('type', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('filters', 'text', (c) => c.notNull())
      .addColumn('attributes', 'text')
      .addColumn('description', 'text', (c) => c.notNull())
      .addColumn('total', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('bytes', 'bigint', (c) => c.notNull().defaultTo(0))
      .addColumn('downloads', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('error', 'text')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('exports_ws').on('exports').columns(['workspace_pk', 'pk']).execute();

    // The finished CSV, in ~1 MB pieces, so any process on the database can serve it.
    await db.schema
      .createTable('export_chunks')
      .addColumn('export_pk', 'integer', (c) => c.notNull())
      .addColumn('seq', 'integer', (c) => c.notNull())
      .addColumn('data', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('export_chunks_pk', ['export_pk', 'seq'])
      .execute();
  },
};
