import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type Reply, type TestServer, type TestWorkspace } from '../helpers/roster-server.js';

/**
 * App API reads (Bearer app key) over real HTTP: people by email, a person's attributes by id/email/cio_id, and
 * their activity feed with cursor pagination. Shapes follow reference/customerio-api.md §4.1; errors are
 * `{"errors":[{"detail","status","code"}]}`.
 */

let server: TestServer;
let ws: TestWorkspace;
let other: TestWorkspace;
let idOnly: TestWorkspace;

beforeAll(async () => {
  server = await startServer();
  ws = await server.workspace();
  other = await server.workspace();
  idOnly = await server.workspace({ identifiers: 'id_only' });
});

afterAll(async () => {
  await server?.close();
});

let counter = 0;
const uid = (prefix = 'u') => `${prefix}-${process.pid}-${++counter}`;
const nowS = () => Math.floor(Date.now() / 1000);
const enc = encodeURIComponent;

function expectOk(r: Reply) {
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  expect(r.body).toEqual({});
}

function expectAppError(r: Reply, status: number, code: string) {
  expect(r.status, JSON.stringify(r.body)).toBe(status);
  expect(r.body).toEqual({ errors: [{ detail: expect.any(String), status: String(status), code }] });
}

/** A person with an id, an email and one device; returns their identifiers. */
async function person(w: TestWorkspace = ws, attrs: Record<string, unknown> = {}) {
  const id = uid('p');
  const email = `${id}@Example.com`;
  expectOk(await w.identify(id, { email, ...attrs }));
  const p = await w.person(id);
  return { id, email, cio: p.identifiers.cio_id as string };
}

describe('GET /v1/customers?email=', () => {
  it('finds the person: {"results":[{email,id,cio_id}]}', async () => {
    const p = await person();
    const r = await ws.app('GET', `/v1/customers?email=${enc(p.email)}`);
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ results: [{ email: p.email, id: p.id, cio_id: p.cio }] });
  });

  it('matches case-insensitively and ignores surrounding spaces', async () => {
    const p = await person();
    expect(await ws.byEmail(p.email.toUpperCase())).toEqual([{ email: p.email, id: p.id, cio_id: p.cio }]);
    expect(await ws.byEmail(` ${p.email.toLowerCase()} `)).toEqual([{ email: p.email, id: p.id, cio_id: p.cio }]);
  });

  it('a lead without an id has id null', async () => {
    const email = `${uid('lead')}@example.com`;
    expectOk(await ws.identify(email, { source: 'form' }));
    const results = await ws.byEmail(email);
    expect(results).toEqual([{ email, id: null, cio_id: expect.any(String) }]);
  });

  it('an address with + works when percent-encoded', async () => {
    const email = `${uid('tag')}+news@example.com`;
    expectOk(await ws.identify(email, {}));
    expect(await ws.byEmail(email)).toHaveLength(1);
  });

  it('nobody, or a string that is not an address: {"results":[]}', async () => {
    for (const q of [`${uid('nobody')}@example.com`, 'not-an-email', 'a@b']) {
      const r = await ws.app('GET', `/v1/customers?email=${enc(q)}`);
      expect(r.status).toBe(200);
      expect(r.body).toEqual({ results: [] });
    }
  });

  it('in an id_only workspace several people may share an email: all are listed', async () => {
    const email = `${uid('shared')}@example.com`;
    const ids = [uid('a'), uid('b'), uid('c')];
    expectOk(await idOnly.identify(ids[0]!, { email }));
    expectOk(await idOnly.identify(ids[1]!, { email: email.toUpperCase() }));
    expectOk(await idOnly.identify(ids[2]!, { email: ` ${email}` }));
    const results = await idOnly.byEmail(email);
    expect(results.map((r) => r.id).sort()).toEqual([...ids].sort());
    expect(results.map((r) => r.email?.toLowerCase())).toEqual([email, email, email]);
    expect(new Set(results.map((r) => r.cio_id)).size).toBe(3);
  });

  it('400 invalid_query without an email', async () => {
    expectAppError(await ws.app('GET', '/v1/customers'), 400, 'invalid_query');
    expectAppError(await ws.app('GET', '/v1/customers?email='), 400, 'invalid_query');
    expectAppError(await ws.app('GET', '/v1/customers?email=%20'), 400, 'invalid_query');
  });
});

