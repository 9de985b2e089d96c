import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planDedupe } from '../../src/domain/dedupe.js';
import { resolveDuplicates } from '../../src/ingest/bulk.js';
import { findDuplicateGroups } from '../../src/queries/duplicates.js';
import { workspacesStore } from '../../src/store/workspaces.js';
import { startServer, type Reply, type TestServer, type TestWorkspace } from '../helpers/roster-server.js';

/**
 * Duplicates, bulk delete and the suppression list over real HTTP (App API, Bearer app key), on the real database.
 * The seed's "Resolve existing duplicates" procedure end to end: duplicates made by identifies in an id_only
 * workspace, listed, planned keeping the oldest, deleted by identifier, and gone; then the same with merge.
 */

let server: TestServer;

beforeAll(async () => {
  server = await startServer();
});

afterAll(async () => {
  await server?.close();
});

let counter = 0;
const uid = (prefix = 'u') => `${prefix}-${process.pid}-${++counter}`;

function expectOk(r: Reply) {
  expect(r.status, JSON.stringify(r.body)).toBe(200);
}

function expectAppError(r: Reply, status: number, code: string) {
  expect(r.status, JSON.stringify(r.body)).toBe(status);
  expect(r.body).toEqual({ errors: [{ detail: expect.any(String), status: String(status), code }] });
}

interface Listed {
  value: string;
  count: number;
  people: { cio_id: string; id: string | null; email: string | null; created_at: number; events: number }[];
}

/** Every group of every page, following `next`. */
async function allGroups(ws: TestWorkspace, by: string, limit = 100): Promise<Listed[]> {
  const groups: Listed[] = [];
  let start = '';
  for (let page = 0; page < 100; page++) {
    const r = await ws.app('GET', `/v1/duplicates?by=${encodeURIComponent(by)}&limit=${limit}&start=${start}`);
    expectOk(r);
    groups.push(...(r.body.groups as Listed[]));
    start = r.body.next as string;
    if (start === '') return groups;
  }
  throw new Error('no last page');
}

