import type { Kysely, Migration } from 'kysely';
import { pkType, primaryKey } from './dialect.js';

/** Objects (Segment groups), their relationships with people, and relationships waiting for an anonymous id's person. */
export const objectsMigration: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('objects')
      .addColumn('pk', pkType(db), primaryKey(db))
      .addColumn('workspace_pk', 'integer', (c) => c.notNull())
      .addColumn('object_type_id', 'text', (c) => c.notNull())
      .addColumn('object_id', 'text', (c) => c.notNull())
      .addColumn('attributes', 'text', (c) => c.notNull())
      .addColumn('attribute_ts', 'text', (c) => c.notNull())
      .addColumn('created_at_s', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex('objects_ref')
      .unique()
      .on('objects')
      .columns(['workspace_pk', 'object_type_id', 'object_id'])
      .execute();

    await db.schema
      .createTable('relationships')
      .addColumn('workspace_pk', 'integer', (c) => c.notNull())
      .addColumn('person_pk', 'integer', (c) => c.notNull())
      .addColumn('object_pk', 'integer', (c) => c.notNull())
      .addColumn('attributes', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('relationships_pk', ['workspace_pk', 'person_pk', 'object_pk'])
      .execute();
    await db.schema
      .createIndex('relationships_object')
      .on('relationships')
      .columns(['workspace_pk', 'object_pk', 'person_pk'])
      .execute();

    // An object related to an anonymous id that no person holds yet; moved to the person when the id is linked.
    await db.schema
      .createTable('pending_relationships')
      .addColumn('workspace_pk', 'integer', (c) => c.notNull())
      .addColumn('anonymous_id', 'text', (c) => c.notNull())
      .addColumn('object_pk', 'integer', (c) => c.notNull())
      .addColumn('attributes', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('pending_relationships_pk', ['workspace_pk', 'anonymous_id', 'object_pk'])
      .execute();
    await db.schema
      .createIndex('pending_relationships_object')
      .on('pending_relationships')
      .columns(['workspace_pk', 'object_pk'])
      .execute();
  },
};
