import type { Selectable } from 'kysely';
import type { ExportsTable } from './schema.js';
import type { Db } from './types.js';
import { writeTransaction } from './write-transaction.js';

/** A customer export as the services see it. */
export interface ExportRecord {
  pk: number;
  workspacePk: number;
  type: 'customers';
  status: 'pending' | 'done' | 'failed' | 'expired';
  filters: unknown;
  attributes: string[] | null;
  description: string;
  total: number;
  bytes: number;
  downloads: number;
  error: string | null;
  /** Unix ms. */
  createdAt: number;
  updatedAt: number;
}

function toExport(row: Selectable<ExportsTable>): ExportRecord {
  return {
    pk: Number(row.pk),
    workspacePk: row.workspace_pk,
    type: row.type,
    status: row.status,
    filters: JSON.parse(row.filters) as unknown,
    attributes: row.attributes === null ? null : (JSON.parse(row.attributes) as string[]),
    description: row.description,
    total: Number(row.total),
    bytes: Number(row.bytes),
    downloads: Number(row.downloads),
    error: row.error,
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}

/** Exports and their stored CSV chunks: the one place for their SQL. */
export const exportsStore = {
  async create(
    db: Db,
    workspacePk: number,
    e: { filters: unknown; attributes: string[] | null; description: string },
    now = Date.now(),
  ): Promise<ExportRecord> {
    const row = await db
      .insertInto('exports')
      .values({
        workspace_pk: workspacePk,
        type: 'customers',
        status: 'pending',
        filters: JSON.stringify(e.filters),
        attributes: e.attributes === null ? null : JSON.stringify(e.attributes),
        description: e.description,
        total: 0,
        bytes: 0,
        downloads: 0,
        error: null,
        created_at: now,
        updated_at: now,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return toExport(row);
  },

  /** The export, when it is the workspace's (`workspacePk` null: any workspace's, for the job that builds it). */
  async byPk(db: Db, workspacePk: number | null, pk: number): Promise<ExportRecord | null> {
    const row = await db
      .selectFrom('exports')
      .selectAll()
      .where('pk', '=', pk)
      .$if(workspacePk !== null, (q) => q.where('workspace_pk', '=', workspacePk!))
      .executeTakeFirst();
    return row ? toExport(row) : null;
  },

  async page(db: Db, workspacePk: number, afterPk: number, limit: number): Promise<ExportRecord[]> {
    const rows = await db
      .selectFrom('exports')
      .selectAll()
      .where('workspace_pk', '=', workspacePk)
      .where('pk', '>', afterPk)
      .orderBy('pk')
      .limit(limit)
      .execute();
    return rows.map(toExport);
  },

  /** Drops the chunks an earlier, interrupted attempt stored. */
  async clearChunks(db: Db, exportPk: number): Promise<void> {
    await db.deleteFrom('export_chunks').where('export_pk', '=', exportPk).execute();
  },

  async putChunk(db: Db, exportPk: number, seq: number, data: string): Promise<void> {
    await db.insertInto('export_chunks').values({ export_pk: exportPk, seq, data }).execute();
  },

  /** The stored CSV, one chunk at a time. */
  async *chunks(db: Db, exportPk: number): AsyncGenerator<string> {
    for (let seq = 0; ; seq++) {
      const row = await db
        .selectFrom('export_chunks')
        .select('data')
        .where('export_pk', '=', exportPk)
        .where('seq', '=', seq)
        .executeTakeFirst();
      if (!row) return;
      yield row.data;
    }
  },

  async finish(db: Db, pk: number, r: { total: number; bytes: number }, now = Date.now()): Promise<void> {
    await db
      .updateTable('exports')
      .set({ status: 'done', total: r.total, bytes: r.bytes, error: null, updated_at: now })
      .where('pk', '=', pk)
      .execute();
  },

  async markFailed(db: Db, pk: number, error: string, now = Date.now()): Promise<void> {
    await db
      .updateTable('exports')
      .set({ status: 'failed', error: error.slice(0, 2000), updated_at: now })
      .where('pk', '=', pk)
      .execute();
  },

  /**
   * Expires up to `limit` exports that finished before `before`: their CSV chunks are deleted and their status becomes
   * `expired`, one export per transaction. Returns how many were expired.
   */
  async expireFinishedBefore(db: Db, before: number, limit: number, now = Date.now()): Promise<number> {
    const due = await db
      .selectFrom('exports')
      .select('pk')
      .where('status', '=', 'done')
      .where('updated_at', '<', before)
      .orderBy('pk')
      .limit(limit)
      .execute();
    for (const { pk } of due)
      await writeTransaction(db, async (trx) => {
        await trx.deleteFrom('export_chunks').where('export_pk', '=', pk).execute();
        await trx
          .updateTable('exports')
          .set({ status: 'expired', updated_at: now })
          .where('pk', '=', pk)
          .where('status', '=', 'done')
          .execute();
      });
    return due.length;
  },

  async countDownload(db: Db, pk: number): Promise<void> {
    await db
      .updateTable('exports')
      .set((eb) => ({ downloads: eb('downloads', '+', 1) }))
      .where('pk', '=', pk)
      .execute();
  },
};
