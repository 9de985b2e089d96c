import { parse } from 'csv-parse/sync';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { downloadLinkKey, signDownload } from '../../src/domain/download-links.js';
import { exportRetentionDays, purgeExpired } from '../../src/jobs/retention.js';
import { exportsStore } from '../../src/store/exports.js';
import { backendEnv } from '../helpers/backend.js';
import { rosterCli } from '../helpers/roster-process.js';
import { startServer, type Reply, type TestServer, type TestWorkspace } from '../helpers/roster-server.js';

/**
 * Customer exports over real HTTP: `POST /v1/exports/customers` queues a job in the shared queue, which writes the
 * CSV into the database; `GET /v1/exports/{id}/download` gives a signed link that Roster serves without a Bearer key
 * for 15 minutes. Also the CSV itself (columns, RFC 4180, formula injection) and `roster people export`.
 */

let server: TestServer;
let ws: TestWorkspace;
let other: TestWorkspace;

const tricky = {
  plan: 'pro',
  formula: '=HYPERLINK("http://evil","x")',
  minus: '-2+3',
  plus: '+1',
  at: '@SUM(A1)',
  tab: '\tcell',
  cr: '\rcell',
  negative: -5,
  obj: { k: [1, 'a'] },
  flag: true,
  comma: 'a,b',
  quote: 'say "hi"',
  newline: 'line1\nline2',
  unicode: 'Zoë 日本',
};

beforeAll(async () => {
  server = await startServer();
  ws = await server.workspace();
  other = await server.workspace();
  expect((await ws.identify('ann', { email: 'ann@example.com', created_at: 1_600_000_000, ...tricky })).status).toBe(
    200,
  );
  expect((await ws.identify('bob', { email: 'bob@example.com', plan: 'free', zeta: 'z' })).status).toBe(200);
  expect((await ws.identify('lee@example.com', { plan: 'trial', unsubscribed: true })).status).toBe(200);
  expect((await ws.identify('-dash', { plan: 'free' })).status).toBe(200);
  expect((await other.identify('ann', { email: 'other-ann@example.com', plan: 'pro' })).status).toBe(200);
});

afterAll(async () => {
  await server?.close();
});

function expectAppError(r: Reply, status: number, code: string) {
  expect(r.status, JSON.stringify(r.body)).toBe(status);
  expect(r.body).toEqual({ errors: [{ detail: expect.any(String), status: String(status), code }] });
}

const eq = (field: string, value: unknown) => ({ attribute: { field, operator: 'eq', value } });

/** Creates an export and waits until it is done; returns its export object. */
async function exportDone(w: TestWorkspace, body: unknown) {
  const r = await w.app('POST', '/v1/exports/customers', body);
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  const id = r.body.export.id as number;
  for (let i = 0; i < 600; i++) {
    const got = await w.app('GET', `/v1/exports/${id}`);
    expect(got.status).toBe(200);
    if (got.body.export.status !== 'pending') return got.body.export;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`export ${id} never finished`);
}

async function download(w: TestWorkspace, id: number) {
  const link = await w.app('GET', `/v1/exports/${id}/download`);
  expect(link.status, JSON.stringify(link.body)).toBe(200);
  expect(Object.keys(link.body)).toEqual(['url']);
  const res = await fetch(link.body.url as string);
  return {
    url: link.body.url as string,
    status: res.status,
    type: res.headers.get('content-type'),
    text: await res.text(),
  };
}

const rowsOf = (text: string): string[][] => parse(text, { relax_column_count: false }) as string[][];

