import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IdentifierMode } from '../../src/domain/workspace.js';
import { startServer, type Reply, type TestServer, type TestWorkspace } from '../helpers/roster-server.js';

/**
 * Segments over real HTTP: the App API (`/v1/segments…`, Bearer) and the Track API's manual membership calls
 * (`/api/v1/segments/{id}/add_customers|remove_customers`, Basic), in both workspace identifier modes. Shapes follow
 * reference/customerio-api.md §4.3 and §1.10.
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
const uid = (prefix = 'u') => `${prefix}-${++counter}`;

function expectAppError(r: Reply, status: number, code: string) {
  expect(r.status, JSON.stringify(r.body)).toBe(status);
  expect(r.body).toEqual({ errors: [{ detail: expect.any(String), status: String(status), code }] });
}

function expectTrackError(r: Reply, status: number, code: string) {
  expect(r.status, JSON.stringify(r.body)).toBe(status);
  expect(r.body).toEqual({ meta: { errors: [expect.any(String)], code } });
}

async function createSegment(w: TestWorkspace, segment: Record<string, unknown>) {
  const r = await w.app('POST', '/v1/segments', { segment });
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return r.body.segment as { id: number; type: string; name: string };
}

/** Every member's id (or "" for none), walking all pages of the membership. */
async function members(w: TestWorkspace, id: number, limit = 1000): Promise<string[]> {
  const out: string[] = [];
  let start = '';
  for (let i = 0; i < 1000; i++) {
    const r = await w.app('GET', `/v1/segments/${id}/membership?limit=${limit}${start ? `&start=${start}` : ''}`);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    out.push(...(r.body.ids as string[]));
    if (r.body.next === '') return out.sort();
    start = r.body.next;
  }
  throw new Error('too many pages');
}

const add = (w: TestWorkspace, id: number, ids: unknown[], idType?: string) =>
  w.request('POST', `/api/v1/segments/${id}/add_customers${idType ? `?id_type=${idType}` : ''}`, { ids });
const remove = (w: TestWorkspace, id: number, ids: unknown[], idType?: string) =>
  w.request('POST', `/api/v1/segments/${id}/remove_customers${idType ? `?id_type=${idType}` : ''}`, { ids });

describe('App API segments', () => {
  it('POST creates a manual segment in Customer.io’s shape; GET reads it back', async () => {
    const r = await ws.app('POST', '/v1/segments', { segment: { name: 'Manual Segment 1', description: 'VIPs' } });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({
      segment: {
        id: expect.any(Number),
        deduplicate_id: expect.stringMatching(/^\d+:\d+$/),
        name: 'Manual Segment 1',
        description: 'VIPs',
        state: 'finished',
        progress: null,
        type: 'manual',
        tags: null,
        created_at: expect.any(Number),
        updated_at: expect.any(Number),
      },
    });
    const got = await ws.app('GET', `/v1/segments/${r.body.segment.id}`);
    expect(got.status).toBe(200);
    expect(got.body).toEqual(r.body);
    expect(await ws.app('GET', `/v1/segments/${r.body.segment.id}/customer_count`)).toEqual({
      status: 200,
      body: { count: 0 },
    });
    expect((await ws.app('GET', `/v1/segments/${r.body.segment.id}/membership`)).body).toEqual({
      ids: [],
      identifiers: [],
      next: '',
    });
  });

  it('refuses a segment without a name, or with a bad filter', async () => {
    expectAppError(await ws.app('POST', '/v1/segments', {}), 400, 'invalid_body');
    expectAppError(await ws.app('POST', '/v1/segments', { segment: { name: '' } }), 400, 'invalid_body');
    expectAppError(await ws.app('POST', '/v1/segments', { segment: { name: 3 } }), 400, 'invalid_body');
    expectAppError(
      await ws.app('POST', '/v1/segments', { segment: { name: 'x', filter: { attribute: { field: 'a' } } } }),
      400,
      'invalid_filter',
    );
    expectAppError(
      await ws.app('POST', '/v1/segments', { segment: { name: 'x', filter: { segment: { id: 987654 } } } }),
      400,
      'invalid_filter',
    );
  });

  it('GET /v1/segments pages by id, stable while segments are created', async () => {
    const w = await server.workspace();
    const made: number[] = [];
    for (let i = 0; i < 7; i++) made.push((await createSegment(w, { name: `s${i}` })).id);
    const seen: number[] = [];
    let start = '';
    for (;;) {
      const [r] = await Promise.all([
        w.app('GET', `/v1/segments?limit=3${start ? `&start=${start}` : ''}`),
        createSegment(w, { name: uid('late') }),
      ]);
      expect(r.status).toBe(200);
      seen.push(...r.body.segments.map((s: { id: number }) => s.id));
      if (r.body.next === '' || seen.length > 40) break;
      start = r.body.next;
    }
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.slice(0, made.length)).toEqual(made);
    expectAppError(await w.app('GET', '/v1/segments?limit=0'), 400, 'invalid_query');
    expectAppError(await w.app('GET', '/v1/segments?start=zzz'), 400, 'invalid_query');
  });

  it('DELETE answers 204, then the segment is gone (404 segment_not_found)', async () => {
    const s = await createSegment(ws, { name: 'doomed' });
    const r = await ws.app('DELETE', `/v1/segments/${s.id}`);
    expect(r.status).toBe(204);
    expectAppError(await ws.app('GET', `/v1/segments/${s.id}`), 404, 'segment_not_found');
    expectAppError(await ws.app('DELETE', `/v1/segments/${s.id}`), 404, 'segment_not_found');
    expectAppError(await ws.app('GET', `/v1/segments/${s.id}/membership`), 404, 'segment_not_found');
    expectAppError(await ws.app('GET', '/v1/segments/abc'), 404, 'segment_not_found');
    expectAppError(await ws.app('GET', '/v1/segments/0/customer_count'), 404, 'segment_not_found');
  });
});

