import { CompiledQuery, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseFilter } from '../../src/domain/filters.js';
import { compilePeopleFilter, filterContext } from '../../src/queries/people-filter.js';
import { openStore, type Store } from '../../src/store/database.js';
import { testBackend } from '../helpers/backend.js';
import { tempRosterHome, type RosterHome } from '../helpers/roster-process.js';

/**
 * Keyset pages of a workspace's people (filter search, segment membership, exports) are a range read of the index
 * people (workspace_pk, pk): without it SQLite read them through people_cio_id and sorted the whole workspace for
 * every page, so an export of N people took O(N²) time (138 s for 1M people).
 */

let home: RosterHome;
let store: Store;

beforeAll(async () => {
  home = await tempRosterHome('roster-keyset-');
  store = await openStore({ dataDir: home.dataDir, databaseUrl: home.env.DATABASE_URL });
});

afterAll(async () => {
  await store.close();
  await home.remove();
});

describe('people keyset pages', () => {
  it('the index people_workspace_pk (workspace_pk, pk) exists', async () => {
    const { rows } =
      store.dialect === 'postgres'
        ? await sql<{ name: string }>`select indexname as name from pg_indexes
            where schemaname = current_schema() and tablename = 'people'`.execute(store.reader)
        : await sql<{ name: string }>`select name from sqlite_master
            where type = 'index' and tbl_name = 'people'`.execute(store.reader);
    expect(rows.map((r) => r.name)).toContain('people_workspace_pk');
  });

  it.skipIf(testBackend === 'postgres')('SQLite reads a filtered page by that index, with no sort', async () => {
    const node = parseFilter({ attribute: { field: 'plan', operator: 'eq', value: 'pro' } });
    const ctx = await filterContext(store.reader, 1, node, false);
    const page = store.reader
      .selectFrom('people')
      .select(['pk', 'cio_id', 'attributes'])
      .where('workspace_pk', '=', 1)
      .where('pk', '>', 0)
      .where(compilePeopleFilter(node, ctx))
      .orderBy('pk')
      .limit(1000)
      .compile();
    const plan = await store.reader.executeQuery<{ detail: string }>(
      CompiledQuery.raw(`explain query plan ${page.sql}`, [...page.parameters]),
    );
    const details = plan.rows.map((r) => r.detail).join('\n');
    expect(details).toContain('people_workspace_pk (workspace_pk=? AND pk>?)');
    expect(details).not.toContain('TEMP B-TREE');
  });
});