describe('POST /v1/exports/customers', () => {
  it('queues an export in Customer.io’s shape, which the job finishes', async () => {
    const r = await ws.app('POST', '/v1/exports/customers', { filters: eq('plan', 'pro') });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({
      export: {
        id: expect.any(Number),
        user_id: null,
        user_email: null,
        total: 0,
        deduplicate_id: expect.stringMatching(/^\d+:\d+$/),
        type: 'customers',
        failed: false,
        status: 'pending',
        description: expect.any(String),
        downloads: 0,
        created_at: expect.any(Number),
        updated_at: expect.any(Number),
      },
    });
    const done = await exportDone(ws, { filters: eq('plan', 'pro') });
    expect(done).toMatchObject({ status: 'done', total: 1, failed: false });
  });

  it('the CSV: fixed columns, then every attribute sorted; RFC 4180; formulas neutralised; JSON as JSON', async () => {
    const done = await exportDone(ws, { filters: { and: [] } });
    expect(done.total).toBe(4);
    const file = await download(ws, done.id);
    expect(file.status).toBe(200);
    expect(file.type).toBe('text/csv; charset=utf-8');
    expect(file.text.endsWith('\r\n')).toBe(true);
    const rows = rowsOf(file.text);
    const attributeKeys = [...Object.keys(tricky), 'zeta'].sort();
    expect(rows[0]).toEqual(['cio_id', 'id', 'email', 'created_at', 'updated_at', 'unsubscribed', ...attributeKeys]);
    expect(rows).toHaveLength(5);
    const byId = Object.fromEntries(
      rows.slice(1).map((r) => [r[1], Object.fromEntries(rows[0]!.map((c, i) => [c, r[i]]))]),
    );
    const ann = byId.ann!;
    const annView = await ws.person('ann');
    expect(ann).toMatchObject({
      cio_id: annView.identifiers.cio_id,
      email: 'ann@example.com',
      created_at: '1600000000',
      unsubscribed: 'false',
      plan: 'pro',
      formula: `'=HYPERLINK("http://evil","x")`,
      minus: `'-2+3`,
      plus: `'+1`,
      at: `'@SUM(A1)`,
      tab: `'\tcell`,
      cr: `'\rcell`,
      negative: '-5',
      obj: '{"k":[1,"a"]}',
      flag: 'true',
      comma: 'a,b',
      quote: 'say "hi"',
      newline: 'line1\nline2',
      unicode: 'Zoë 日本',
      zeta: '',
    });
    expect(Number(ann.updated_at)).toBeGreaterThan(1_700_000_000);
    expect(Number(ann.updated_at)).toBeLessThan(Date.now() / 1000 + 5);
    // An id that would be a formula is neutralised too; a lead has an empty id.
    expect(byId["'-dash"]).toMatchObject({ plan: 'free' });
    expect(byId['']).toMatchObject({ email: 'lee@example.com', unsubscribed: 'true', plan: 'trial' });
    // The raw text quotes what needs quoting, doubling inner quotes.
    expect(file.text).toContain('"say ""hi"""');
    expect(file.text).toContain('"line1\nline2"');
  });

  it('a name an update brings is a column; one a person drops stays a column (every name the workspace has seen)', async () => {
    const w = await server.workspace();
    expect((await w.identify('kim', { plan: 'pro' })).status).toBe(200);
    expect((await w.identify('kim', { plan: 'team', added_later: 1 })).status).toBe(200);
    expect((await w.identify('kim', { added_later: null })).status).toBe(200);
    const rows = rowsOf((await download(w, (await exportDone(w, { filters: { and: [] } })).id)).text);
    expect(rows[0]).toEqual([
      'cio_id',
      'id',
      'email',
      'created_at',
      'updated_at',
      'unsubscribed',
      'added_later',
      'plan',
    ]);
    expect(rows[1]!.slice(1, 2).concat(rows[1]!.slice(6))).toEqual(['kim', '', 'team']);
  });

  it('requested attributes only, in the order asked; filters apply', async () => {
    const done = await exportDone(ws, { filters: eq('plan', 'free'), attributes: ['zeta', 'plan', 'missing', 'id'] });
    const rows = rowsOf((await download(ws, done.id)).text);
    expect(rows[0]).toEqual([
      'cio_id',
      'id',
      'email',
      'created_at',
      'updated_at',
      'unsubscribed',
      'zeta',
      'plan',
      'missing',
    ]);
    expect(rows.slice(1).map((r) => [r[1], r[6], r[7], r[8]])).toEqual([
      ['bob', 'z', 'free', ''],
      ["'-dash", '', 'free', ''],
    ]);
  });

  it('an export matching nobody is a header line', async () => {
    const done = await exportDone(ws, { filters: eq('plan', 'nobody-has-this'), attributes: [] });
    expect(done.total).toBe(0);
    expect((await download(ws, done.id)).text).toBe('cio_id,id,email,created_at,updated_at,unsubscribed\r\n');
  });

  it('refusals: no filters, a bad filter, bad attributes', async () => {
    expectAppError(await ws.app('POST', '/v1/exports/customers', {}), 400, 'invalid_filter');
    expectAppError(await ws.app('POST', '/v1/exports/customers', { filters: { bad: 1 } }), 400, 'invalid_filter');
    expectAppError(
      await ws.app('POST', '/v1/exports/customers', { filters: { segment: { id: 123456 } } }),
      400,
      'invalid_filter',
    );
    expectAppError(
      await ws.app('POST', '/v1/exports/customers', { filters: { and: [] }, attributes: 'plan' }),
      400,
      'invalid_body',
    );
    expectAppError(
      await ws.app('POST', '/v1/exports/customers', { filters: { and: [] }, attributes: [''] }),
      400,
      'invalid_body',
    );
  });
});