describe.each(['email_or_id', 'id_only'] as IdentifierMode[])('manual membership in %s workspaces', (mode) => {
  let w: TestWorkspace;
  let seg: { id: number };
  const cio: Record<string, string> = {};

  beforeAll(async () => {
    w = await server.workspace({ identifiers: mode });
    for (const id of ['m1', 'm2', 'm3', 'm4']) {
      expect((await w.identify(id, { email: `${id}@example.com` })).status).toBe(200);
      cio[id] = (await w.person(id)).identifiers.cio_id;
    }
    seg = await createSegment(w, { name: 'manual' });
  });

  it('add by id, by email and by cio_id; unknown and malformed values are ignored', async () => {
    expect(await add(w, seg.id, ['m1', 'nobody', ''])).toEqual({ status: 200, body: {} });
    expect(await add(w, seg.id, ['M2@Example.com', 'not-an-email'], 'email')).toEqual({ status: 200, body: {} });
    expect(await add(w, seg.id, [`cio_${cio.m3}`, 'cio_nope'], 'cio_id')).toEqual({ status: 200, body: {} });
    expect(await members(w, seg.id)).toEqual(['m1', 'm2', 'm3']);
    expect((await w.app('GET', `/v1/segments/${seg.id}/customer_count`)).body).toEqual({ count: 3 });
    // Adding again changes nothing.
    expect((await add(w, seg.id, ['m1', 'm1'])).status).toBe(200);
    expect(await members(w, seg.id)).toEqual(['m1', 'm2', 'm3']);
  });

  it('membership answers ids and identifiers, and pages with start/next', async () => {
    const r = await w.app('GET', `/v1/segments/${seg.id}/membership?limit=2`);
    expect(r.body).toEqual({
      ids: ['m1', 'm2'],
      identifiers: [
        { email: 'm1@example.com', id: 'm1', cio_id: cio.m1 },
        { email: 'm2@example.com', id: 'm2', cio_id: cio.m2 },
      ],
      next: expect.any(String),
    });
    const rest = await w.app('GET', `/v1/segments/${seg.id}/membership?limit=2&start=${r.body.next}`);
    expect(rest.body.ids).toEqual(['m3']);
    expect(rest.body.next).toBe('');
    expect(await members(w, seg.id, 1)).toEqual(['m1', 'm2', 'm3']);
  });

  it('GET /v1/customers/{ref}/segments lists the person’s segments', async () => {
    const r = await w.app('GET', '/v1/customers/m1/segments');
    expect(r.status).toBe(200);
    expect(r.body.segments.map((s: { id: number }) => s.id)).toEqual([seg.id]);
    expect(r.body.segments[0]).toMatchObject({ id: seg.id, name: 'manual', description: '' });
    expect((await w.app('GET', '/v1/customers/m4/segments')).body).toEqual({ segments: [] });
    expectAppError(await w.app('GET', '/v1/customers/nobody/segments'), 404, 'person_not_found');
  });

  it('remove by id, email and cio_id', async () => {
    expect(await remove(w, seg.id, ['m1'])).toEqual({ status: 200, body: {} });
    expect(await remove(w, seg.id, ['m2@example.com'], 'email')).toEqual({ status: 200, body: {} });
    expect(await members(w, seg.id)).toEqual(['m3']);
    expect(await remove(w, seg.id, [cio.m3], 'cio_id')).toEqual({ status: 200, body: {} });
    expect(await members(w, seg.id)).toEqual([]);
  });

  it('the segment is usable in a filter', async () => {
    expect((await add(w, seg.id, ['m4'])).status).toBe(200);
    const r = await w.app('POST', '/v1/customers', { filter: { segment: { id: seg.id } } });
    expect(r.body.ids).toEqual(['m4']);
    const not = await w.app('POST', '/v1/customers', { filter: { not: { segment: { id: seg.id } } } });
    expect(not.body.ids).toEqual(['m1', 'm2', 'm3']);
  });

  it('refusals: no ids, over 1000 ids, a bad id_type, no such segment', async () => {
    expectTrackError(await add(w, seg.id, []), 400, 'invalid_body');
    expectTrackError(
      await add(
        w,
        seg.id,
        Array.from({ length: 1001 }, (_, i) => `x${i}`),
      ),
      400,
      'invalid_body',
    );
    expectTrackError(await add(w, seg.id, ['m1'], 'phone'), 400, 'invalid_identifier');
    expectTrackError(await add(w, 999_999, ['m1']), 404, 'segment_not_found');
    expectTrackError(await remove(w, 999_999, ['m1']), 404, 'segment_not_found');
    expect(
      (
        await add(
          w,
          seg.id,
          Array.from({ length: 1000 }, (_, i) => `x${i}`),
        )
      ).status,
    ).toBe(200);
  });
});