describe('GET /v1/customers/:ref/attributes', () => {
  it('the customer object: identifiers, attributes as strings, timestamps, unsubscribed, devices', async () => {
    const id = uid();
    const email = `${id}@example.com`;
    expectOk(
      await ws.identify(id, {
        email,
        created_at: 1600000000,
        plan: 'pro',
        seats: 12,
        ratio: 0.25,
        vip: true,
        trial: false,
        tags: ['a', 'b'],
        address: { city: 'Oslo', zip: 150 },
        unsubscribed: true,
      }),
    );
    const lastUsed = nowS() - 10;
    expectOk(await ws.addDevice(id, { id: 'ios-token', platform: 'ios', last_used: lastUsed }));
    expectOk(await ws.addDevice(id, { id: 'android-token', platform: 'android', attributes: { app_version: '2.0' } }));
    const r = await ws.app('GET', `/v1/customers/${enc(id)}/attributes`);
    expect(r.status).toBe(200);
    const c = r.body.customer;
    expect(c.id).toBe(id);
    expect(c.identifiers).toEqual({ id, email, cio_id: expect.stringMatching(/^[a-z0-9]+$/) });
    expect(c.attributes).toEqual({
      id,
      email,
      cio_id: c.identifiers.cio_id,
      created_at: '1600000000',
      plan: 'pro',
      seats: '12',
      ratio: '0.25',
      vip: 'true',
      trial: 'false',
      tags: '["a","b"]',
      address: '{"city":"Oslo","zip":150}',
      unsubscribed: 'true',
    });
    for (const value of Object.values(c.attributes)) expect(typeof value).toBe('string');
    expect(c.unsubscribed).toBe(true);
    expect(c.timestamps.cio_id).toEqual(expect.any(Number));
    expect(c.timestamps.plan).toEqual(expect.any(Number));
    expect(c.devices).toEqual([
      { id: 'android-token', platform: 'android', last_used: expect.any(Number), attributes: { app_version: '2.0' } },
      { id: 'ios-token', platform: 'ios', last_used: lastUsed, attributes: {} },
    ]);
  });

  it('finds the same person by id_type id (the default), email, and cio_id with or without the cio_ prefix', async () => {
    const p = await person();
    const expected = (await ws.app('GET', `/v1/customers/${enc(p.id)}/attributes`)).body;
    expect(expected.customer.identifiers.cio_id).toBe(p.cio);
    for (const path of [
      `/v1/customers/${enc(p.id)}/attributes?id_type=id`,
      `/v1/customers/${enc(p.email)}/attributes?id_type=email`,
      `/v1/customers/${enc(p.email.toUpperCase())}/attributes?id_type=email`,
      `/v1/customers/${p.cio}/attributes?id_type=cio_id`,
      `/v1/customers/cio_${p.cio}/attributes?id_type=cio_id`,
    ]) {
      const r = await ws.app('GET', path);
      expect(r.status, path).toBe(200);
      expect(r.body).toEqual(expected);
    }
  });

  it('a person without email or id shows null for it', async () => {
    const id = uid();
    expectOk(await ws.identify(id, {}));
    const c = await ws.person(id);
    expect(c.identifiers.email).toBeNull();
    expect(c.attributes).not.toHaveProperty('email');
    expect(c.devices).toEqual([]);
    const email = `${uid()}@example.com`;
    expectOk(await ws.identify(email, {}));
    const lead = await ws.person(email, 'email');
    expect(lead.id).toBeNull();
    expect(lead.identifiers.id).toBeNull();
  });

  it('in an id_only workspace an email-shaped id is an id, and email is only an attribute', async () => {
    const id = `${uid()}@example.com`;
    expectOk(await idOnly.identify(id, { email: 'contact@example.com' }));
    const c = await idOnly.person(id, 'id');
    expect(c.identifiers).toEqual({ id, email: 'contact@example.com', cio_id: expect.any(String) });
    const r = await idOnly.app('GET', `/v1/customers/${enc('contact@example.com')}/attributes?id_type=email`);
    expectAppError(r, 400, 'invalid_identifier');
  });

  it('404 person_not_found for someone unknown, by every id_type', async () => {
    for (const path of [
      `/v1/customers/${uid('nobody')}/attributes`,
      `/v1/customers/${uid('nobody')}/attributes?id_type=id`,
      `/v1/customers/${enc(`${uid()}@example.com`)}/attributes?id_type=email`,
      '/v1/customers/zzzz9999/attributes?id_type=cio_id',
      '/v1/customers/cio_zzzz9999/attributes?id_type=cio_id',
    ]) {
      const r = await ws.app('GET', path);
      expectAppError(r, 404, 'person_not_found');
      expect(r.body.errors[0].detail).toBe('The customer_id does not exist.');
    }
  });

  it('a deleted person is 404', async () => {
    const p = await person();
    expectOk(await ws.delete(p.id));
    expectAppError(await ws.app('GET', `/v1/customers/${p.cio}/attributes?id_type=cio_id`), 404, 'person_not_found');
  });

  it('400 for an unknown id_type, a junk reference, a bad email or a malformed cio_id', async () => {
    const p = await person();
    for (const [path, code] of [
      [`/v1/customers/${enc(p.id)}/attributes?id_type=phone`, 'invalid_identifier'],
      [`/v1/customers/${enc(p.id)}/attributes?id_type=uuid`, 'invalid_identifier'],
      ['/v1/customers/undefined/attributes', 'invalid_identifier'],
      [`/v1/customers/${'x'.repeat(151)}/attributes`, 'invalid_identifier'],
      ['/v1/customers/has%20space/attributes?id_type=cio_id', 'invalid_identifier'],
      ['/v1/customers/%E0%A4%A/attributes', 'invalid_identifier'],
      ['/v1/customers/not-an-email/attributes?id_type=email', 'invalid_email'],
      [`/v1/customers/cio_${p.cio}/attributes?id_type=id`, 'reserved_prefix'],
    ]) {
      expectAppError(await ws.app('GET', path!), 400, code!);
    }
  });
});

