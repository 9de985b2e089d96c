import { CompiledQuery, sql } from 'kysely';
import type { Db } from './types.js';

/**
 * Set on every PostgreSQL connection Roster opens. Its working set is in memory (or on SSD), where a random page
 * costs about what a sequential one does; with the default of 4 the planner answers a batch's few hundred key
 * lookups by scanning a whole table of some tens of thousands of rows.
 */
export const connectionSettings = CompiledQuery.raw('set random_page_cost = 1.1');

const tables = ['people', 'events', 'activities'];

/**
 * Analyses the busiest tables once if PostgreSQL never has. Until a table is first analysed the planner takes any
 * one workspace to hold 0.5% of its rows and reads whole workspaces through an index to find a batch's people,
 * which on a fresh database lasts until autovacuum's first pass (a minute or more into heavy ingestion).
 */
export async function analyzeIfNeverAnalyzed(db: Db): Promise<void> {
  const r = await sql<{ relname: string }>`select relname from pg_stat_user_tables
    where schemaname = current_schema() and relname = any(${tables}::text[])
      and last_analyze is null and last_autoanalyze is null`.execute(db);
  for (const { relname } of r.rows) await sql`analyze ${sql.table(relname)}`.execute(db);
}
