import { createHmac } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRoster, type Roster } from '../../src/roster.js';
import { copiedTables, tableKeys } from '../../src/store/copy.js';
import { openPostgresStore, openSqliteStore, type Store } from '../../src/store/database.js';
import { workspacesStore } from '../../src/store/workspaces.js';
import { freshPostgresSchema } from '../helpers/backend.js';
import { rosterCli } from '../helpers/roster-process.js';
import { TestWorkspace, type Reply } from '../helpers/roster-server.js';

/**
 * `roster copy` moves a SQLite data dir into PostgreSQL, and `roster migrate` runs migrations, through the real CLI.
 * The SQLite side is filled by a real Roster over HTTP (identifies, events, anonymous events and their link, devices,
 * a merge, a suppression, a rule C refusal, objects and relationships, Segment messages), the copy runs in small
 * batches, and a Roster on the PostgreSQL copy must answer the App API exactly as the SQLite one did, to the same
 * credentials. Copy is SQLite → PostgreSQL by nature, so this file needs PostgreSQL whatever ROSTER_TEST_BACKEND says.
 */

type Rows = Record<string, unknown>[];
type Observation = Record<string, unknown>;

const dropSchemas: (() => Promise<void>)[] = [];
const tempDirs: string[] = [];
const savedDatabaseUrl = process.env.DATABASE_URL;

let dataDir: string;
let targetUrl: string;
let shop: TestWorkspace;
let idOnly: TestWorkspace;
let sqliteRows: Record<string, Rows>;
let observedOnSqlite: Observation;

const tempDir = (prefix: string) => {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
};

async function postgresSchema(): Promise<string> {
  const schema = await freshPostgresSchema();
  dropSchemas.push(schema.drop);
  return schema.url;
}

/** Runs the CLI expecting a failure; its exit code, stdout and stderr. */
async function failingCli(dir: string, args: string[], env: Record<string, string> = {}) {
  const err = (await rosterCli(dir, args, env).then(
    () => expect.fail(`roster ${args.join(' ')} should have failed`),
    (e: unknown) => e,
  )) as { code: number; stdout: string; stderr: string };
  return err;
}

/** The `table  sqlite  postgresql  ok` lines the copy prints. */
function printedCounts(stdout: string): Record<string, { source: number; target: number; mark: string }> {
  const out: Record<string, { source: number; target: number; mark: string }> = {};
  for (const m of stdout.matchAll(/^ {2}(\w+) +([\d,]+) +([\d,]+) {2}(.+)$/gm))
    out[m[1]!] = { source: Number(m[2]!.replaceAll(',', '')), target: Number(m[3]!.replaceAll(',', '')), mark: m[4]! };
  return out;
}

/** Every row of every copied table, in key order. */
async function allRows(store: Store): Promise<Record<string, Rows>> {
  const out: Record<string, Rows> = {};
  for (const table of copiedTables) {
    let q = store.reader.selectFrom(table).selectAll();
    for (const column of tableKeys[table]) q = q.orderBy(column as never);
    out[table] = (await q.execute()) as Rows;
  }
  return out;
}

async function rowsIn(open: () => Promise<Store>) {
  const store = await open();
  try {
    return await allRows(store);
  } finally {
    await store.close();
  }
}

function ok(r: Reply) {
  expect(r.status, JSON.stringify(r.body)).toBe(200);
}

const objectOp = (action: string, objectId: string, extra: Record<string, unknown> = {}) => ({
  type: 'object',
  action,
  identifiers: { object_type_id: '1', object_id: objectId },
  ...extra,
});

