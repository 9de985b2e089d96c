import { sql, type RawBuilder } from 'kysely';
import type { DedupeKey } from '../domain/dedupe.js';
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
 * The normalised value people are grouped by (mirrors domain/dedupe.ts normalizeDuplicateValue): spaces trimmed,
 * values with an `@` lowercased. `email` is the stored normalised email of id_only workspaces (in email_or_id
 * workspaces the email is a unique identifier, so it never has duplicates and the scan finds none).
 */
function valueExpression(db: Db, key: DedupeKey): RawBuilder<string | null> {
  if (key.kind === 'email') return sql<string | null>`email_norm`;
  const raw = onPostgres(db)
    ? sql`(attributes::jsonb ->> ${key.name})`
    : sql`cast(json_extract(attributes, ${`$."${key.name}"`}) as text)`;
  return sql<string | null>`case when ${raw} like '%@%' then lower(trim(${raw})) else trim(${raw}) end`;
}

/** Set-based duplicate scans: one GROUP BY over the workspace's people, never a row at a time in code. */
export const duplicatesStore = {
  /**
   * The members of duplicate groups (two or more people sharing a non-empty value), ordered by value then pk.
   * `after`/`limit` page by value: only groups whose value sorts after `after`, at most `limit` groups.
   */
  async scan(
    db: Db,
    workspacePk: number,
    key: DedupeKey,
    page: { after?: string; limit?: number } = {},
  ): Promise<DuplicateRow[]> {
    const value = valueExpression(db, key);
    // The email scan reads the partial (workspace_pk, email_norm) index, which holds exactly the id_only emails.
    const emailOnly = key.kind === 'email' ? sql`and email_key is null and email_norm is not null` : sql``;
    const pg = onPostgres(db);
    // "C" collation on PostgreSQL so groups come in byte order, as on SQLite, and cursors mean the same on both.
    const after =
      page.after === undefined ? sql`` : pg ? sql`and v > ${page.after} collate "C"` : sql`and v > ${page.after}`;
    const limit = page.limit === undefined ? sql`` : sql`limit ${page.limit}`;
    const order = pg ? sql`collate "C"` : sql``;
    const result = await sql<DuplicateRow>`
      with vals as (
        select pk, ${value} as v from people where workspace_pk = ${workspacePk} ${emailOnly}
      ),
      dups as (
        select v from vals where v is not null and v <> '' ${after}
        group by v having count(*) > 1 order by v ${order} ${limit}
      )
      select vals.v as value, p.pk, p.cio_id, p.id, p.email, p.created_at_s
      from dups join vals on vals.v = dups.v join people p on p.pk = vals.pk
      order by vals.v ${order}, p.pk`.execute(db);
    return result.rows.map((r) => ({ ...r, pk: Number(r.pk), created_at_s: Number(r.created_at_s) }));
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
