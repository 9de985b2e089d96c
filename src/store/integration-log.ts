import { sql, type Selectable } from 'kysely';
import { intendedDrops } from '../domain/outcomes.js';
import type { IntegrationLogTable } from './schema.js';
import type { Db } from './types.js';
import { unitOf } from './unit-of-work.js';

/** One call that was dropped or failed a rule, as the workspace's integration log keeps it. */
export interface IntegrationLogEntry {
  surface: string;
  messageId?: string | null;
  reference?: string | null;
  outcome: string;
  reason: string;
}

/** A stored integration-log row. */
export type IntegrationLogRow = Selectable<IntegrationLogTable>;

/** The workspace's integration log: what was dropped or refused, and why. */
export const integrationLogStore = {
  async record(db: Db, workspacePk: number, e: IntegrationLogEntry, now: number): Promise<void> {
    const unit = unitOf(db);
    if (unit) {
      // Column order of logTable.
      unit.addLog([workspacePk, now, e.surface, e.messageId ?? null, e.reference ?? null, e.outcome, e.reason]);
      return;
    }
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

  /**
   * Newest first, keyed by pk: rows below `beforePk` (all when undefined), optionally of one outcome. Paging by pk
   * is stable while rows are added: new rows get higher pks and never shift a page already read. (SQLite commits in
   * pk order, one writer at a time; on PostgreSQL concurrent writers can commit a lower pk late, which a walk then
   * misses, so a PostgreSQL deployment wants a commit-ordered key here.)
   */
  async newestFirst(
    db: Db,
    workspacePk: number,
    q: { beforePk?: number; outcome?: string; limit: number },
  ): Promise<IntegrationLogRow[]> {
    let query = db.selectFrom('integration_log').selectAll().where('workspace_pk', '=', workspacePk);
    if (q.beforePk !== undefined) query = query.where('pk', '<', q.beforePk);
    if (q.outcome !== undefined) query = query.where('outcome', '=', q.outcome);
    return query.orderBy('pk', 'desc').limit(q.limit).execute();
  },

  /**
   * Oldest first: the last `limit` rows, or with `afterPk` the first `limit` rows after it (for following the log).
   * `failuresOnly` leaves out the drops by design (domain/outcomes.ts).
   */
  async tail(
    db: Db,
    workspacePk: number,
    q: { afterPk?: number; failuresOnly?: boolean; limit: number },
  ): Promise<IntegrationLogRow[]> {
    let query = db.selectFrom('integration_log').selectAll().where('workspace_pk', '=', workspacePk);
    if (q.failuresOnly) query = query.where('outcome', 'not in', [...intendedDrops]);
    if (q.afterPk !== undefined) return query.where('pk', '>', q.afterPk).orderBy('pk').limit(q.limit).execute();
    return (await query.orderBy('pk', 'desc').limit(q.limit).execute()).reverse();
  },

  /**
   * How many rows of each outcome the workspace logged since `sinceMs`. The outcomes are found by skipping along
   * the (workspace_pk, outcome, ts) index (one seek per distinct outcome), then each is counted over its ts range,
   * so the cost follows the rows in the window and the number of outcomes, not the size of the log.
   */
  async countsByOutcome(db: Db, workspacePk: number, sinceMs: number): Promise<Record<string, number>> {
    const { rows } = await sql<{ outcome: string; n: number | string }>`
      with recursive outcomes(outcome) as (
        select min(outcome) from integration_log where workspace_pk = ${workspacePk}
        union all
        select (select min(l.outcome) from integration_log l where l.workspace_pk = ${workspacePk} and l.outcome > o.outcome)
        from outcomes o where o.outcome is not null
      )
      select o.outcome as outcome,
        (select count(*) from integration_log c
          where c.workspace_pk = ${workspacePk} and c.outcome = o.outcome and c.ts >= ${sinceMs}) as n
      from outcomes o where o.outcome is not null`.execute(db);
    const counts: Record<string, number> = {};
    for (const r of rows) if (Number(r.n) > 0) counts[r.outcome] = Number(r.n);
    return counts;
  },

  /** Deletes up to `batch` of the workspace's rows older than `before` (unix ms); returns how many. */
  async purgeBefore(db: Db, workspacePk: number, before: number, batch: number): Promise<number> {
    const r = await db
      .deleteFrom('integration_log')
      .where('pk', 'in', (eb) =>
        eb
          .selectFrom('integration_log')
          .select('pk')
          .where('workspace_pk', '=', workspacePk)
          .where('ts', '<', before)
          .limit(batch),
      )
      .executeTakeFirst();
    return Number(r.numDeletedRows);
  },
};
