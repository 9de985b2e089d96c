import { keyList, type Db } from './types.js';
import { unitOf } from './unit-of-work.js';

/** How long a Segment messageId is remembered for deduplication. */
export const segmentDedupeWindowMs = 7 * 24 * 3600 * 1000;

/** Segment messageIds already applied, per workspace. */
export const segmentMessagesStore = {
  /** Remembers the id; false when it was seen before (the message is a duplicate). */
  async remember(db: Db, workspacePk: number, messageId: string, now: number): Promise<boolean> {
    const unit = unitOf(db);
    if (unit) {
      let seen = unit.messageSeen(workspacePk, messageId);
      if (seen === undefined) {
        await segmentMessagesStore.prefetch(db, workspacePk, [messageId]);
        seen = unit.messageSeen(workspacePk, messageId)!;
      }
      if (seen) return false;
      unit.rememberMessage(workspacePk, messageId, true);
      unit.addMessage([workspacePk, messageId, now]);
      return true;
    }
    const r = await db
      .insertInto('segment_messages')
      .values({ workspace_pk: workspacePk, message_id: messageId, received_at: now })
      .onConflict((oc) => oc.doNothing())
      .executeTakeFirst();
    return Number(r.numInsertedOrUpdatedRows ?? 0) > 0;
  },

  /** Reads which of the ids were seen into the transaction's unit of work, in one query. */
  async prefetch(db: Db, workspacePk: number, messageIds: string[]): Promise<void> {
    const unit = unitOf(db);
    if (!unit || messageIds.length === 0) return;
    const rows = await db
      .selectFrom('segment_messages')
      .select('message_id')
      .where('workspace_pk', '=', workspacePk)
      .where('message_id', 'in', keyList(db, [...new Set(messageIds)]))
      .execute();
    for (const id of messageIds) unit.rememberMessage(workspacePk, id, false);
    for (const r of rows) unit.rememberMessage(workspacePk, r.message_id, true);
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