describe('download links', () => {
  let id: number;
  let url: URL;

  beforeAll(async () => {
    id = (await exportDone(ws, { filters: eq('plan', 'pro') })).id;
    url = new URL((await download(ws, id)).url);
  });

  const fetchJson = async (u: URL | string) => {
    const res = await fetch(u);
    return { status: res.status, body: (await res.json()) as unknown };
  };

  it('works without a Bearer key, several times, and counts downloads', async () => {
    const before = (await ws.app('GET', `/v1/exports/${id}`)).body.export.downloads as number;
    for (let i = 0; i < 2; i++) expect((await fetch(url)).status).toBe(200);
    expect((await ws.app('GET', `/v1/exports/${id}`)).body.export.downloads).toBe(before + 2);
    expect(Number(url.searchParams.get('exp'))).toBeGreaterThan(Date.now() / 1000 + 14 * 60);
    expect(Number(url.searchParams.get('exp'))).toBeLessThanOrEqual(Date.now() / 1000 + 15 * 60);
  });

  it('a tampered link is 401 invalid_signature', async () => {
    const sig = url.searchParams.get('sig')!;
    const variants = [
      (u: URL) => u.searchParams.set('sig', sig.slice(0, -2) + (sig.endsWith('AA') ? 'BB' : 'AA')),
      (u: URL) => u.searchParams.set('exp', String(Number(u.searchParams.get('exp')) + 3600)),
      (u: URL) => u.searchParams.delete('sig'),
      (u: URL) => u.searchParams.delete('exp'),
      (u: URL) => (u.pathname = u.pathname.replace(`/${id}/`, `/${id + 1}/`)),
      (u: URL) => (u.pathname = u.pathname.replace(`/${id}/`, '/abc/')),
    ];
    for (const change of variants) {
      const u = new URL(url);
      change(u);
      const r = await fetchJson(u);
      expect(r.status, u.toString()).toBe(401);
      expect(r.body).toEqual({ errors: [{ detail: expect.any(String), status: '401', code: 'invalid_signature' }] });
    }
  });

  it('an expired link, genuinely signed, is 403 link_expired', async () => {
    const key = downloadLinkKey(server.roster.masterKey);
    const { exp, sig } = signDownload(key, id, Date.now() - 1000);
    const u = new URL(url);
    u.searchParams.set('exp', String(exp));
    u.searchParams.set('sig', sig);
    const r = await fetchJson(u);
    expect(r.status).toBe(403);
    expect(r.body).toEqual({ errors: [{ detail: expect.any(String), status: '403', code: 'link_expired' }] });
    // The same key a minute ahead works: only time made the difference.
    const fresh = signDownload(key, id, Date.now() + 60_000);
    u.searchParams.set('exp', String(fresh.exp));
    u.searchParams.set('sig', fresh.sig);
    expect((await fetch(u)).status).toBe(200);
  });

  it('an export that is not done yet has no link (409 export_not_ready)', async () => {
    const wsPk = (
      await server.roster.store.reader
        .selectFrom('workspaces')
        .select('pk')
        .where('site_id', '=', ws.creds.site_id)
        .executeTakeFirstOrThrow()
    ).pk;
    // Created without its job, so it stays pending.
    const pending = await exportsStore.create(server.roster.store.writer, wsPk, {
      filters: { and: [] },
      attributes: null,
      description: 'pending',
    });
    expectAppError(await ws.app('GET', `/v1/exports/${pending.pk}/download`), 409, 'export_not_ready');
    const key = downloadLinkKey(server.roster.masterKey);
    const { exp, sig } = signDownload(key, pending.pk, Date.now() + 60_000);
    expect((await fetchJson(new URL(`/exports/${pending.pk}/file?exp=${exp}&sig=${sig}`, ws.base))).status).toBe(404);
  });
});

