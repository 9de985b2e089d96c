import { sql } from 'kysely';
import type { DedupeKey } from '../domain/dedupe.js';
import { rowsOffThread } from './off-thread.js';
import { onPostgres, type Db } from './types.js';

/** A person in a duplicate group, as the scan returns them (event counts come separately). */
export interface DuplicateRow {
  value: string;
  pk: number;
  cio_id: string;
  id: string | null;
  email: string | null;
  created_at_s: number;
}

/**
 * The values people are grouped by, one row per person (mirrors domain/dedupe.ts normalizeDuplicateValue): spaces
 * trimmed, values with an `@` lowercased. `email` is the stored normalised email of id_only workspaces (in
 * email_or_id workspaces the email is a unique identifier, so it never has duplicates and the scan finds none).
 * An attribute is read from the JSON once per person (the materialized `raw`), then normalised.
 */
function valuesCte(db: Db, workspacePk: number, key: DedupeKey) {
  // The email scan reads the partial (workspace_pk, email_norm) index, which holds exactly the id_only emails.
  if (key.kind === 'email')
    return sql`vals as (
      select pk, email_norm as v from people
      where workspace_pk = ${workspacePk} and email_key is null and email_norm is not null)`;
  const raw = onPostgres(db)
    ? sql`(attributes::json ->> ${key.name})`
    : sql`cast(json_extract(attributes, ${`$."${key.name}"`}) as text)`;
  return sql`raw as materialized (select pk, ${raw} as r from people where workspace_pk = ${workspacePk}),
    vals as (
      select pk, case when r like '%@%' then lower(trim(r)) else trim(r) end as v from raw where r is not null)`;
}

/** Set-based duplicate scans: one GROUP BY over the workspace's people, never a row at a time in code. */
export const duplicatesStore = {
  /**
   * Duplicate groups (two or more people sharing a non-empty value) in value order, each with its people's pks.
   * `after`/`limit` page by value: only groups whose value sorts after `after`, at most `limit` groups.
   */
  async groups(
    db: Db,
    workspacePk: number,
    key: DedupeKey,
    page: { after?: string; limit?: number } = {},
  ): Promise<{ value: string; pks: number[] }[]> {
    const pg = onPostgres(db);
    // "C" collation on PostgreSQL so groups come in byte order, as on SQLite, and cursors mean the same on both.
    const collate = pg ? sql`collate "C"` : sql``;
    const after = page.after === undefined ? sql`` : sql`and v > ${page.after} ${collate}`;
    const limit = page.limit === undefined ? sql`` : sql`limit ${page.limit}`;
    const pks = pg ? sql`string_agg(pk::text, ',')` : sql`group_concat(pk)`;
    // A scan of the whole workspace: off the server's thread on SQLite (off-thread.ts).
    const rows = await rowsOffThread(
      db,
      sql<{ value: string; pks: string }>`
      with ${valuesCte(db, workspacePk, key)}
      select v as value, ${pks} as pks from vals
      where v <> '' ${after}
      group by v having count(*) > 1
      order by v ${collate} ${limit}`.compile(db),
    );
    return rows.map((r) => ({ value: r.value, pks: String(r.pks).split(',').map(Number) }));
  },

  /** The people with these pks, in pk order. */
  async members(db: Db, workspacePk: number, pks: readonly number[]): Promise<Omit<DuplicateRow, 'value'>[]> {
    const rows: Omit<DuplicateRow, 'value'>[] = [];
    for (let i = 0; i < pks.length; i += 500) {
      // By primary key alone: with workspace_pk in the WHERE, SQLite scans the workspace's index instead.
      const found = await db
        .selectFrom('people')
        .select(['pk', 'workspace_pk', 'cio_id', 'id', 'email', 'created_at_s'])
        .where('pk', 'in', pks.slice(i, i + 500))
        .execute();
      for (const { workspace_pk, ...r } of found)
        if (workspace_pk === workspacePk) rows.push({ ...r, pk: Number(r.pk), created_at_s: Number(r.created_at_s) });
    }
    return rows.sort((a, b) => a.pk - b.pk);
  },

  /** Stored events per person, for the given people (missing from the map: none). */
  async eventCounts(db: Db, workspacePk: number, pks: readonly number[]): Promise<Map<number, number>> {
    const counts = new Map<number, number>();
    for (let i = 0; i < pks.length; i += 500) {
      const chunk = pks.slice(i, i + 500);
      const rows = await db
        .selectFrom('events')
        .select(['person_pk', (eb) => eb.fn.countAll<number>().as('n')])
        .where('workspace_pk', '=', workspacePk)
        .where('person_pk', 'in', chunk)
        .groupBy('person_pk')
        .execute();
      for (const r of rows) counts.set(Number(r.person_pk), Number(r.n));
    }
    return counts;
  },
};
