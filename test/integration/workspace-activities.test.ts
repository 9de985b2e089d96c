import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { integrationLogStore } from '../../src/store/integration-log.js';
import { workspacesStore } from '../../src/store/workspaces.js';
import { startServer, type Reply, type TestServer, type TestWorkspace } from '../helpers/roster-server.js';

/**
 * The workspace's integration log over the App API (Bearer app key): `GET /v1/activities` in Customer.io's workspace
 * activity shape, newest first, filtered by outcome (`type`), cursor-paginated by pk; and
 * `GET /v1/activities/counts` for the web app's counters. Each workspace sees only its own entries.
 */

let server: TestServer;
let ws: TestWorkspace;
let other: TestWorkspace;

beforeAll(async () => {
  server = await startServer();
  ws = await server.workspace();
  other = await server.workspace();
});

afterAll(async () => {
  await server?.close();
});

let counter = 0;
const uid = (prefix: string) => `${prefix}-${process.pid}-${++counter}`;

interface LogActivity {
  id: string;
  timestamp: number;
  type: string;
  customer_id: string | null;
  data: { surface: string; message_id: string | null; reference: string | null; outcome: string; reason: string };
}

function expectAppError(r: Reply, status: number, code: string) {
  expect(r.status, JSON.stringify(r.body)).toBe(status);
  expect(r.body).toEqual({ errors: [{ detail: expect.any(String), status: String(status), code }] });
}

async function activities(w: TestWorkspace, query = ''): Promise<{ activities: LogActivity[]; next: string }> {
  const r = await w.app('GET', `/v1/activities${query}`);
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return r.body;
}

/** Every entry, walking the pages of `limit`; `between` runs after each page (to write concurrently). */
async function walk(w: TestWorkspace, query: string, limit: number, between?: () => Promise<void>) {
  const seen: LogActivity[] = [];
  let start = '';
  for (let page = 0; page < 1000; page++) {
    const body = await activities(w, `?limit=${limit}${query}${start ? `&start=${encodeURIComponent(start)}` : ''}`);
    expect(body.activities.length).toBeLessThanOrEqual(limit);
    seen.push(...body.activities);
    if (body.next === '') return seen;
    start = body.next;
    await between?.();
  }
  throw new Error('pagination never ended');
}

/** One of each outcome the log records, made by real calls; returns the references used. */
async function makeOneOfEach(w: TestWorkspace) {
  const a = uid('a');
  const b = uid('b');
  expect((await w.identify(a, { email: `${a}@example.com` })).status).toBe(200);
  expect((await w.identify(b, { email: `${b}@example.com` })).status).toBe(200);
  // Rule C: b's email is taken.
  expect((await w.identify(a, { email: `${b}@example.com` })).status).toBe(409);
  // A duplicate event id.
  const eventId = uid('ev');
  expect((await w.track(a, { name: 'x', id: eventId })).status).toBe(200);
  expect((await w.track(a, { name: 'x', id: eventId })).status).toBe(200);
  // Deleting someone unknown.
  const ghost = uid('ghost');
  expect((await w.delete(ghost)).status).toBe(200);
  // Suppressed: a later call about them is dropped.
  const s = uid('s');
  expect((await w.identify(s, {})).status).toBe(200);
  expect((await w.suppress(s)).status).toBe(200);
  expect((await w.identify(s, { plan: 'x' })).status).toBe(200);
  return { a, b, ghost, s, eventId };
}