describe('export retention', () => {
  it(`the retention purge deletes the file of an export finished over ${exportRetentionDays} days ago (410 export_expired); younger and unfinished exports stay`, async () => {
    const old = await exportDone(ws, { filters: eq('plan', 'pro') });
    const young = await exportDone(ws, { filters: eq('plan', 'pro') });
    const oldLink = (await ws.app('GET', `/v1/exports/${old.id}/download`)).body.url as string;
    const { writer, reader } = server.roster.store;
    const chunksOf = async (pk: number) =>
      (await reader.selectFrom('export_chunks').select('seq').where('export_pk', '=', pk).execute()).length;
    expect(await chunksOf(old.id as number)).toBeGreaterThan(0);
    // As if it had finished a day past the retention period.
    const finished = Date.now() - (exportRetentionDays + 1) * 86_400_000;
    await writer.updateTable('exports').set({ updated_at: finished }).where('pk', '=', old.id).execute();

    const counts = await purgeExpired(writer, Date.now());
    expect(counts.expiredExports).toBe(1);
    expect(await chunksOf(old.id as number)).toBe(0);
    expect((await ws.app('GET', `/v1/exports/${old.id}`)).body.export.status).toBe('expired');
    expectAppError(await ws.app('GET', `/v1/exports/${old.id}/download`), 410, 'export_expired');
    const res = await fetch(oldLink);
    expect(res.status).toBe(410);
    expect(await res.json()).toEqual({
      errors: [{ detail: expect.any(String), status: '410', code: 'export_expired' }],
    });

    // The young export is whole; a second purge finds nothing more to expire.
    expect((await download(ws, young.id as number)).text).toMatch(/^cio_id,id,email/);
    expect((await ws.app('GET', `/v1/exports/${young.id}`)).body.export.status).toBe('done');
    expect((await purgeExpired(writer, Date.now())).expiredExports).toBe(0);
  });
});

describe('ROSTER_EXPORT_LINK_TTL_MS', () => {
  it('a server with a 1-second link lifetime gives links that stop working (403 link_expired)', async () => {
    const saved = process.env.ROSTER_EXPORT_LINK_TTL_MS;
    process.env.ROSTER_EXPORT_LINK_TTL_MS = '1000';
    const short = await startServer().finally(() => {
      if (saved === undefined) delete process.env.ROSTER_EXPORT_LINK_TTL_MS;
      else process.env.ROSTER_EXPORT_LINK_TTL_MS = saved;
    });
    try {
      const w = await short.workspace();
      const done = await exportDone(w, { filters: { and: [] } });
      const link = (await w.app('GET', `/v1/exports/${done.id}/download`)).body.url as string;
      expect(Number(new URL(link).searchParams.get('exp'))).toBeLessThanOrEqual(Math.floor(Date.now() / 1000) + 1);
      await new Promise((resolve) => setTimeout(resolve, 2100));
      const res = await fetch(link);
      expect(res.status).toBe(403);
      expect(await res.json()).toEqual({
        errors: [{ detail: expect.any(String), status: '403', code: 'link_expired' }],
      });
    } finally {
      await short.close();
    }
  });
});