/** An id_only workspace where identifies made duplicates: same email (any case, spaces), different ids. */
async function duplicatedWorkspace() {
  const ws = await server.workspace({ identifiers: 'id_only' });
  const [a1, a2, a3, b1, c1, c2] = ['a1', 'a2', 'a3', 'b1', 'c1', 'c2'].map((p) => uid(p)) as [
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  const ann = `ann-${counter}@example.com`;
  const cat = `cat-${counter}@example.com`;
  expectOk(await ws.identify(a2, { email: ann.toUpperCase(), created_at: 2000, plan: 'pro' }));
  expectOk(await ws.identify(a1, { email: ann, created_at: 1000, country: 'NZ' }));
  expectOk(await ws.identify(a3, { email: ` ${ann} `, created_at: 3000, unsubscribed: true }));
  expectOk(await ws.identify(b1, { email: `bob-${counter}@example.com`, created_at: 500 }));
  expectOk(await ws.identify(c1, { email: cat, created_at: 4000 }));
  expectOk(await ws.identify(c2, { email: cat, created_at: 4000 }));
  for (const [ref, name] of [
    [a2, 'signed_up'],
    [a2, 'viewed'],
    [a3, 'purchased'],
    [c2, 'viewed'],
  ] as const)
    expectOk(await ws.track(ref, { name }));
  return { ws, a1, a2, a3, b1, c1, c2, ann, cat };
}

describe('the seed procedure: resolve existing duplicates (id_only workspace)', () => {
  it('lists the duplicates, plans keeping the oldest, deletes the others by identifier, and none are left', async () => {
    const { ws, a1, a2, a3, b1, c1, c2, ann, cat } = await duplicatedWorkspace();

    const groups = await allGroups(ws, 'email');
    expect(groups.map((g) => [g.value, g.count])).toEqual([
      [ann, 3],
      [cat, 2],
    ]);
    const annGroup = groups[0]!;
    expect(annGroup.people.map((p) => [p.id, p.created_at, p.events]).sort()).toEqual(
      [
        [a1, 1000, 0],
        [a2, 2000, 2],
        [a3, 3000, 1],
      ].sort(),
    );
    expect(annGroup.people.every((p) => typeof p.cio_id === 'string' && p.cio_id.length > 0)).toBe(true);

    const before = await server.dump(ws);
    const plan = await ws.app('POST', '/v1/duplicates/resolve', {
      by: 'email',
      keep: 'oldest',
      action: 'delete',
      dry_run: true,
    });
    expectOk(plan);
    expect(plan.body).toMatchObject({ dry_run: true, groups: 2, kept: 2, dropped: 3, failed: 0, keep: 'oldest' });
    const rows = plan.body.plan as { role: string; id: string; status: string; reason: string; value: string }[];
    expect(rows.filter((r) => r.role === 'keep').map((r) => r.id)).toEqual([a1, c1]);
    expect(
      rows
        .filter((r) => r.role === 'drop')
        .map((r) => r.id)
        .sort(),
    ).toEqual([a2, a3, c2].sort());
    expect(rows.find((r) => r.id === a1)!.reason).toContain('oldest created_at');
    expect(rows.filter((r) => r.role === 'drop').every((r) => r.status === 'planned')).toBe(true);
    // The same plan as CSV, for the seed's CSV-file procedure.
    const csv = await fetch(`${ws.base}/v1/duplicates/resolve`, {
      method: 'POST',
      headers: { authorization: ws.appAuth, 'content-type': 'application/json', accept: 'text/csv' },
      body: JSON.stringify({ by: 'email', action: 'delete', dry_run: true }),
    });
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    const records = parse(await csv.text(), { columns: true }) as Record<string, string>[];
    expect(records.map((r) => [r.role, r.id, r.status])).toEqual(rows.map((r) => [r.role, r.id, r.status]));
    expect(Object.keys(records[0]!)).toEqual([
      'value',
      'role',
      'cio_id',
      'id',
      'email',
      'created_at',
      'events',
      'kept_cio_id',
      'reason',
      'status',
      'error_code',
      'error_message',
    ]);
    // A dry run changes nothing.
    expect(await server.dump(ws)).toEqual(before);

    // Step 3–4 of the seed: delete the people to drop, by id.
    const drops = rows.filter((r) => r.role === 'drop').map((r) => ({ id: r.id }));
    const deleted = await ws.app('POST', '/v1/customers/delete', { identifiers: drops });
    expectOk(deleted);
    expect(deleted.body).toMatchObject({ deleted: 3, not_found: 0, failed: 0 });

    expect(await allGroups(ws, 'email')).toEqual([]);
    for (const id of [a2, a3, c2]) expect(await ws.person(id)).toBeNull();
    for (const id of [a1, b1, c1]) expect(await ws.person(id)).not.toBeNull();
    expect((await ws.byEmail(ann)).map((p) => p.id)).toEqual([a1]);
  });

  it('resolve with action delete deletes the others itself', async () => {
    const { ws, a1, a2, a3, c1, c2 } = await duplicatedWorkspace();
    const r = await ws.app('POST', '/v1/duplicates/resolve', { by: 'email', action: 'delete' });
    expectOk(r);
    expect(r.body).toMatchObject({ dry_run: false, keep: 'oldest', groups: 2, dropped: 3, failed: 0, not_found: 0 });
    expect(
      (r.body.plan as { id: string; status: string }[])
        .filter((p) => p.status === 'deleted')
        .map((p) => p.id)
        .sort(),
    ).toEqual([a2, a3, c2].sort());
    for (const id of [a2, a3, c2]) expect(await ws.person(id)).toBeNull();
    for (const id of [a1, c1]) expect(await ws.person(id)).not.toBeNull();
    expect(await allGroups(ws, 'email')).toEqual([]);
    // Deleted people's events are gone with them.
    const dump = await server.dump(ws);
    expect(dump.events).toHaveLength(0);
  });

  it('with action merge: events move to the one kept, an unsubscribe sticks, the others are gone', async () => {
    const { ws, a1, a2, a3, c1, c2, ann } = await duplicatedWorkspace();
    const r = await ws.app('POST', '/v1/duplicates/resolve', { by: 'email', keep: 'oldest', action: 'merge' });
    expectOk(r);
    expect(r.body).toMatchObject({ dry_run: false, groups: 2, dropped: 3, failed: 0 });
    for (const id of [a2, a3, c2]) expect(await ws.person(id)).toBeNull();

    const kept = await ws.person(a1);
    expect(kept.unsubscribed).toBe(true); // a3 was unsubscribed: it sticks (identity.md, Merge)
    expect(kept.attributes).toMatchObject({ country: 'NZ', plan: 'pro', email: ann });
    const events = await ws.activitiesOfType(a1, 'event');
    expect(events.map((e) => e.name).sort()).toEqual(['purchased', 'signed_up', 'viewed']);
    const merged = await ws.activitiesOfType(a1, 'merged');
    expect(merged.map((m) => (m.data.secondary as { id: string }).id).sort()).toEqual([a2, a3].sort());
    expect((await ws.activitiesOfType(c1, 'event')).map((e) => e.name)).toEqual(['viewed']);

    const groups = await allGroups(ws, 'email');
    expect(groups).toEqual([]);
  });

  it('a person gone between the scan and the change is reported not_found; the rest is still merged', async () => {
    const { ws, a1, a2, a3 } = await duplicatedWorkspace();
    const { pk } = await server.roster.store.reader
      .selectFrom('workspaces')
      .select('pk')
      .where('public_id', '=', ws.creds.workspace_id)
      .executeTakeFirstOrThrow();
    const plans = planDedupe(await findDuplicateGroups(server.roster.store.reader, pk, { kind: 'email' }), 'oldest');
    expectOk(await ws.delete(a2)); // after the scan, before the merge
    const workspace = (await workspacesStore.byPk(server.roster.store.reader, pk))!;
    const rows = await resolveDuplicates(
      server.roster.writer,
      { ws: workspace, surface: 'app_api', receivedAt: Date.now() },
      plans,
      'merge',
      false,
    );
    expect(rows.map((r) => [r.id, r.status, r.code ?? null])).toEqual([
      [a1, 'kept', null],
      [a2, 'not_found', 'person_not_found'],
      [a3, 'merged', null],
      [expect.any(String), 'kept', null],
      [expect.any(String), 'merged', null],
    ]);
    expect((await ws.person(a1)).unsubscribed).toBe(true);
  });

  it('keep newest and keep most_events choose differently', async () => {
    const { ws, a2, a3, c2 } = await duplicatedWorkspace();
    const newest = await ws.app('POST', '/v1/duplicates/resolve', {
      by: 'email',
      keep: 'newest',
      action: 'delete',
      dry_run: true,
    });
    expectOk(newest);
    const keptNewest = (newest.body.plan as { role: string; id: string }[]).filter((p) => p.role === 'keep');
    // c1 and c2 have the same created_at: the later stored is the newest.
    expect(keptNewest.map((p) => p.id)).toEqual([a3, c2]);
    const busiest = await ws.app('POST', '/v1/duplicates/resolve', {
      by: 'email',
      keep: 'most_events',
      action: 'merge',
      dry_run: true,
    });
    expectOk(busiest);
    const keptBusiest = (busiest.body.plan as { role: string; id: string }[]).filter((p) => p.role === 'keep');
    expect(keptBusiest.map((p) => p.id)).toEqual([a2, c2]);
  });
});

describe('duplicates by an attribute (email_or_id workspace)', () => {
  it('groups by a secondary email (trimmed, case-folded) and by phone, pages through groups with a cursor', async () => {
    const ws = await server.workspace();
    const people = Array.from({ length: 7 }, () => uid('p'));
    const alt = `alt-${counter}@example.com`;
    const bodies = [
      { email: `${people[0]}@example.com`, secondary_email: alt, phone: '+1 555 0100' },
      { email: `${people[1]}@example.com`, secondary_email: ` ${alt.toUpperCase()}`, phone: '+1 555 0100' },
      { email: `${people[2]}@example.com`, secondary_email: 'x@example.com', phone: '+1 555 0101' },
      { secondary_email: 'X@Example.com', phone: ' +1 555 0101 ' },
      { secondary_email: '', phone: '+1 555 0102' },
      { phone: '+1 555 0103' },
      { phone: '+1 555 0103' },
    ];
    for (const [i, body] of bodies.entries()) expectOk(await ws.identify(people[i]!, body));

    const bySecondary = await allGroups(ws, 'secondary_email');
    expect(bySecondary.map((g) => [g.value, g.people.map((p) => p.id)])).toEqual([
      [alt, [people[0], people[1]]],
      ['x@example.com', [people[2], people[3]]],
    ]);
    // The email identifier is unique in email_or_id workspaces: no duplicates by it.
    expect(await allGroups(ws, 'email')).toEqual([]);

    const byPhone = await allGroups(ws, 'phone', 1);
    expect(byPhone.map((g) => [g.value, g.count])).toEqual([
      ['+1 555 0100', 2],
      ['+1 555 0101', 2],
      ['+1 555 0103', 2],
    ]);
    const firstPage = await ws.app('GET', '/v1/duplicates?by=phone&limit=2');
    expect(firstPage.body.groups).toHaveLength(2);
    expect(firstPage.body.next).not.toBe('');

    const merged = await ws.app('POST', '/v1/duplicates/resolve', { by: 'phone', action: 'merge' });
    expectOk(merged);
    expect(merged.body).toMatchObject({ groups: 3, dropped: 3, failed: 0 });
    expect(await allGroups(ws, 'phone')).toEqual([]);
    // people[1]'s email moved nowhere (the one kept has its own); people[3] had none.
    expect(await ws.person(people[1]!)).toBeNull();
    expect((await ws.person(people[0]!)).attributes.email).toBe(`${people[0]}@example.com`);
  });

  it('refuses what it cannot group by, and bad paging, with 400 and never 500', async () => {
    const ws = await server.workspace();
    for (const q of [
      'by=id',
      'by=cio_id',
      'by=',
      'by=a%22b',
      `by=${'x'.repeat(151)}`,
      'by=email&limit=0',
      'by=email&limit=1001',
      'by=email&limit=abc',
      'by=email&start=bm9wZQ',
      'by=email&start=%%%',
      `by=email&start=${Buffer.from('dup:a\u0000').toString('base64url')}`,
      'by=a%00b',
      'by=email&by=phone',
    ])
      expectAppError(await ws.app('GET', `/v1/duplicates?${q}`), 400, 'invalid_query');
    for (const body of [
      { by: 'email', action: 'destroy' },
      { by: 'email' },
      { by: 'email', action: 'merge', keep: 'best' },
      { by: 'id', action: 'merge' },
      { by: 42, action: 'merge' },
    ])
      expectAppError(await ws.app('POST', '/v1/duplicates/resolve', body), 400, 'invalid_body');
    expectAppError(
      await ws.app('POST', '/v1/duplicates/resolve', { by: 'email', action: 'merge', dry_run: 'yes' }),
      400,
      'invalid_body',
    );
    expectAppError(await ws.app('POST', '/v1/duplicates/resolve', [1]), 400, 'invalid_body');
    expectAppError(await ws.app('POST', '/v1/duplicates/resolve'), 400, 'invalid_body');
    // Odd but valid attribute names are fine.
    for (const by of ['plan.tier', "o'brien", 'a b', '日本', 'a\\b', 'x[0]', 'a]', '.', '*', 'a$', '#'])
      expectOk(await ws.app('GET', `/v1/duplicates?by=${encodeURIComponent(by)}`));
  });
});

describe('POST /v1/customers/delete', () => {
  it('deletes up to 1,000 people and answers per identifier what happened', async () => {
    const ws = await server.workspace();
    const [a, b] = [uid('d'), uid('d')];
    const email = `${uid('e')}@example.com`;
    expectOk(await ws.identify(a));
    expectOk(await ws.identify(b));
    expectOk(await ws.identify(email));
    const cioB = (await ws.person(b)).identifiers.cio_id as string;
    const r = await ws.app('POST', '/v1/customers/delete', {
      identifiers: [
        { id: a },
        { cio_id: cioB },
        { email: email.toUpperCase() },
        { id: 'nobody-here' },
        { id: 'cio_bad' },
        { id: a, email },
        'a',
        { phone: '1' },
      ],
    });
    expectOk(r);
    expect(r.body.results.map((x: { status: string; code?: string }) => [x.status, x.code ?? null])).toEqual([
      ['deleted', null],
      ['deleted', null],
      ['deleted', null],
      ['not_found', 'person_not_found'],
      ['failed', 'reserved_prefix'],
      ['failed', 'invalid_identifier'],
      ['failed', 'invalid_identifier'],
      ['failed', 'invalid_identifier'],
    ]);
    expect(r.body).toMatchObject({ deleted: 3, not_found: 1, failed: 4 });
    expect(r.body.results[0].identifier).toEqual({ id: a });
    for (const ref of [a, b, email]) expect(await ws.person(ref, ref.includes('@') ? 'email' : 'id')).toBeNull();
  });

  it('refuses an id_only email, a missing, empty or oversized list', async () => {
    const ws = await server.workspace({ identifiers: 'id_only' });
    const r = await ws.app('POST', '/v1/customers/delete', { identifiers: [{ email: 'a@example.com' }] });
    expectOk(r);
    expect(r.body.results[0]).toMatchObject({ status: 'failed', code: 'invalid_identifier' });
    const tooMany = Array.from({ length: 1001 }, (_, i) => ({ id: `x${i}` }));
    for (const body of [{}, { identifiers: [] }, { identifiers: tooMany }, { identifiers: 'a' }, []])
      expectAppError(await ws.app('POST', '/v1/customers/delete', body), 400, 'invalid_body');
    const max = await ws.app('POST', '/v1/customers/delete', { identifiers: tooMany.slice(0, 1000) });
    expectOk(max);
    expect(max.body.not_found).toBe(1000);
  });
});

describe('the suppression list', () => {
  it('pages through suppressed ids and emails, and DELETE unsuppresses (the profile is not restored)', async () => {
    const ws = await server.workspace();
    const ids = [uid('s'), uid('s'), uid('s')];
    const email = `${uid('se')}@example.com`;
    expectOk(await ws.identify(ids[0]!, { email }));
    expectOk(await ws.identify(ids[1]!));
    for (const id of ids) expectOk(await ws.suppress(id));

    const seen: { type: string; value: string; suppressed_at: number }[] = [];
    let start = '';
    do {
      const r = await ws.app('GET', `/v1/suppressions?limit=2&start=${start}`);
      expectOk(r);
      expect(r.body.suppressions.length).toBeLessThanOrEqual(2);
      seen.push(...r.body.suppressions);
      start = r.body.next;
    } while (start !== '');
    expect(seen.map((s) => [s.type, s.value])).toEqual([['email', email], ...[...ids].sort().map((id) => ['id', id])]);
    expect(seen.every((s) => Math.abs(s.suppressed_at - Date.now() / 1000) < 60)).toBe(true);

    // Calls naming a suppressed identifier are dropped until it is unsuppressed.
    expectOk(await ws.identify(ids[0]!, { plan: 'x' }));
    expect(await ws.person(ids[0]!)).toBeNull();
    const removed = await ws.app('DELETE', `/v1/suppressions/email/${encodeURIComponent(email.toUpperCase())}`);
    expect(removed.status, JSON.stringify(removed.body)).toBe(200);
    // The email and the id suppressed with it are both free again; the profile is not restored.
    expect(await ws.person(ids[0]!)).toBeNull();
    expectOk(await ws.identify(ids[0]!, { plan: 'x' }));
    expect((await ws.person(ids[0]!)).attributes.plan).toBe('x');
    const left = await ws.app('GET', '/v1/suppressions');
    expect(left.body.suppressions.map((s: { value: string }) => s.value)).toEqual([ids[1], ids[2]].sort());

    expectAppError(
      await ws.app('DELETE', `/v1/suppressions/email/${encodeURIComponent(email)}`),
      404,
      'suppression_not_found',
    );
    expectAppError(await ws.app('DELETE', `/v1/suppressions/id/nobody`), 404, 'suppression_not_found');
    expectAppError(await ws.app('DELETE', `/v1/suppressions/phone/1`), 400, 'invalid_identifier');
    expectAppError(await ws.app('DELETE', `/v1/suppressions/id/%20`), 400, 'invalid_identifier');
    expectAppError(await ws.app('DELETE', `/v1/suppressions/id/a%00b`), 400, 'invalid_identifier');
    expectAppError(await ws.app('DELETE', `/v1/suppressions/email/a%0A@example.com`), 400, 'invalid_identifier');
    expectOk(await ws.app('DELETE', `/v1/suppressions/id/${ids[2]}`));
    const nulCursor = Buffer.from(JSON.stringify(['id', 'a\u0000'])).toString('base64url');
    for (const q of ['limit=0', 'limit=1001', 'start=xyz', 'start=WyJwaG9uZSIsIjEiXQ', `start=${nulCursor}`])
      expectAppError(await ws.app('GET', `/v1/suppressions?${q}`), 400, 'invalid_query');
  });
});

describe('cross-workspace: another workspace’s key never reaches this one', () => {
  it('lists none of its data, deletes none of its people, frees none of its suppressions', async () => {
    const { ws, a2, a3 } = await duplicatedWorkspace();
    const suppressed = uid('sx');
    expectOk(await ws.identify(suppressed));
    expectOk(await ws.suppress(suppressed));
    const other = await server.workspace({ identifiers: 'id_only' });
    const before = await server.dump(ws);

    const dup = await other.app('GET', '/v1/duplicates?by=email');
    expectOk(dup);
    expect(dup.body.groups).toEqual([]);
    const resolve = await other.app('POST', '/v1/duplicates/resolve', { by: 'email', action: 'delete' });
    expectOk(resolve);
    expect(resolve.body).toMatchObject({ groups: 0, plan: [] });
    const del = await other.app('POST', '/v1/customers/delete', { identifiers: [{ id: a2 }, { id: a3 }] });
    expect(del.body).toMatchObject({ deleted: 0, not_found: 2 });
    const sup = await other.app('GET', '/v1/suppressions');
    expect(sup.body.suppressions).toEqual([]);
    expectAppError(await other.app('DELETE', `/v1/suppressions/id/${suppressed}`), 404, 'suppression_not_found');

    // Track keys and no keys are not App keys.
    const paths: [string, string, unknown?][] = [
      ['GET', '/v1/duplicates?by=email'],
      ['POST', '/v1/duplicates/resolve', { by: 'email', action: 'delete' }],
      ['POST', '/v1/customers/delete', { identifiers: [{ id: a2 }] }],
      ['GET', '/v1/suppressions'],
      ['DELETE', `/v1/suppressions/id/${suppressed}`],
    ];
    for (const [method, path, body] of paths) {
      expectAppError(await ws.request(method, path, body, ws.trackAuth), 401, 'unauthorized');
      expectAppError(await ws.request(method, path, body, null), 401, 'unauthorized');
      expectAppError(await ws.request(method, path, body, 'Bearer not-a-key'), 401, 'unauthorized');
    }
    expect(await server.dump(ws)).toEqual(before);
  });
});
