import { sql } from 'kysely';
import { peopleCsvColumns, peopleCsvFromPages } from '../csv/people-csv.js';
import type { FilterNode } from '../domain/filters.js';
import { onPostgres, type Db } from '../store/types.js';
import { csvPagesMatching, filterContext, postgresAttributes } from './people-filter.js';

/**
 * People per keyset page of an export. Small pages keep each page's rows young garbage: at 10,000 a 1M-people export
 * peaked at ~235 MB RSS (pages promoted to the old generation), at 1,000 at ~150 MB, and no slower.
 */
export const exportPageRows = 1000;

/** Code-point order, the same on every machine and database. */
const byCodePoint = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Every attribute name any person of the workspace has, sorted. */
export async function workspaceAttributeKeys(db: Db, workspacePk: number): Promise<string[]> {
  const { rows } = onPostgres(db)
    ? await sql<{
        key: string;
      }>`select distinct k as key from people, jsonb_object_keys(${postgresAttributes()}) k
        where people.workspace_pk = ${workspacePk}`.execute(db)
    : await sql<{ key: string }>`select distinct j.key as key from people, json_each(people.attributes) j
        where people.workspace_pk = ${workspacePk}`.execute(db);
  return rows.map((r) => r.key).sort(byCodePoint);
}

/**
 * The CSV of the people a filter matches, as a stream: columns `cio_id,id,email,created_at,updated_at,unsubscribed`
 * then `attributes` (every attribute of the workspace when null). Segments the filter names that no longer exist
 * match nobody.
 */
export async function peopleExportCsv(
  db: Db,
  workspacePk: number,
  filter: FilterNode,
  attributes: string[] | null,
  opts: { pageSize?: number; signal?: AbortSignal; onRows?: (n: number) => void } = {},
) {
  const ctx = await filterContext(db, workspacePk, filter, false);
  const columns = peopleCsvColumns(attributes ?? (await workspaceAttributeKeys(db, workspacePk)));
  const pages = csvPagesMatching(db, filter, ctx, opts.pageSize ?? exportPageRows, opts.signal);
  return { columns, csv: peopleCsvFromPages(pages, columns, opts.onRows) };
}