describe('GET /v1/exports', () => {
  it('lists the workspace’s exports by id, paging with start/next', async () => {
    const w = await server.workspace();
    const made: number[] = [];
    for (let i = 0; i < 5; i++)
      made.push((await w.app('POST', '/v1/exports/customers', { filters: { and: [] } })).body.export.id);
    const seen: number[] = [];
    let start = '';
    for (;;) {
      const [r] = await Promise.all([
        w.app('GET', `/v1/exports?limit=2${start ? `&start=${start}` : ''}`),
        w.app('POST', '/v1/exports/customers', { filters: { and: [] } }),
      ]);
      expect(r.status).toBe(200);
      seen.push(...r.body.exports.map((e: { id: number }) => e.id));
      if (r.body.next === '' || seen.length > 30) break;
      start = r.body.next;
    }
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.slice(0, 5)).toEqual(made);
    expect((await (await server.workspace()).app('GET', '/v1/exports')).body).toEqual({ exports: [], next: '' });
  });
});

describe('cross-workspace access', () => {
  it("another workspace's key gets 404 for every export endpoint and never the data; no key gets 401", async () => {
    const done = await exportDone(ws, { filters: { and: [] } });
    const seg = await ws.app('POST', '/v1/segments', { segment: { name: 'mine' } });
    expectAppError(
      await other.app('POST', '/v1/exports/customers', { filters: { segment: { id: seg.body.segment.id } } }),
      400,
      'invalid_filter',
    );
    expectAppError(await other.app('GET', `/v1/exports/${done.id}`), 404, 'export_not_found');
    expectAppError(await other.app('GET', `/v1/exports/${done.id}/download`), 404, 'export_not_found');
    expect((await other.app('GET', '/v1/exports')).body.exports.map((e: { id: number }) => e.id)).not.toContain(
      done.id,
    );
    // Its own export of everyone holds only its own person.
    const own = await exportDone(other, { filters: { and: [] } });
    const rows = rowsOf((await download(other, own.id)).text);
    expect(rows.slice(1).map((r) => r[2])).toEqual(['other-ann@example.com']);
    for (const [method, path] of [
      ['POST', '/v1/exports/customers'],
      ['GET', '/v1/exports'],
      ['GET', `/v1/exports/${done.id}`],
      ['GET', `/v1/exports/${done.id}/download`],
    ] as const) {
      expectAppError(await ws.request(method, path, undefined, null), 401, 'unauthorized');
      expectAppError(await ws.request(method, path, undefined, ws.trackAuth), 401, 'unauthorized');
    }
  });
});

describe('many people', () => {
  it('6,000 people over the 5,000-row page: every row once, the CSV stored in several ~1 MB chunks', async () => {
    const w = await server.workspace();
    const filler = 'x'.repeat(300);
    for (let b = 0; b < 12; b++) {
      const batch = Array.from({ length: 500 }, (_, i) => ({
        type: 'person',
        action: 'identify',
        identifiers: { id: `bulk-${b * 500 + i}` },
        attributes: { n: b * 500 + i, filler },
      }));
      const r = await w.batch(batch);
      expect(r.status, JSON.stringify(r.body)).toBe(200);
    }
    const done = await exportDone(w, { filters: { attribute: { field: 'filler', operator: 'exists' } } });
    expect(done.total).toBe(6000);
    const text = (await download(w, done.id)).text;
    const rows = rowsOf(text);
    expect(rows).toHaveLength(6001);
    expect(new Set(rows.slice(1).map((r) => r[1])).size).toBe(6000);
    expect(rows[0]).toEqual(['cio_id', 'id', 'email', 'created_at', 'updated_at', 'unsubscribed', 'filler', 'n']);
    const chunks = await server.roster.store.reader
      .selectFrom('export_chunks')
      .select(['seq', 'data'])
      .where('export_pk', '=', done.id)
      .orderBy('seq')
      .execute();
    expect(chunks.length).toBeGreaterThanOrEqual(2);
    expect(chunks.map((c) => c.data).join('')).toBe(text);
  }, 120_000);
});

