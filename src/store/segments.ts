import type { Selectable } from 'kysely';
import type { SegmentsTable } from './schema.js';
import type { Db } from './types.js';

/** A segment as the services see it. */
export interface SegmentRecord {
  pk: number;
  workspacePk: number;
  name: string;
  description: string;
  type: 'manual' | 'dynamic';
  /** The JSON audience filter of a data-driven segment. */
  filter: unknown;
  /** Unix ms. */
  createdAt: number;
  updatedAt: number;
}

function toSegment(row: Selectable<SegmentsTable>): SegmentRecord {
  return {
    pk: Number(row.pk),
    workspacePk: row.workspace_pk,
    name: row.name,
    description: row.description,
    type: row.type,
    filter: row.filter === null ? null : (JSON.parse(row.filter) as unknown),
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}

/** Segments and their manual members: the one place for their SQL. Every query is scoped to a workspace. */
export const segmentsStore = {
  async create(
    db: Db,
    workspacePk: number,
    s: { name: string; description: string; filter: unknown },
    now = Date.now(),
  ): Promise<SegmentRecord> {
    const row = await db
      .insertInto('segments')
      .values({
        workspace_pk: workspacePk,
        name: s.name,
        description: s.description,
        type: s.filter === null ? 'manual' : 'dynamic',
        filter: s.filter === null ? null : JSON.stringify(s.filter),
        created_at: now,
        updated_at: now,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return toSegment(row);
  },

  async byPk(db: Db, workspacePk: number, pk: number): Promise<SegmentRecord | null> {
    const row = await db
      .selectFrom('segments')
      .selectAll()
      .where('workspace_pk', '=', workspacePk)
      .where('pk', '=', pk)
      .executeTakeFirst();
    return row ? toSegment(row) : null;
  },

  /** A keyset page of the workspace's segments in pk order. */
  async page(db: Db, workspacePk: number, afterPk: number, limit: number): Promise<SegmentRecord[]> {
    const rows = await db
      .selectFrom('segments')
      .selectAll()
      .where('workspace_pk', '=', workspacePk)
      .where('pk', '>', afterPk)
      .orderBy('pk')
      .limit(limit)
      .execute();
    return rows.map(toSegment);
  },

  async dynamicSegments(db: Db, workspacePk: number): Promise<SegmentRecord[]> {
    const rows = await db
      .selectFrom('segments')
      .selectAll()
      .where('workspace_pk', '=', workspacePk)
      .where('type', '=', 'dynamic')
      .orderBy('pk')
      .execute();
    return rows.map(toSegment);
  },

  /** Deletes the segment and its memberships; false when the workspace has no such segment. */
  async delete(db: Db, workspacePk: number, pk: number): Promise<boolean> {
    return db.transaction().execute(async (trx) => {
      const r = await trx
        .deleteFrom('segments')
        .where('workspace_pk', '=', workspacePk)
        .where('pk', '=', pk)
        .executeTakeFirst();
      if (Number(r.numDeletedRows) === 0) return false;
      await trx.deleteFrom('segment_members').where('segment_pk', '=', pk).execute();
      return true;
    });
  },

  /** Adds people to a manual segment; those already in it stay as they are. */
  async addMembers(db: Db, workspacePk: number, segmentPk: number, personPks: number[], now = Date.now()) {
    if (personPks.length === 0) return;
    await db
      .insertInto('segment_members')
      .values(
        [...new Set(personPks)].map((p) => ({
          segment_pk: segmentPk,
          person_pk: p,
          workspace_pk: workspacePk,
          added_at: now,
        })),
      )
      .onConflict((oc) => oc.columns(['segment_pk', 'person_pk']).doNothing())
      .execute();
  },

  async removeMembers(db: Db, workspacePk: number, segmentPk: number, personPks: number[]) {
    if (personPks.length === 0) return;
    await db
      .deleteFrom('segment_members')
      .where('workspace_pk', '=', workspacePk)
      .where('segment_pk', '=', segmentPk)
      .where('person_pk', 'in', personPks)
      .execute();
  },

  /** The manual segments a person is a member of, in pk order. */
  async manualSegmentsOf(db: Db, workspacePk: number, personPk: number): Promise<SegmentRecord[]> {
    const rows = await db
      .selectFrom('segment_members as m')
      .innerJoin('segments as s', 's.pk', 'm.segment_pk')
      .selectAll('s')
      .where('m.workspace_pk', '=', workspacePk)
      .where('m.person_pk', '=', personPk)
      .orderBy('s.pk')
      .execute();
    return rows.map(toSegment);
  },

  /** A merge: the secondary's memberships become the primary's. */
  async moveToPerson(db: Db, workspacePk: number, fromPk: number, toPk: number): Promise<void> {
    const rows = await db
      .selectFrom('segment_members')
      .select(['segment_pk', 'added_at'])
      .where('workspace_pk', '=', workspacePk)
      .where('person_pk', '=', fromPk)
      .execute();
    if (rows.length === 0) return;
    await db
      .insertInto('segment_members')
      .values(rows.map((r) => ({ ...r, person_pk: toPk, workspace_pk: workspacePk })))
      .onConflict((oc) => oc.columns(['segment_pk', 'person_pk']).doNothing())
      .execute();
    await segmentsStore.removePerson(db, workspacePk, fromPk);
  },

  /** Removes a deleted person's memberships. */
  async removePerson(db: Db, workspacePk: number, personPk: number): Promise<void> {
    await db
      .deleteFrom('segment_members')
      .where('workspace_pk', '=', workspacePk)
      .where('person_pk', '=', personPk)
      .execute();
  },
};