describe('membership pagination', () => {
  it('a walk sees every member who was in when it started exactly once, while members are added concurrently', async () => {
    const w = await server.workspace();
    const seg = await createSegment(w, { name: 'walk' });
    const before = Array.from({ length: 25 }, (_, i) => `walk-${String(i).padStart(2, '0')}`);
    for (const id of before) expect((await w.identify(id, {})).status).toBe(200);
    expect((await add(w, seg.id, before)).status).toBe(200);
    const seen: string[] = [];
    let start = '';
    for (let n = 0; ; n++) {
      const late = `late-${n}`;
      const [r] = await Promise.all([
        w.app('GET', `/v1/segments/${seg.id}/membership?limit=4${start ? `&start=${start}` : ''}`),
        w.identify(late, {}).then(() => add(w, seg.id, [late])),
      ]);
      expect(r.status).toBe(200);
      seen.push(...(r.body.ids as string[]));
      if (r.body.next === '') break;
      start = r.body.next;
    }
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.slice(0, before.length)).toEqual(before);
  });
});

describe('id_only workspaces: email names everyone with that address', () => {
  it('adds both people who share an email', async () => {
    const w = await server.workspace({ identifiers: 'id_only' });
    expect((await w.identify('s1', { email: 'shared@example.com' })).status).toBe(200);
    expect((await w.identify('s2', { email: 'Shared@example.com' })).status).toBe(200);
    const seg = await createSegment(w, { name: 'shared' });
    expect((await add(w, seg.id, ['shared@example.com'], 'email')).status).toBe(200);
    expect(await members(w, seg.id)).toEqual(['s1', 's2']);
  });
});