describe('roster people export', () => {
  const cli = (...args: string[]) =>
    rosterCli(
      server.dataDir,
      ['people', 'export', '--workspace', ws.creds.workspace_id, ...args],
      backendEnv(server.databaseUrl),
    );

  it('writes the same CSV to stdout, filtered', async () => {
    const out = await cli('--filter', JSON.stringify(eq('plan', 'free')), '--attributes', 'plan,zeta');
    expect(rowsOf(out)).toEqual([
      ['cio_id', 'id', 'email', 'created_at', 'updated_at', 'unsubscribed', 'plan', 'zeta'],
      [expect.any(String), 'bob', 'bob@example.com', expect.any(String), expect.any(String), 'false', 'free', 'z'],
      [expect.any(String), "'-dash", '', expect.any(String), expect.any(String), 'false', 'free', ''],
    ]);
  });

  it('--out writes a file; matches the HTTP export of everyone', async () => {
    const file = join(server.dataDir, 'people.csv');
    await cli('--out', file);
    const done = await exportDone(ws, { filters: { and: [] } });
    expect(readFileSync(file, 'utf8')).toBe((await download(ws, done.id)).text);
  });

  it('a bad filter exits 2 with a message', async () => {
    await expect(cli('--filter', '{"nope":1}')).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringContaining('--filter'),
    });
    await expect(cli('--filter', 'not json')).rejects.toMatchObject({ code: 2 });
  });
});

describe('a stored NUL character', () => {
  it('is exported as U+FFFD, on PostgreSQL too', async () => {
    const w = await server.workspace();
    expect((await w.identify('nul-1', { note: '=a\u0000b' })).status).toBe(200);
    const done = await exportDone(w, { filters: { and: [] } });
    expect(done.status).toBe('done');
    const rows = rowsOf((await download(w, done.id)).text);
    expect(rows[0]).toEqual(['cio_id', 'id', 'email', 'created_at', 'updated_at', 'unsubscribed', 'note']);
    expect(rows[1]![6]).toBe("'=a\uFFFDb");
  });
});

describe('odd input is answered, never a 500', () => {
  it('huge and malformed ids and cursors', async () => {
    const big = '999999999999999';
    const huge = '99999999999999999999999';
    for (const path of [
      `/v1/segments/${big}`,
      `/v1/segments/${huge}`,
      `/v1/segments/${big}/membership`,
      `/v1/segments/-1/customer_count`,
      `/v1/exports/${big}`,
      `/v1/exports/${huge}/download`,
      `/v1/exports/1.5`,
    ]) {
      const r = await ws.app('GET', path);
      expect(r.status, path).toBe(404);
    }
    const cursor = Buffer.from(`customers:${big}`).toString('base64url');
    const r = await ws.app('POST', `/v1/customers?start=${cursor}`, { filter: { and: [] } });
    expect(r.body).toEqual({ identifiers: [], ids: [], next: '' });
    for (const id of [big, huge]) {
      const add = await ws.request('POST', `/api/v1/segments/${id}/add_customers`, { ids: ['ann'] });
      expect(add.status).toBe(404);
    }
    const filter = { segment: { id: Number(big) } };
    expect((await ws.app('POST', '/v1/customers', { filter })).status).toBe(400);
    expect((await fetch(`${ws.base}/exports/${huge}/file?exp=1&sig=x`)).status).toBe(401);
    expect((await fetch(`${ws.base}/exports/1/file?exp=${huge}&sig=x`)).status).toBe(401);
  });
});