describe('GET /v1/customers/:ref/activities', () => {
  /** A person with a known mix: profile changes, events at chosen times (some tied), a device. */
  async function busyPerson() {
    const id = uid('busy');
    const t0 = nowS() - 10_000;
    expectOk(await ws.identify(id, { plan: 'a' })); // profile_create (now)
    for (let i = 0; i < 12; i++) expectOk(await ws.track(id, { name: `e${i}`, timestamp: t0 + i * 10 }));
    for (let i = 0; i < 4; i++) expectOk(await ws.track(id, { name: `tie${i}`, timestamp: t0 + 55 })); // same second
    expectOk(await ws.track(id, { name: '/pricing', type: 'page', timestamp: t0 + 200 }));
    expectOk(await ws.identify(id, { plan: 'b' })); // attribute_change
    expectOk(await ws.identify(id, { plan: 'c' })); // attribute_change
    expectOk(await ws.addDevice(id, { id: `t-${id}`, platform: 'ios' })); // device_update
    return { id, t0, total: 1 + 12 + 4 + 1 + 2 + 1 };
  }

  it('lists events and profile activity newest first, in the activity object shape', async () => {
    const { id, total } = await busyPerson();
    const body = await ws.activities(id, '&limit=100');
    expect(body.next).toBe('');
    expect(body.activities).toHaveLength(total);
    const stamps = body.activities.map((a: { timestamp: number }) => a.timestamp);
    expect(stamps).toEqual([...stamps].sort((a, b) => b - a));
    const cio = (await ws.person(id)).identifiers.cio_id;
    for (const a of body.activities) {
      expect(a).toEqual({
        id: expect.any(String),
        timestamp: expect.any(Number),
        type: expect.any(String),
        name: a.name === null ? null : expect.any(String),
        customer_id: id,
        customer_identifiers: { id, email: null, cio_id: cio },
        delivery_id: null,
        delivery_type: null,
        data: expect.any(Object),
      });
    }
    expect(new Set(body.activities.map((a: { id: string }) => a.id)).size).toBe(total);
    const types = body.activities.map((a: { type: string }) => a.type);
    expect(types.filter((t: string) => t === 'event')).toHaveLength(16);
    expect(types).toContain('profile_create');
    expect(types).toContain('device_update');
    expect(types.filter((t: string) => t === 'attribute_change')).toHaveLength(2);
  });

  it.each([1, 2, 3, 5, 7, 100])(
    'walking with limit=%i and start=next visits every item exactly once, in order',
    async (limit) => {
      const { id, total } = await busyPerson();
      const all = (await ws.activities(id, '&limit=100')).activities.map((a: { id: string }) => a.id);
      expect(all).toHaveLength(total);
      const seen: string[] = [];
      let start = '';
      for (let page = 0; page < 100; page++) {
        const body = await ws.activities(id, `&limit=${limit}${start ? `&start=${enc(start)}` : ''}`);
        expect(body.activities.length).toBeLessThanOrEqual(limit);
        seen.push(...body.activities.map((a: { id: string }) => a.id));
        if (!body.next) break;
        expect(body.activities).toHaveLength(limit);
        start = body.next;
      }
      expect(seen).toEqual(all);
    },
  );

  it('pagination holds with a type filter too', async () => {
    const { id } = await busyPerson();
    const all = (await ws.activities(id, '&type=event&limit=100')).activities.map((a: { id: string }) => a.id);
    expect(all).toHaveLength(16);
    const seen: string[] = [];
    let start = '';
    do {
      const body = await ws.activities(id, `&type=event&limit=3${start ? `&start=${enc(start)}` : ''}`);
      seen.push(...body.activities.map((a: { id: string }) => a.id));
      start = body.next;
    } while (start);
    expect(seen).toEqual(all);
  });

  it('type filters to one kind; name narrows further', async () => {
    const { id, t0 } = await busyPerson();
    const events = (await ws.activities(id, '&type=event&limit=100')).activities;
    expect(events.map((a: { type: string }) => a.type)).toEqual(Array(16).fill('event'));
    expect(events[0]).toMatchObject({ name: 'e11', timestamp: t0 + 110 });
    const pages = (await ws.activities(id, '&type=page')).activities;
    expect(pages).toEqual([expect.objectContaining({ type: 'page', name: '/pricing', timestamp: t0 + 200 })]);
    const changes = (await ws.activities(id, '&type=attribute_change')).activities;
    expect(changes.map((a: { data: unknown }) => a.data)).toEqual([
      { changes: { plan: 'c' } },
      { changes: { plan: 'b' } },
    ]);
    expect((await ws.activities(id, '&type=nothing_like_this')).activities).toEqual([]);
    const named = (await ws.activities(id, '&type=event&name=e3')).activities;
    expect(named).toEqual([expect.objectContaining({ name: 'e3', timestamp: t0 + 30 })]);
  });

  it('finds the person by email and cio_id too', async () => {
    const p = await person();
    expectOk(await ws.track(p.id, { name: 'hello' }));
    for (const [ref, idType] of [
      [p.email, 'email'],
      [p.cio, 'cio_id'],
      [`cio_${p.cio}`, 'cio_id'],
    ] as const) {
      const body = await ws.activities(ref, '&type=event', idType);
      expect(body.activities.map((a: { name: string }) => a.name)).toEqual(['hello']);
    }
  });

  it('404 for someone unknown; 400 invalid_query for a bad limit or start', async () => {
    expectAppError(await ws.app('GET', `/v1/customers/${uid('nobody')}/activities`), 404, 'person_not_found');
    const p = await person();
    for (const q of ['limit=0', 'limit=101', 'limit=abc', 'limit=2.5', 'limit=-1', 'start=not-a-cursor', 'start=W10']) {
      expectAppError(await ws.app('GET', `/v1/customers/${enc(p.id)}/activities?${q}`), 400, 'invalid_query');
    }
  });
});

