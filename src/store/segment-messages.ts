import type { Db } from './types.js';

/** How long a Segment messageId is remembered for deduplication. */
export const segmentDedupeWindowMs = 7 * 24 * 3600 * 1000;

/** Segment messageIds already applied, per workspace. */
export const segmentMessagesStore = {
  /** Remembers the id; false when it was seen before (the message is a duplicate). */
  async remember(db: Db, workspacePk: number, messageId: string, now: number): Promise<boolean> {
    const r = await db
      .insertInto('segment_messages')
      .values({ workspace_pk: workspacePk, message_id: messageId, received_at: now })
      .onConflict((oc) => oc.doNothing())
      .executeTakeFirst();
    return Number(r.numInsertedOrUpdatedRows ?? 0) > 0;
  },

  /** Forgets up to `limit` ids received before `cutoff`; returns how many. */
  async purgeBefore(db: Db, cutoff: number, limit: number): Promise<number> {
    const r = await db
      .deleteFrom('segment_messages')
      .where(({ eb, refTuple, selectFrom }) =>
        eb(
          refTuple('workspace_pk', 'message_id'),
          'in',
          selectFrom('segment_messages')
            .select(['workspace_pk', 'message_id'])
            .where('received_at', '<', cutoff)
            .limit(limit)
            .$asTuple('workspace_pk', 'message_id'),
        ),
      )
      .executeTakeFirst();
    return Number(r.numDeletedRows);
  },
};
