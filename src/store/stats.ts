import type { Db } from './types.js';

/** Tables whose rows are counted per workspace for the metrics. */
export type CountedTable = 'people' | 'events' | 'integration_log';

/**
 * The cheap queries behind `/metrics` (docs/operations.md, Metrics). Counting walks the primary key in ranges, so
 * each query reads a bounded slice: on SQLite, where a query blocks the event loop, none takes long.
 */
export const statsStore = {
  /** The largest primary key of the table (0 when empty): one index seek. */
  async maxPk(db: Db, table: CountedTable): Promise<number> {
    const row = await db
      .selectFrom(table)
      .select((eb) => eb.fn.max('pk').as('top'))
      .executeTakeFirst();
    return Number(row?.top ?? 0);
  },

  /** Rows with `after < pk <= upTo`, per workspace. */
  async countByWorkspace(db: Db, table: CountedTable, after: number, upTo: number): Promise<Map<number, number>> {
    const rows = await db
      .selectFrom(table)
      .select((eb) => ['workspace_pk', eb.fn.countAll().as('n')])
      .where('pk', '>', after)
      .where('pk', '<=', upTo)
      .groupBy('workspace_pk')
      .execute();
    return new Map(rows.map((r) => [Number(r.workspace_pk), Number(r.n)]));
  },

  /** Integration-log rows with `after < pk <= upTo`, per outcome. */
  async countByOutcome(db: Db, after: number, upTo: number): Promise<Map<string, number>> {
    const rows = await db
      .selectFrom('integration_log')
      .select((eb) => ['outcome', eb.fn.countAll().as('n')])
      .where('pk', '>', after)
      .where('pk', '<=', upTo)
      .groupBy('outcome')
      .execute();
    return new Map(rows.map((r) => [r.outcome, Number(r.n)]));
  },

  /** Jobs waiting or running, per status: a scan of the (status, run_at) index over the live jobs only. */
  async liveJobs(db: Db): Promise<{ queued: number; running: number }> {
    const rows = await db
      .selectFrom('jobs')
      .select((eb) => ['status', eb.fn.countAll().as('n')])
      .where('status', 'in', ['queued', 'running'])
      .groupBy('status')
      .execute();
    const out = { queued: 0, running: 0 };
    for (const r of rows) if (r.status === 'queued' || r.status === 'running') out[r.status] = Number(r.n);
    return out;
  },

  /** Public ids of the workspaces, by pk (metric labels). */
  async workspaceIds(db: Db): Promise<Map<number, string>> {
    const rows = await db.selectFrom('workspaces').select(['pk', 'public_id']).execute();
    return new Map(rows.map((r) => [r.pk, r.public_id]));
  },
};