describe('authentication (Bearer App API key)', () => {
  let p: { id: string; email: string; cio: string };
  beforeAll(async () => {
    p = await person();
  });
  const paths = () => [
    `/v1/customers?email=${enc(p.email)}`,
    `/v1/customers/${enc(p.id)}/attributes`,
    `/v1/customers/${p.cio}/attributes?id_type=cio_id`,
    `/v1/customers/${enc(p.id)}/activities`,
  ];
  const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

  it.each([
    ['no Authorization header', () => null],
    ['the Track API credentials (Basic)', () => ws.trackAuth],
    ['the Track API key as Bearer', () => `Bearer ${ws.creds.track_api_key}`],
    ['the Segment write key as Bearer', () => `Bearer ${ws.creds.segment_write_key}`],
    ['the App API key as Basic', () => basic(ws.creds.site_id, ws.creds.app_api_key)],
    ['a wrong key', () => 'Bearer app_not_a_real_key'],
    ['an empty Bearer', () => 'Bearer '],
    ['the key without the Bearer scheme', () => ws.creds.app_api_key],
  ])('401 unauthorized with %s', async (_label, auth) => {
    for (const path of paths()) {
      const r = await ws.send('GET', path, { auth: auth() });
      expectAppError(r, 401, 'unauthorized');
      expect(r.body.errors[0].detail).toBe('Unauthorized request. Make sure that you provided the right credentials.');
    }
  });

  it("another workspace's App API key authenticates as that workspace and never sees this one's people", async () => {
    // The key names its own workspace, so the request is valid there: the person simply does not exist.
    const r = await other.app('GET', `/v1/customers?email=${enc(p.email)}`);
    expect(r.body).toEqual({ results: [] });
    expectAppError(await other.app('GET', `/v1/customers/${enc(p.id)}/attributes`), 404, 'person_not_found');
    expectAppError(await other.app('GET', `/v1/customers/${p.cio}/attributes?id_type=cio_id`), 404, 'person_not_found');
    expectAppError(await other.app('GET', `/v1/customers/${enc(p.id)}/activities`), 404, 'person_not_found');
    // Even when the other workspace has someone with the same id and email, it sees only its own.
    expectOk(await other.identify(p.id, { email: p.email, plan: 'theirs' }));
    const theirs = await other.person(p.id);
    expect(theirs.identifiers.cio_id).not.toBe(p.cio);
    expect((await ws.person(p.id)).attributes).not.toHaveProperty('plan');
    expect(await other.byEmail(p.email)).toEqual([{ id: p.id, email: p.email, cio_id: theirs.identifiers.cio_id }]);
  });

  it('the App API is read-only here: writes and unknown routes are 404 in the App shape', async () => {
    for (const [method, path] of [
      ['PUT', `/v1/customers/${enc(p.id)}`],
      ['DELETE', `/v1/customers/${enc(p.id)}`],
      ['GET', '/v1/nothing'],
      ['GET', `/v1/customers/${enc(p.id)}`],
    ] as const) {
      const r = await ws.send(method, path, { auth: ws.appAuth, body: method === 'PUT' ? '{}' : undefined });
      expectAppError(r, 404, 'route_not_found');
    }
    expect((await ws.person(p.id)).identifiers.cio_id).toBe(p.cio);
  });
});
