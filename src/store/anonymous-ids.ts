import { sql } from 'kysely';
import { lockRows, type Db } from './types.js';

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

  /**
   * The person the anonymous id is linked to, like ownerOf. When it is not linked, on PostgreSQL, the id is first
   * locked until the transaction ends and then read again: storing under an unlinked id and linking it (which adopts
   * what was stored under it) then take turns, so nothing is left behind under an id that is linked.
   */
  async ownerOrLock(db: Db, workspacePk: number, anonymousId: string): Promise<number | null> {
    const owner = await anonymousIdsStore.ownerOf(db, workspacePk, anonymousId);
    if (owner !== null || !lockRows(db)) return owner;
    await sql`select pg_advisory_xact_lock(hashtextextended(${anonymousId}, ${workspacePk}))`.execute(db);
    return anonymousIdsStore.ownerOf(db, workspacePk, anonymousId);
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