describe('data-driven segments', () => {
  it('membership is the filter, computed when asked; manual add/remove is refused', async () => {
    const w = await server.workspace();
    expect((await w.identify('d1', { plan: 'pro' })).status).toBe(200);
    expect((await w.identify('d2', { plan: 'free' })).status).toBe(200);
    const filter = { attribute: { field: 'plan', operator: 'eq', value: 'pro' } };
    const seg = await createSegment(w, { name: 'pros', filter });
    expect(seg.type).toBe('dynamic');
    expect((await w.app('GET', `/v1/segments/${seg.id}`)).body.segment.filter).toEqual(filter);
    expect(await members(w, seg.id)).toEqual(['d1']);
    expect((await w.identify('d2', { plan: 'pro' })).status).toBe(200);
    expect(await members(w, seg.id)).toEqual(['d1', 'd2']);
    expect((await w.app('GET', `/v1/segments/${seg.id}/customer_count`)).body).toEqual({ count: 2 });
    expect((await w.app('GET', '/v1/customers/d1/segments')).body.segments.map((s: { id: number }) => s.id)).toEqual([
      seg.id,
    ]);
    expectTrackError(await add(w, seg.id, ['d1']), 400, 'segment_not_manual');
    expectTrackError(await remove(w, seg.id, ['d1']), 400, 'segment_not_manual');

    // A segment of a segment, and one whose inner segment was deleted (it then matches nobody).
    const manual = await createSegment(w, { name: 'm' });
    expect((await add(w, manual.id, ['d1'])).status).toBe(200);
    const both = await createSegment(w, {
      name: 'both',
      filter: { and: [{ segment: { id: seg.id } }, { segment: { id: manual.id } }] },
    });
    expect(await members(w, both.id)).toEqual(['d1']);
    expect((await w.app('DELETE', `/v1/segments/${manual.id}`)).status).toBe(204);
    expect(await members(w, both.id)).toEqual([]);
    expect((await w.app('GET', `/v1/segments/${both.id}/customer_count`)).body).toEqual({ count: 0 });
  });
});

describe('people leaving', () => {
  it('a deleted person leaves their segments; a merge moves memberships to the primary', async () => {
    const w = await server.workspace();
    for (const id of ['g1', 'g2', 'g3']) expect((await w.identify(id, {})).status).toBe(200);
    const seg = await createSegment(w, { name: 'leaving' });
    expect((await add(w, seg.id, ['g1', 'g2'])).status).toBe(200);
    expect((await w.delete('g1')).status).toBe(200);
    expect(await members(w, seg.id)).toEqual(['g2']);
    expect((await w.merge({ id: 'g3' }, { id: 'g2' })).status).toBe(200);
    expect(await members(w, seg.id)).toEqual(['g3']);
    expect((await w.app('GET', `/v1/segments/${seg.id}/customer_count`)).body).toEqual({ count: 1 });
  });
});

describe('cross-workspace access', () => {
  it("another workspace's keys get 404 (App API and Track API) and never data; no key gets 401", async () => {
    expect((await ws.identify('secret-person', {})).status).toBe(200);
    const seg = await createSegment(ws, { name: 'private' });
    expect((await add(ws, seg.id, ['secret-person'])).status).toBe(200);
    for (const path of [
      `/v1/segments/${seg.id}`,
      `/v1/segments/${seg.id}/customer_count`,
      `/v1/segments/${seg.id}/membership`,
    ])
      expectAppError(await other.app('GET', path), 404, 'segment_not_found');
    expectAppError(await other.app('DELETE', `/v1/segments/${seg.id}`), 404, 'segment_not_found');
    expectAppError(
      await other.app('POST', '/v1/customers', { filter: { segment: { id: seg.id } } }),
      400,
      'invalid_filter',
    );
    expectAppError(
      await other.app('POST', '/v1/segments', { segment: { name: 'x', filter: { segment: { id: seg.id } } } }),
      400,
      'invalid_filter',
    );
    expect((await other.app('GET', '/v1/segments')).body.segments).toEqual([]);
    expectTrackError(await add(other, seg.id, ['secret-person']), 404, 'segment_not_found');
    expectTrackError(await remove(other, seg.id, ['secret-person']), 404, 'segment_not_found');
    // The owner's segment is untouched.
    expect(await members(ws, seg.id)).toEqual(['secret-person']);

    for (const [method, path] of [
      ['GET', '/v1/segments'],
      ['POST', '/v1/segments'],
      ['GET', `/v1/segments/${seg.id}`],
      ['DELETE', `/v1/segments/${seg.id}`],
      ['GET', `/v1/segments/${seg.id}/customer_count`],
      ['GET', `/v1/segments/${seg.id}/membership`],
    ] as const) {
      expectAppError(await ws.request(method, path, undefined, null), 401, 'unauthorized');
      expectAppError(await ws.request(method, path, undefined, ws.trackAuth), 401, 'unauthorized');
    }
    for (const action of ['add_customers', 'remove_customers']) {
      const path = `/api/v1/segments/${seg.id}/${action}`;
      expectTrackError(await ws.request('POST', path, { ids: ['secret-person'] }, null), 401, 'unauthorized');
      expectTrackError(await ws.request('POST', path, { ids: ['secret-person'] }, ws.appAuth), 401, 'unauthorized');
    }
    expect(await members(ws, seg.id)).toEqual(['secret-person']);
  });
});