/** Real traffic over HTTP that touches every table. */
async function fillWorkspaces(): Promise<void> {
  for (let i = 0; i < 12; i++) {
    ok(await shop.identify(`p${i}`, { email: `p${i}@example.com`, plan: i % 2 ? 'pro' : 'free', n: i, tags: [i] }));
    ok(await shop.track(`p${i}`, { name: 'Viewed', id: `evt-${i}`, data: { i } }));
  }
  // 40 more people in one v2 batch, so the copy's small batches page through several keys.
  const batch = Array.from({ length: 40 }, (_, i) => ({
    type: 'person',
    action: 'identify',
    identifiers: { id: `b${i}` },
    attributes: { email: `b${i}@example.com`, score: i },
  }));
  ok(await shop.batch(batch));
  ok(await shop.anonymousEvent({ anonymous_id: 'anon-linked', name: 'Landed', data: { from: 'ad' } }));
  ok(await shop.anonymousEvent({ anonymous_id: 'anon-alone', name: 'Bounced' }));
  ok(await shop.identify('p0', { anonymous_id: 'anon-linked' }));
  ok(await shop.addDevice('p1', { id: 'tok-ios', platform: 'ios', last_used: 1_700_000_000 }));
  ok(await shop.addDevice('p2', { id: 'tok-android', platform: 'android', attributes: { app: '2.1' } }));
  ok(await shop.identify('dup', { email: 'dup@example.com', extra: 'kept' }));
  ok(await shop.merge({ id: 'p3' }, { id: 'dup' }));
  ok(await shop.suppress('p4'));
  // Rule C: p6's email is another person's, so the change is refused and logged.
  expect((await shop.identify('p5', { email: 'p6@example.com' })).status).toBe(409);
  ok(
    await shop.entity(
      objectOp('identify', 'acme', {
        attributes: { tier: 'gold' },
        cio_relationships: [{ identifiers: { id: 'p1' }, relationship_attributes: { role: 'admin' } }],
      }),
    ),
  );
  ok(
    await shop.entity(
      objectOp('identify_anonymous', 'acme', {
        cio_relationships: [{ identifiers: { anonymous_id: 'anon-waiting' } }],
      }),
    ),
  );
  ok(await shop.segment('/v1/track', { userId: 'p7', event: 'Segmented', messageId: 'msg-1' }));
  ok(await shop.segment('/v1/track', { userId: 'p7', event: 'Segmented', messageId: 'msg-1' }));
  ok(await shop.segment('/v1/identify', { userId: 'p7', traits: { via: 'segment' }, messageId: 'msg-2' }));
  for (const id of ['x1', 'x2']) ok(await idOnly.identify(id, { email: 'same@example.com', side: id }));
  // A manual segment with members, and a finished export of it (its CSV lives in export_chunks).
  const seg = await shop.app('POST', '/v1/segments', { segment: { name: 'copied' } });
  ok(seg);
  ok(await shop.request('POST', `/api/v1/segments/${seg.body.segment.id}/add_customers`, { ids: ['p1', 'p2'] }));
  const created = await shop.app('POST', '/v1/exports/customers', {
    filters: { segment: { id: seg.body.segment.id } },
  });
  ok(created);
  for (let i = 0; i < 200; i++) {
    const got = await shop.app('GET', `/v1/exports/${created.body.export.id}`);
    if (got.body.export.status === 'done') break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** What the App API says about both workspaces. */
async function observe(): Promise<Observation> {
  const out: Observation = {};
  const people = ['p0', 'p1', 'p2', 'p3', 'p4', 'p5', 'p6', 'p7', 'p11', 'b0', 'b39', 'dup'];
  for (const id of people) {
    out[`person ${id}`] = await shop.person(id);
    if (out[`person ${id}`] !== null) out[`activities ${id}`] = await shop.activities(id, '&limit=100');
  }
  out['by email'] = await shop.byEmail('b7@example.com');
  out['object'] = (await shop.app('GET', '/v1/objects/1/acme')).body;
  out['integration log'] = (await shop.app('GET', '/v1/activities?limit=100')).body;
  out['id_only by email'] = await idOnly.byEmail('same@example.com');
  out['id_only x2'] = await idOnly.person('x2');
  out['segments'] = (await shop.app('GET', '/v1/segments')).body;
  for (const s of (out['segments'] as { segments: { id: number }[] }).segments)
    out[`membership ${s.id}`] = (await shop.app('GET', `/v1/segments/${s.id}/membership`)).body;
  out['exports'] = (await shop.app('GET', '/v1/exports')).body;
  return out;
}

beforeAll(async () => {
  // The source is SQLite whatever the environment says.
  delete process.env.DATABASE_URL;
  dataDir = tempDir('roster-copy-');
  const roster: Roster = await createRoster({ dataDir });
  try {
    const base = await roster.app.listen({ port: 0, host: '127.0.0.1' });
    const create = (name: string, identifiers: 'email_or_id' | 'id_only') =>
      workspacesStore.create(roster.store.writer, roster.masterKey, { name, identifiers, allowEmailUpdateById: false });
    shop = new TestWorkspace(base, await create('Shop', 'email_or_id'));
    idOnly = new TestWorkspace(base, await create('Ids', 'id_only'));
    await fillWorkspaces();
    observedOnSqlite = await observe();
  } finally {
    await roster.close();
  }
  sqliteRows = await rowsIn(() => openSqliteStore(dataDir));
  targetUrl = await postgresSchema();
});

afterAll(async () => {
  if (savedDatabaseUrl !== undefined) process.env.DATABASE_URL = savedDatabaseUrl;
  for (const drop of dropSchemas) await drop();
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

describe('roster copy --from sqlite:DIR --to postgres://…', () => {
  it('the fixture has rows in every table (so the copy below proves something for each)', () => {
    for (const table of copiedTables) expect(sqliteRows[table]!.length, table).toBeGreaterThan(0);
  });

  it('copies every table row for row, keys included, and prints the counts side by side', async () => {
    const stdout = await rosterCli(dataDir, [
      'copy',
      '--from',
      `sqlite:${dataDir}`,
      '--to',
      targetUrl,
      '--batch-size',
      '5',
    ]);
    expect(stdout).toMatch(/Target schema: ran 0001_core/);
    const counts = printedCounts(stdout);
    expect(Object.keys(counts)).toEqual(copiedTables);
    for (const table of copiedTables)
      expect(counts[table], table).toEqual({
        source: sqliteRows[table]!.length,
        target: sqliteRows[table]!.length,
        mark: 'ok',
      });
    expect(stdout).toMatch(/secret\.key/);
    expect(await rowsIn(() => openPostgresStore(targetUrl))).toEqual(sqliteRows);
  });

  it('run again: nothing duplicated, counts unchanged, exit 0', async () => {
    const stdout = await rosterCli(dataDir, [
      'copy',
      '--from',
      `sqlite:${join(dataDir, 'roster.sqlite')}`,
      '--to',
      targetUrl,
    ]);
    expect(stdout).toMatch(/Target schema: up to date/);
    for (const [table, c] of Object.entries(printedCounts(stdout)))
      expect(c, table).toEqual({ source: sqliteRows[table]!.length, target: sqliteRows[table]!.length, mark: 'ok' });
    expect(await rowsIn(() => openPostgresStore(targetUrl))).toEqual(sqliteRows);
  });

  it('after an interruption (rows missing from the target), a re-run fills in exactly what is missing', async () => {
    const target = await openPostgresStore(targetUrl);
    try {
      const people = sqliteRows.people!;
      const middle = people[Math.floor(people.length / 2)]!.pk as number;
      await target.writer.deleteFrom('people').where('pk', '>', middle).execute();
      await target.writer.deleteFrom('devices').execute();
      await target.writer.deleteFrom('relationships').execute();
    } finally {
      await target.close();
    }
    const stdout = await rosterCli(dataDir, [
      'copy',
      '--from',
      `sqlite:${dataDir}`,
      '--to',
      targetUrl,
      '--batch-size',
      '3',
    ]);
    expect(printedCounts(stdout).people).toMatchObject({ target: sqliteRows.people!.length, mark: 'ok' });
    expect(await rowsIn(() => openPostgresStore(targetUrl))).toEqual(sqliteRows);
  });

  it('a Roster on the copy answers the App API as before, to the same credentials, and keeps numbering past the copied keys', async () => {
    // The same data dir: its secret.key unseals the copied webhook secrets.
    const roster = await createRoster({ dataDir, databaseUrl: targetUrl });
    try {
      expect(roster.store.dialect).toBe('postgres');
      const base = await roster.app.listen({ port: 0, host: '127.0.0.1' });
      shop = new TestWorkspace(base, shop.creds);
      idOnly = new TestWorkspace(base, idOnly.creds);
      expect(await observe()).toEqual(observedOnSqlite);

      // The old track key writes; new rows get keys after the copied ones (identity sequences were moved).
      ok(await shop.identify('after-copy', { email: 'after@example.com', plan: 'new' }));
      ok(await shop.track('after-copy', { name: 'Arrived', id: 'evt-after' }));
      ok(await shop.entity(objectOp('identify', 'globex', { attributes: { tier: 'silver' } })));
      expect((await shop.identify('p5', { email: 'p6@example.com' })).status).toBe(409); // a new integration-log row
      const person = await shop.person('after-copy');
      expect(person).toMatchObject({ id: 'after-copy', attributes: { plan: 'new' } });
      expect(await shop.activitiesOfType('after-copy', 'event')).toHaveLength(1);
      const maxPk = (table: 'people' | 'events' | 'objects' | 'integration_log') =>
        Math.max(...sqliteRows[table]!.map((r) => r.pk as number));
      for (const table of ['people', 'events', 'objects', 'integration_log'] as const) {
        const { pk } = await roster.store.reader
          .selectFrom(table)
          .select((eb) => eb.fn.max('pk').as('pk'))
          .executeTakeFirstOrThrow();
        expect(Number(pk), table).toBeGreaterThan(maxPk(table));
      }
      // The app key reads, and the webhook secret (sealed by the SQLite server) still verifies signatures.
      expect((await shop.app('GET', '/v1/customers/p1/attributes')).status).toBe(200);
      const body = JSON.stringify({ type: 'identify', userId: 'hooked', traits: { via: 'webhook' } });
      const res = await fetch(`${base}/segment/webhook?site_id=${shop.creds.site_id}`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-signature': createHmac('sha1', shop.creds.webhook_secret).update(body).digest('hex'),
        },
        body,
      });
      expect(res.status).toBe(200);
      expect(await shop.person('hooked')).toMatchObject({ attributes: { via: 'webhook' } });
    } finally {
      await roster.close();
    }
  });

  it('a copy over a target the new server has written to still exits 0: PostgreSQL has at least every SQLite row', async () => {
    const stdout = await rosterCli(dataDir, ['copy', '--from', `sqlite:${dataDir}`, '--to', targetUrl]);
    const counts = printedCounts(stdout);
    expect(counts.people!.target).toBeGreaterThan(counts.people!.source);
    for (const c of Object.values(counts)) expect(c.mark).toBe('ok');
  });

  it('refuses a target that is not PostgreSQL, and a source that is not a Roster data dir, with exit code 2', async () => {
    const empty = tempDir('roster-copy-empty-');
    const cases: [string[], RegExp][] = [
      [['--from', `sqlite:${dataDir}`, '--to', 'mysql://root:hunter2@db/roster'], /postgres:\/\/ or postgresql:\/\//],
      [['--from', `sqlite:${dataDir}`, '--to', `sqlite:${empty}`], /postgres:\/\/ or postgresql:\/\//],
      [['--from', `sqlite:${empty}`, '--to', targetUrl], /has no roster\.sqlite/],
      [['--from', `sqlite:${join(empty, 'nowhere')}`, '--to', targetUrl], /does not exist/],
      [['--from', targetUrl, '--to', targetUrl], /--from must be sqlite:PATH/],
      [['--to', targetUrl], /--from is required/],
    ];
    for (const [args, message] of cases) {
      const r = await failingCli(empty, ['copy', ...args], { DATABASE_URL: '' });
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toMatch(/hunter2/);
    }
    // Refusing never creates a database in the named dir.
    expect(existsSync(join(empty, 'roster.sqlite'))).toBe(false);
  });

  it('refuses (exit 2) a target that holds another Roster’s workspaces, writing nothing', async () => {
    const url = await postgresSchema();
    const other = tempDir('roster-copy-other-');
    await rosterCli(other, ['workspace', 'create', '--name', 'Elsewhere', '--json'], { DATABASE_URL: url });
    const r = await failingCli(dataDir, ['copy', '--from', `sqlite:${dataDir}`, '--to', url]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/already holds 1 workspace\(s\) that are not in the source .*"Elsewhere"/);
    const rows = await rowsIn(() => openPostgresStore(url));
    expect(rows.people).toEqual([]);
    expect(rows.workspaces).toHaveLength(1);
  });
});

describe('roster migrate', () => {
  it('on SQLite: runs every migration on a new data dir, then says the schema is up to date', async () => {
    const dir = tempDir('roster-migrate-');
    const env = { DATABASE_URL: '' };
    const first = await rosterCli(dir, ['migrate'], env);
    expect(first).toContain(`Migrated ${join(dir, 'roster.sqlite')}`);
    expect(first).toMatch(/ran 0001_core\n[\s\S]*ran 0006_partial_event_indexes/);
    const second = await rosterCli(dir, ['migrate'], env);
    expect(second).toMatch(/^Schema is up to date \(\d{4}_\w+\): .*roster\.sqlite\n$/);
  });

  it('on PostgreSQL (DATABASE_URL): runs every migration in a new schema, then says the schema is up to date', async () => {
    const dir = tempDir('roster-migrate-pg-');
    const env = { DATABASE_URL: await postgresSchema() };
    const first = await rosterCli(dir, ['migrate'], env);
    expect(first).toMatch(/^Migrated postgres:\/\//);
    expect(first).toMatch(/ran 0001_core\n[\s\S]*ran 0006_partial_event_indexes/);
    expect(await rosterCli(dir, ['migrate'], env)).toMatch(/^Schema is up to date \(\d{4}_\w+\): postgres:\/\//);
    // Nothing was written to the data dir: the store is PostgreSQL.
    expect(existsSync(join(dir, 'roster.sqlite'))).toBe(false);
  });
});
