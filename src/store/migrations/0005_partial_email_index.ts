import { sql, type Kysely, type Migration } from 'kysely';

/**
 * Partial indexes: only rows that have the value are indexed, so an identify writes fewer index entries.
 * - people_id, people_email_key: people without an id (leads) or without an email key hold no entry.
 * - people_email_norm: only people whose email is not a key (id_only workspaces); email_or_id people are found
 *   through the unique email_key index. Queries name `email_key is null` so the planner picks this index.
 */
export const partialEmailIndexMigration: Migration = {
  async up(db: Kysely<unknown>) {
    for (const name of ['people_id', 'people_email_key', 'people_email_norm'])
      await db.schema.dropIndex(name).execute();
    await db.schema
      .createIndex('people_id')
      .unique()
      .on('people')
      .columns(['workspace_pk', 'id'])
      .where(sql.ref('id'), 'is not', null)
      .execute();
    await db.schema
      .createIndex('people_email_key')
      .unique()
      .on('people')
      .columns(['workspace_pk', 'email_key'])
      .where(sql.ref('email_key'), 'is not', null)
      .execute();
    await db.schema
      .createIndex('people_email_norm')
      .on('people')
      .columns(['workspace_pk', 'email_norm'])
      .where((eb) => eb.and([eb(sql.ref('email_key'), 'is', null), eb(sql.ref('email_norm'), 'is not', null)]))
      .execute();
  },
};
