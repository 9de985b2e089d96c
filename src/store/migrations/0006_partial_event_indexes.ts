import { sql, type Kysely, type Migration } from 'kysely';

/** Events of known people carry no anonymous id, and many events no id: index only the rows that have one. */
export const partialEventIndexesMigration: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema.dropIndex('events_event_id').execute();
    await db.schema.dropIndex('events_anonymous').execute();
    await db.schema
      .createIndex('events_event_id')
      .unique()
      .on('events')
      .columns(['workspace_pk', 'event_id'])
      .where(sql.ref('event_id'), 'is not', null)
      .execute();
    await db.schema
      .createIndex('events_anonymous')
      .on('events')
      .columns(['workspace_pk', 'anonymous_id'])
      .where(sql.ref('anonymous_id'), 'is not', null)
      .execute();
  },
};
