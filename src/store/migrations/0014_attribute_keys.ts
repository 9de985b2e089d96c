import { sql, type Kysely, type Migration } from 'kysely';
import { isPostgres } from './dialect.js';

/**
 * Every attribute name a workspace's people have been given (src/store/attribute-keys.ts keeps it up to date), so an
 * export of every attribute can name its columns without reading every person first (1M people: 0.7 s on SQLite,
 * 2.5 s on PostgreSQL). Filled here from the people already stored.
 */
export const attributeKeysMigration: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('attribute_keys')
      .addColumn('workspace_pk', 'integer', (c) => c.notNull())
      .addColumn('key', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('attribute_keys_pk', ['workspace_pk', 'key'])
      .execute();
    await (
      isPostgres(db)
        ? sql`insert into attribute_keys (workspace_pk, key) select distinct people.workspace_pk, k from people,
          jsonb_object_keys(cast(replace(people.attributes, '\\u0000', '\\ufffd') as jsonb)) k`
        : sql`insert into attribute_keys (workspace_pk, key) select distinct people.workspace_pk, j.key from people,
          json_each(people.attributes) j`
    ).execute(db);
  },
  async down(db: Kysely<unknown>) {
    await db.schema.dropTable('attribute_keys').execute();
  },
};
