import type { Db } from './types.js';

/** Links from a device/browser anonymous id to the one person it belongs to. */
export const anonymousIdsStore = {
  async ownerOf(db: Db, workspacePk: number, anonymousId: string): Promise<number | null> {
    const row = await db
      .selectFrom('anonymous_ids')
      .select('person_pk')
      .where('workspace_pk', '=', workspacePk)
      .where('anonymous_id', '=', anonymousId)
      .executeTakeFirst();
    return row ? row.person_pk : null;
  },

  async link(db: Db, workspacePk: number, anonymousId: string, personPk: number, now: number): Promise<void> {
    await db
      .insertInto('anonymous_ids')
      .values({ workspace_pk: workspacePk, anonymous_id: anonymousId, person_pk: personPk, linked_at: now })
      .execute();
  },

  async moveToPerson(db: Db, workspacePk: number, fromPk: number, toPk: number): Promise<void> {
    await db
      .updateTable('anonymous_ids')
      .set({ person_pk: toPk })
      .where('workspace_pk', '=', workspacePk)
      .where('person_pk', '=', fromPk)
      .execute();
  },
};
