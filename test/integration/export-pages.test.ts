import { beforeAll, describe, expect, it } from 'vitest';
import type { Attributes } from '../../src/domain/attributes.js';
import { parseFilter, type FilterNode } from '../../src/domain/filters.js';
import { attributeColumnsOf, peopleCsv, peopleCsvColumns } from '../../src/csv/people-csv.js';
import { exportWorkerCount, linesInThreads, PagePlan } from '../../src/queries/export-pages.js';
import { peopleExportCsv, workspaceAttributeKeys } from '../../src/queries/people-export.js';
import { compilePeopleFilter, filterContext } from '../../src/queries/people-filter.js';
import { locationOf } from '../../src/store/direct-access.js';
import { newCioId, peopleStore, toPersonRecord } from '../../src/store/people.js';
import { writeTransaction } from '../../src/store/write-transaction.js';
import { useStore } from '../helpers/store.js';

/**
 * An export reads its pages in this thread (keyset pages; three bounded pages at once on PostgreSQL) or in worker
 * threads with connections of their own (bounded pages, in order). Every way must write the text the reference CSV
 * writer (csv-stringify, one PersonRecord at a time) writes for the same people.
 */

const t = useStore('roster-export-pages-');

const ws = 7;
const other = 8;

const values: Attributes[string][] = ['=1+2', 'a,b', 'say "hi"', 'l1\nl2', -5, 2.5, true, { k: [1, 'v,w'] }, ''];

async function addPeople(from: number, to: number) {
  await writeTransaction(t.store.writer, async (trx) => {
    for (let i = from; i < to; i++) {
      const attributes: Attributes = { plan: i % 3 === 0 ? 'pro' : 'free', n: i };
      if (i % 7 === 0) attributes[`odd ${i % 5}`] = values[i % values.length]!;
      // Another workspace's people between ours: our pks are not contiguous.
      for (const workspacePk of i % 4 === 0 ? [ws, other] : [ws])
        await peopleStore.insert(
          trx,
          {
            workspacePk,
            cioId: newCioId(),
            id: i % 11 === 0 ? `-id${i}` : `id${i}`,
            email: i % 5 === 0 ? null : `p${i}@example.com`,
            emailKey: null,
            attributes,
            timestamps: {},
            unsubscribed: i % 6 === 0,
            createdAt: 1_700_000_000 + i,
            updatedAt: 1_700_000_000_000 + i * 1000,
          },
          null,
        );
    }
  });
}

/** The CSV as the reference writer makes it, for everyone the filter matches. */
async function expected(filter: FilterNode): Promise<string> {
  const ctx = await filterContext(t.store.reader, ws, filter, false);
  const rows = await t.store.reader
    .selectFrom('people')
    .selectAll()
    .where('workspace_pk', '=', ws)
    .where(compilePeopleFilter(filter, ctx))
    .orderBy('pk')
    .execute();
  const columns = peopleCsvColumns(await workspaceAttributeKeys(t.store.reader, ws));
  let text = '';
  for await (const piece of peopleCsv(
    (async function* () {
      for (const row of rows) yield toPersonRecord(row);
    })(),
    columns,
  ))
    text += String(piece);
  return text;
}

async function exported(filter: FilterNode, opts: { workers: number; pageSize?: number }) {
  let rows = 0;
  const { csv } = await peopleExportCsv(t.store.reader, ws, filter, null, { ...opts, onRows: (n) => (rows += n) });
  let text = '';
  for await (const piece of csv) text += String(piece);
  return { text, rows };
}

beforeAll(async () => {
  await addPeople(0, 2600);
});

const everyone = parseFilter({ and: [] });
const pro = parseFilter({ attribute: { field: 'plan', operator: 'eq', value: 'pro' } });

describe('export pages', () => {
  it('uses two workers by default, none on one core, and ROSTER_EXPORT_WORKERS when it is a count up to 8', () => {
    const cases: [env: NodeJS.ProcessEnv, cores: number, workers: number][] = [
      [{}, 2, 2],
      [{}, 16, 2],
      [{}, 1, 0],
      [{ ROSTER_EXPORT_WORKERS: '0' }, 2, 0],
      [{ ROSTER_EXPORT_WORKERS: '3' }, 2, 3],
      [{ ROSTER_EXPORT_WORKERS: '1' }, 1, 1],
      [{ ROSTER_EXPORT_WORKERS: '20' }, 2, 8],
      [{ ROSTER_EXPORT_WORKERS: 'many' }, 2, 2],
      [{ ROSTER_EXPORT_WORKERS: '-1' }, 2, 2],
    ];
    for (const [env, cores, workers] of cases)
      expect({ env, cores, workers: exportWorkerCount(env, cores) }).toEqual({ env, cores, workers });
  });

  it('every way of reading pages writes the reference text, for everyone and for a filter', async () => {
    for (const filter of [everyone, pro]) {
      const want = await expected(filter);
      const count = want.split('\r\n').length - 2; // header and the empty string after the last CRLF
      expect(count).toBe(filter === everyone ? 2600 : 867);
      for (const workers of [0, 1, 3])
        for (const pageSize of [1000, 7]) {
          const got = await exported(filter, { workers, pageSize });
          expect({ workers, pageSize, same: got.text === want, rows: got.rows }).toEqual({
            workers,
            pageSize,
            same: true,
            rows: count,
          });
        }
    }
  });

  it('people who arrive while the workers read are exported too (the open last page goes on)', async () => {
    const ctx = await filterContext(t.store.reader, ws, everyone, false);
    const plan = new PagePlan(t.store.reader, ws, compilePeopleFilter(everyone, ctx), 50, true);
    const columns = peopleCsvColumns(await workspaceAttributeKeys(t.store.reader, ws));
    const lines = linesInThreads(locationOf(t.store.reader)!, plan, attributeColumnsOf(columns), 2);
    let rows = 0;
    let text = '';
    for await (const page of lines) {
      if (rows === 0) await addPeople(5000, 5120);
      rows += page.rows;
      text += String(page.text);
    }
    expect(rows).toBe(2600 + 120);
    const want = await expected(everyone);
    expect(text).toBe(want.slice(want.indexOf('\r\n') + 2));
  });

  it('a consumer that stops early ends the workers; a connection that cannot read fails the export', async () => {
    const { csv } = await peopleExportCsv(t.store.reader, ws, everyone, null, { workers: 2, pageSize: 10 });
    for await (const piece of csv) {
      expect(String(piece)).toMatch(/^cio_id,id,email/);
      break;
    }
    const ctx = await filterContext(t.store.reader, ws, everyone, false);
    const plan = new PagePlan(t.store.reader, ws, compilePeopleFilter(everyone, ctx), 100, true);
    const location =
      t.store.dialect === 'sqlite'
        ? ({ dialect: 'sqlite', file: `${t.home.dataDir}/missing/roster.sqlite` } as const)
        : ({ dialect: 'postgres', url: 'postgres://postgres@127.0.0.1:5432/no_such_database_roster' } as const);
    await expect(
      (async () => {
        for await (const page of linesInThreads(location, plan, [], 2)) void page;
      })(),
    ).rejects.toThrow(/does not exist/);
  });
});
