import type { Db } from './types.js';

/** One call that was dropped or failed a rule, as the workspace's integration log keeps it. */
export interface IntegrationLogEntry {
  surface: string;
  messageId?: string | null;
  reference?: string | null;
  outcome: string;
  reason: string;
}

/** The workspace's integration log: what was dropped or refused, and why. */
export const integrationLogStore = {
  async record(db: Db, workspacePk: number, e: IntegrationLogEntry, now: number): Promise<void> {
    await db
      .insertInto('integration_log')
      .values({
        workspace_pk: workspacePk,
        ts: now,
        surface: e.surface,
        message_id: e.messageId ?? null,
        reference: e.reference ?? null,
        outcome: e.outcome,
        reason: e.reason,
      })
      .execute();
  },

  async list(db: Db, workspacePk: number, limit = 100) {
    return db
      .selectFrom('integration_log')
      .selectAll()
      .where('workspace_pk', '=', workspacePk)
      .orderBy('pk', 'desc')
      .limit(limit)
      .execute();
  },
};