describe('GET /v1/activities', () => {
  it("lists the workspace's integration log newest first, in Customer.io's activity shape", async () => {
    const refs = await makeOneOfEach(ws);
    const before = Math.floor(Date.now() / 1000);
    const { activities: list, next } = await activities(ws, '?limit=100');
    expect(next).toBe('');
    expect(list.map((x) => x.type)).toEqual(['suppressed', 'person_not_found', 'duplicate', 'identifier_in_use']);
    const pks = list.map((x) => Number(x.id.replace('il_', '')));
    expect([...pks].sort((p, q) => q - p)).toEqual(pks);
    expect(list[3]).toEqual({
      id: expect.stringMatching(/^il_\d+$/),
      timestamp: expect.any(Number),
      type: 'identifier_in_use',
      customer_id: refs.a,
      data: {
        surface: 'track_v1',
        message_id: null,
        reference: refs.a,
        outcome: 'identifier_in_use',
        reason: 'email: The identifier is already associated with a different profile.',
      },
    });
    expect(Math.abs(list[3]!.timestamp - before)).toBeLessThan(60);
    expect(list[2]).toMatchObject({ type: 'duplicate', customer_id: refs.a });
    expect(list[2]!.data.reason).toContain(refs.eventId);
    expect(list[1]).toMatchObject({ type: 'person_not_found', customer_id: refs.ghost });
    expect(list[0]).toMatchObject({ type: 'suppressed', customer_id: refs.s });
  });

  it('type= filters by outcome code', async () => {
    const w = await server.workspace();
    await makeOneOfEach(w);
    await makeOneOfEach(w);
    for (const type of ['identifier_in_use', 'duplicate', 'person_not_found', 'suppressed']) {
      const { activities: list } = await activities(w, `?type=${type}`);
      expect(list).toHaveLength(2);
      expect(list.every((x) => x.type === type && x.data.outcome === type)).toBe(true);
    }
    expect((await activities(w, '?type=no_identifier')).activities).toEqual([]);
  });

  it('pagination walks every entry exactly once, also while new entries are written between pages', async () => {
    const w = await server.workspace();
    const pk = (await workspacesStore.byPublicId(server.roster.store.reader, w.creds.workspace_id))!.pk;
    for (let i = 0; i < 23; i++) expect((await w.delete(uid('missing'))).status).toBe(200);
    const existing = (await activities(w, '?limit=100')).activities.map((x) => x.id);
    expect(existing).toHaveLength(23);

    // Entries written mid-walk are newer than any cursor: they never shift a page, nor appear in this walk.
    const seen = await walk(w, '', 5, async () => {
      expect((await w.delete(uid('during'))).status).toBe(200);
      await integrationLogStore.record(
        server.roster.store.writer,
        pk,
        { surface: 'cli', outcome: 'x', reason: 'y' },
        1,
      );
    });
    expect(seen.map((x) => x.id)).toEqual(existing);

    // And a walk with type= sees exactly the entries of that type, once each.
    const filtered = await walk(w, '&type=person_not_found', 4);
    const all = (await activities(w, '?limit=100')).activities;
    expect(filtered.map((x) => x.id)).toEqual(all.filter((x) => x.type === 'person_not_found').map((x) => x.id));
    expect(new Set(filtered.map((x) => x.id)).size).toBe(filtered.length);
  });

  it("another workspace's app key never sees the entries", async () => {
    await makeOneOfEach(ws);
    const mine = (await activities(ws, '?limit=100')).activities;
    expect(mine.length).toBeGreaterThan(0);
    const theirs = await activities(other, '?limit=100');
    expect(theirs).toEqual({ activities: [], next: '' });
    // Not even by handing it this workspace's cursor.
    const page = await activities(ws, '?limit=1');
    expect((await activities(other, `?start=${encodeURIComponent(page.next)}`)).activities).toEqual([]);
  });

  it('needs the app key: no auth or a Track key is 401', async () => {
    expectAppError(await ws.request('GET', '/v1/activities', undefined, null), 401, 'unauthorized');
    expectAppError(await ws.request('GET', '/v1/activities'), 401, 'unauthorized');
    expectAppError(await ws.request('GET', '/v1/activities/counts'), 401, 'unauthorized');
  });

  it('refuses a bad limit or a cursor it did not give out: 400 invalid_query', async () => {
    for (const q of ['?limit=0', '?limit=101', '?limit=x', '?start=nonsense', '?limit=1&limit=2'])
      expectAppError(await ws.app('GET', `/v1/activities${q}`), 400, 'invalid_query');
  });
});

describe('GET /v1/activities/counts', () => {
  it('counts entries per outcome since a time; the last 24 hours by default', async () => {
    const w = await server.workspace();
    await makeOneOfEach(w);
    await makeOneOfEach(w);
    const pk = (await workspacesStore.byPublicId(server.roster.store.reader, w.creds.workspace_id))!.pk;
    // An entry from two days ago counts only for a window that reaches back that far.
    const twoDaysAgo = Date.now() - 2 * 86_400_000;
    await integrationLogStore.record(
      server.roster.store.writer,
      pk,
      { surface: 'segment', outcome: 'no_identifier', reason: 'old' },
      twoDaysAgo,
    );
    const expected = { identifier_in_use: 2, duplicate: 2, person_not_found: 2, suppressed: 2 };

    const r = await w.app('GET', '/v1/activities/counts');
    expect(r.status).toBe(200);
    expect(r.body.counts).toEqual(expected);
    expect(r.body.since).toBeCloseTo(Math.floor(Date.now() / 1000) - 86_400, -2);

    const since = Math.floor(twoDaysAgo / 1000) - 60;
    expect((await w.app('GET', `/v1/activities/counts?since=${since}`)).body.counts).toEqual({
      ...expected,
      no_identifier: 1,
    });
    const iso = new Date(twoDaysAgo - 60_000).toISOString();
    expect((await w.app('GET', `/v1/activities/counts?since=${iso}`)).body.counts.no_identifier).toBe(1);
    const future = Math.floor(Date.now() / 1000) + 3600;
    expect((await w.app('GET', `/v1/activities/counts?since=${future}`)).body.counts).toEqual({});
    // Only this workspace's entries.
    const fresh = await server.workspace();
    expect((await fresh.app('GET', `/v1/activities/counts?since=0`)).body.counts).toEqual({});
  });

  it('refuses a since that is not a time: 400 invalid_query', async () => {
    expectAppError(await ws.app('GET', '/v1/activities/counts?since=yesterday'), 400, 'invalid_query');
  });
});
