import type { Kysely, Migration } from 'kysely';
import { pkType, primaryKey } from './dialect.js';

/** Workspaces, keys, people, events, activities, anonymous ids, devices, suppressions, integration log. */
export const coreMigration: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('workspaces')
      .addColumn('pk', pkType(db), primaryKey(db))
      .addColumn('public_id', 'text', (c) => c.notNull().unique())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('site_id', 'text', (c) => c.notNull().unique())
      .addColumn('identifiers', 'text', (c) => c.notNull())
      .addColumn('allow_email_update_by_id', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('anonymous_retention_days', 'integer', (c) => c.notNull().defaultTo(30))
      .addColumn('segment_convert_timestamps', 'integer', (c) => c.notNull().defaultTo(1))
      .addColumn('webhook_secret_enc', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('api_keys')
      .addColumn('pk', pkType(db), primaryKey(db))
      .addColumn('workspace_pk', 'integer', (c) => c.notNull().references('workspaces.pk').onDelete('cascade'))
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('key_hash', 'text', (c) => c.notNull().unique())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('expires_at', 'bigint')
      .execute();
    await db.schema
      .createTable('people')
      .addColumn('pk', pkType(db), primaryKey(db))
      .addColumn('workspace_pk', 'integer', (c) => c.notNull())
      .addColumn('cio_id', 'text', (c) => c.notNull())
      .addColumn('id', 'text')
      .addColumn('email', 'text')
      .addColumn('email_norm', 'text')
      .addColumn('email_key', 'text')
      .addColumn('attributes', 'text', (c) => c.notNull())
      .addColumn('attribute_ts', 'text', (c) => c.notNull())
      .addColumn('unsubscribed', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('created_at_s', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('people_cio_id').unique().on('people').columns(['workspace_pk', 'cio_id']).execute();
    await db.schema.createIndex('people_id').unique().on('people').columns(['workspace_pk', 'id']).execute();
    await db.schema
      .createIndex('people_email_key')
      .unique()
      .on('people')
      .columns(['workspace_pk', 'email_key'])
      .execute();
    await db.schema.createIndex('people_email_norm').on('people').columns(['workspace_pk', 'email_norm']).execute();

    await db.schema
      .createTable('events')
      .addColumn('pk', pkType(db), primaryKey(db))
      .addColumn('workspace_pk', 'integer', (c) => c.notNull())
      .addColumn('person_pk', 'integer')
      .addColumn('anonymous_id', 'text')
      .addColumn('event_id', 'text')
      .addColumn('type', 'text', (c) => c.notNull())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('data', 'text', (c) => c.notNull())
      .addColumn('ts', 'bigint', (c) => c.notNull())
      .addColumn('received_at', 'bigint', (c) => c.notNull())
      .addColumn('merged', 'integer', (c) => c.notNull().defaultTo(0))
      .execute();
    await db.schema
      .createIndex('events_event_id')
      .unique()
      .on('events')
      .columns(['workspace_pk', 'event_id'])
      .execute();
    await db.schema.createIndex('events_person').on('events').columns(['workspace_pk', 'person_pk', 'ts']).execute();
    await db.schema.createIndex('events_anonymous').on('events').columns(['workspace_pk', 'anonymous_id']).execute();

    await db.schema
      .createTable('activities')
      .addColumn('pk', pkType(db), primaryKey(db))
      .addColumn('workspace_pk', 'integer', (c) => c.notNull())
      .addColumn('person_pk', 'integer', (c) => c.notNull())
      .addColumn('type', 'text', (c) => c.notNull())
      .addColumn('name', 'text')
      .addColumn('data', 'text', (c) => c.notNull())
      .addColumn('ts', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex('activities_person')
      .on('activities')
      .columns(['workspace_pk', 'person_pk', 'ts'])
      .execute();

    await db.schema
      .createTable('anonymous_ids')
      .addColumn('workspace_pk', 'integer', (c) => c.notNull())
      .addColumn('anonymous_id', 'text', (c) => c.notNull())
      .addColumn('person_pk', 'integer', (c) => c.notNull())
      .addColumn('linked_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('anonymous_ids_pk', ['workspace_pk', 'anonymous_id'])
      .execute();
    await db.schema
      .createIndex('anonymous_ids_person')
      .on('anonymous_ids')
      .columns(['workspace_pk', 'person_pk'])
      .execute();

    await db.schema
      .createTable('devices')
      .addColumn('workspace_pk', 'integer', (c) => c.notNull())
      .addColumn('token', 'text', (c) => c.notNull())
      .addColumn('person_pk', 'integer', (c) => c.notNull())
      .addColumn('platform', 'text', (c) => c.notNull())
      .addColumn('last_used_s', 'bigint')
      .addColumn('attributes', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('devices_pk', ['workspace_pk', 'token'])
      .execute();
    await db.schema.createIndex('devices_person').on('devices').columns(['workspace_pk', 'person_pk']).execute();

    await db.schema
      .createTable('suppressions')
      .addColumn('workspace_pk', 'integer', (c) => c.notNull())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('value', 'text', (c) => c.notNull())
      .addColumn('group_key', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('suppressions_pk', ['workspace_pk', 'kind', 'value'])
      .execute();
    await db.schema
      .createIndex('suppressions_group')
      .on('suppressions')
      .columns(['workspace_pk', 'group_key'])
      .execute();

    await db.schema
      .createTable('integration_log')
      .addColumn('pk', pkType(db), primaryKey(db))
      .addColumn('workspace_pk', 'integer', (c) => c.notNull())
      .addColumn('ts', 'bigint', (c) => c.notNull())
      .addColumn('surface', 'text', (c) => c.notNull())
      .addColumn('message_id', 'text')
      .addColumn('reference', 'text')
      .addColumn('outcome', 'text', (c) => c.notNull())
      .addColumn('reason', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('integration_log_ws').on('integration_log').columns(['workspace_pk', 'ts']).execute();
  },
};
