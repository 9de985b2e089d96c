import type { Kysely, Migration } from 'kysely';

/** Segment messageIds seen, so every call type is deduplicated for at least 7 days, across restarts. */
export const segmentMigration: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('segment_messages')
      .addColumn('workspace_pk', 'integer', (c) => c.notNull())
      .addColumn('message_id', 'text', (c) => c.notNull())
      .addColumn('received_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('segment_messages_pk', ['workspace_pk', 'message_id'])
      .execute();
    await db.schema.createIndex('segment_messages_received').on('segment_messages').column('received_at').execute();
  },
};
