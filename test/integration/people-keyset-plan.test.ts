import { CompiledQuery, sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { parseFilter } from '../../src/domain/filters.js';
import { compilePeopleFilter, filterContext } from '../../src/queries/people-filter.js';
import { testBackend } from '../helpers/backend.js';
import { useStore } from '../helpers/store.js';

/**
 * Keyset pages of a workspace's people (filter search, segment membership, exports) are a range read of the index
 * people (workspace_pk, pk): without it SQLite read them through people_cio_id and sorted the whole workspace for
 * every page, so an export of N people took O(N²) time (138 s for 1M people).
 */

const t = useStore('roster-keyset-');

describe('people keyset pages', () => {
  it('the index people_workspace_pk (workspace_pk, pk) exists', async () => {
    const { rows } =
      t.store.dialect === 'postgres'
        ? await sql<{ name: string }>`select indexname as name from pg_indexes
            where schemaname = current_schema() and tablename = 'people'`.execute(t.store.reader)
        : await sql<{ name: string }>`select name from sqlite_master
            where type = 'index' and tbl_name = 'people'`.execute(t.store.reader);
    expect(rows.map((r) => r.name)).toContain('people_workspace_pk');
  });

  it.skipIf(testBackend === 'postgres')('SQLite reads a filtered page by that index, with no sort', async () => {
    const node = parseFilter({ attribute: { field: 'plan', operator: 'eq', value: 'pro' } });
    const ctx = await filterContext(t.store.reader, 1, node, false);
    const page = t.store.reader
      .selectFrom('people')
      .select(['pk', 'cio_id', 'attributes'])
      .where('workspace_pk', '=', 1)
      .where('pk', '>', 0)
      .where(compilePeopleFilter(node, ctx))
      .orderBy('pk')
      .limit(1000)
      .compile();
    const plan = await t.store.reader.executeQuery<{ detail: string }>(
      CompiledQuery.raw(`explain query plan ${page.sql}`, [...page.parameters]),
    );
    const details = plan.rows.map((r) => r.detail).join('\n');
    expect(details).toContain('people_workspace_pk (workspace_pk=? AND pk>?)');
    expect(details).not.toContain('TEMP B-TREE');
  });
});
