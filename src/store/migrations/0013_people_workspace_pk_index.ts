import type { Kysely, Migration } from 'kysely';

/**
 * An index on people (workspace_pk, pk), for keyset pages of a workspace's people in pk order (filter search,
 * segment membership, exports). Without it both databases read such a page through another index that starts with
 * workspace_pk (people_cio_id) and sort the whole workspace for every page: an export of N people took O(N²) time.
 */
export const peopleWorkspacePkIndexMigration: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createIndex('people_workspace_pk')
      .ifNotExists()
      .on('people')
      .columns(['workspace_pk', 'pk'])
      .execute();
  },
  async down(db: Kysely<unknown>) {
    await db.schema.dropIndex('people_workspace_pk').ifExists().execute();
  },
};
