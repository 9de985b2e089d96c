import { attributeColumnsOf, peopleCsvColumns, peopleCsvFromLines, peopleCsvFromPages } from '../csv/people-csv.js';
import type { FilterNode } from '../domain/filters.js';
import { attributeKeysStore } from '../store/attribute-keys.js';
import type { Db } from '../store/types.js';
import { locationOf } from '../store/direct-access.js';
import { exportWorkerCount, inThreadDepth, linesByWorkers, PagePlan, pagesInThread } from './export-pages.js';
import { compilePeopleFilter, filterContext } from './people-filter.js';

/**
 * People per keyset page of an export. Small pages keep each page's rows young garbage: at 10,000 a 1M-people export
 * peaked at ~235 MB RSS (pages promoted to the old generation), at 1,000 at ~150 MB, and no slower.
 */
export const exportPageRows = 1000;

/** Every attribute name the workspace's people have been given, sorted (the registry attribute-keys.ts keeps). */
export const workspaceAttributeKeys = (db: Db, workspacePk: number): Promise<string[]> =>
  attributeKeysStore.of(db, workspacePk);

/**
 * The CSV of the people a filter matches, as a stream: columns `cio_id,id,email,created_at,updated_at,unsubscribed`
 * then `attributes` (when null, every attribute name the workspace's people have been given). Segments the filter
 * names that no longer exist match nobody. Pages are read and written by worker threads (export-pages.ts) when the
 * handle is a store's own and the machine has the cores; otherwise in this thread.
 */
export async function peopleExportCsv(
  db: Db,
  workspacePk: number,
  filter: FilterNode,
  attributes: string[] | null,
  opts: { pageSize?: number; signal?: AbortSignal; onRows?: (n: number) => void; workers?: number } = {},
) {
  const ctx = await filterContext(db, workspacePk, filter, false);
  const columns = peopleCsvColumns(attributes ?? (await workspaceAttributeKeys(db, workspacePk)));
  const attributeColumns = attributeColumnsOf(columns);
  const condition = compilePeopleFilter(filter, ctx);
  const location = locationOf(db);
  const workers = location === undefined ? 0 : (opts.workers ?? exportWorkerCount());
  if (location !== undefined && workers > 1) {
    const plan = new PagePlan(db, workspacePk, condition, opts.pageSize ?? exportPageRows, true);
    const lines = linesByWorkers(location, plan, attributeColumns, workers, opts.signal);
    return { columns, csv: peopleCsvFromLines(lines, columns, opts.onRows) };
  }
  const depth = inThreadDepth(db);
  const plan = new PagePlan(db, workspacePk, condition, opts.pageSize ?? exportPageRows, depth > 1);
  const pages = pagesInThread(db, plan, depth, opts.signal);
  return { columns, csv: peopleCsvFromPages(pages, columns, opts.onRows) };
}
