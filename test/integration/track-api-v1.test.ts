import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type Reply, type TestServer, type TestWorkspace } from '../helpers/roster-server.js';

/**
 * Track API v1 over real HTTP against a real Roster: every endpoint's success and the state it leaves (read back
 * through the App API), and every error it can give, in Customer.io's v1 shape `{"meta":{"errors":[…]}}`
 * (merge_customers: `{"meta":{"error":"…"}}`). A refused call must leave the stored state exactly as it was.
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
const uid = (prefix = 'u') => `${prefix}-${process.pid}-${++counter}`;
const nowS = () => Math.floor(Date.now() / 1000);
const enc = encodeURIComponent;

interface Seed {
  id: string;
  email: string;
  cio: string;
  token: string;
}

/** A person with an email, attributes, one event and one device. */
async function seed(w: TestWorkspace = ws): Promise<Seed> {
  const id = uid('p');
  const email = `${id}@example.com`;
  const token = `tok-${id}`;
  expect((await w.identify(id, { email, plan: 'basic', age: 30 })).status).toBe(200);
  expect((await w.track(id, { name: 'seeded', data: { n: 1 } })).status).toBe(200);
  expect((await w.addDevice(id, { id: token, platform: 'ios' })).status).toBe(200);
  const person = await w.person(id);
  return { id, email, cio: person.identifiers.cio_id, token };
}

/** Asserts Customer.io's v1 error shape with Roster's stable code. */
function expectV1Error(r: Reply, status: number, code: string) {
  expect(r.status, JSON.stringify(r.body)).toBe(status);
  expect(r.body).toEqual({ meta: { errors: expect.any(Array), code } });
  expect(r.body.meta.errors.length).toBeGreaterThan(0);
  for (const m of r.body.meta.errors) expect(typeof m === 'string' && m.length > 0).toBe(true);
}

/** merge_customers answers errors in the singular form `{"meta":{"error":"…"}}`. */
function expectMergeError(r: Reply, status: number, code: string) {
  expect(r.status, JSON.stringify(r.body)).toBe(status);
  expect(r.body).toEqual({ meta: { error: expect.any(String), code } });
  expect(r.body.meta.error.length).toBeGreaterThan(0);
}

/** Runs a call that must be refused and proves both workspaces' stored state did not move. */
async function refused(call: () => Promise<Reply>, status: number, code: string, shape: 'v1' | 'merge' = 'v1') {
  const before = [await server.dump(ws), await server.dump(other)];
  const r = await call();
  if (shape === 'v1') expectV1Error(r, status, code);
  else expectMergeError(r, status, code);
  expect([await server.dump(ws), await server.dump(other)]).toEqual(before);
  return r;
}

function expectOk(r: Reply) {
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  expect(r.body).toEqual({});
}

const put = (path: string, body: string) => ws.send('PUT', path, { body });
const post = (path: string, body: string) => ws.send('POST', path, { body });

describe('authentication (HTTP Basic site_id:api_key)', () => {
  // Every v1 endpoint, aimed at a real person of `ws`, so a leak would show in the dump.
  const endpoints: [string, (s: Seed, s2: Seed) => [string, string, unknown]][] = [
    ['identify', (s) => ['PUT', `/api/v1/customers/${s.id}`, { plan: 'hacked' }]],
    ['delete', (s) => ['DELETE', `/api/v1/customers/${s.id}`, undefined]],
    ['track', (s) => ['POST', `/api/v1/customers/${s.id}/events`, { name: 'hacked' }]],
    ['anonymous event', () => ['POST', '/api/v1/events', { name: 'hacked', anonymous_id: 'anon-hacked' }]],
    ['suppress', (s) => ['POST', `/api/v1/customers/${s.id}/suppress`, {}]],
    ['unsuppress', (s) => ['POST', `/api/v1/customers/${s.id}/unsuppress`, {}]],
    ['merge', (s, s2) => ['POST', '/api/v1/merge_customers', { primary: { id: s.id }, secondary: { id: s2.id } }]],
    ['add device', (s) => ['PUT', `/api/v1/customers/${s.id}/devices`, { device: { id: 'hacked', platform: 'ios' } }]],
    ['delete device', (s) => ['DELETE', `/api/v1/customers/${s.id}/devices/${s.token}`, undefined]],
    ['region', () => ['GET', '/api/v1/accounts/region', undefined]],
    ['auth check', () => ['GET', '/auth', undefined]],
  ];
  const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
  const credentials: [string, () => string | null][] = [
    ['no Authorization header', () => null],
    ['a wrong api key', () => basic(ws.creds.site_id, 'trk_wrong')],
    ['a wrong site id', () => basic('0000000000', ws.creds.track_api_key)],
    ["another workspace's api key with this site id", () => basic(ws.creds.site_id, other.creds.track_api_key)],
    ["this api key with another workspace's site id", () => basic(other.creds.site_id, ws.creds.track_api_key)],
    ['the site id alone', () => basic(ws.creds.site_id, '')],
    ['the App API key as Bearer', () => `Bearer ${ws.creds.app_api_key}`],
    ['the track key as Bearer', () => `Bearer ${ws.creds.track_api_key}`],
    ['the App API key as the Basic password', () => basic(ws.creds.site_id, ws.creds.app_api_key)],
    ['garbage', () => 'Basic !!!not-base64!!!'],
  ];
  let s1: Seed;
  let s2: Seed;
  beforeAll(async () => {
    s1 = await seed();
    s2 = await seed();
  });

  describe.each(endpoints)('%s', (name, spec) => {
    it.each(credentials)('401 with %s, and nothing changes', async (_label, auth) => {
      const [method, path, body] = spec(s1, s2);
      const r = await refused(
        () => ws.send(method, path, { body: body === undefined ? undefined : JSON.stringify(body), auth: auth() }),
        401,
        'unauthorized',
        name === 'merge' ? 'merge' : 'v1',
      );
      const message = name === 'merge' ? r.body.meta.error : r.body.meta.errors[0];
      expect(message).toBe('Unauthorized request. Make sure that you provided the right credentials.');
    });
  });

  it('authenticates before reading the body: bad JSON without credentials is 401, not 400', async () => {
    expectV1Error(
      await ws.send('PUT', `/api/v1/customers/${s1.id}`, { body: '{bad', auth: null }),
      401,
      'unauthorized',
    );
  });

  it('GET /auth answers 200 {} with good credentials', async () => {
    expectOk(await ws.request('GET', '/auth'));
  });
});

describe("cross-workspace isolation: another workspace's valid credentials never see or change this one's data", () => {
  it('identify by the same id or email creates a separate person over there', async () => {
    const s = await seed();
    const mine = await ws.person(s.id);
    expectOk(await other.identify(s.id, { plan: 'theirs' }));
    expectOk(await other.identify(s.email, { plan: 'theirs-by-email' }));
    expect(await ws.person(s.id)).toEqual(mine);
    const theirs = await other.person(s.id);
    expect(theirs.identifiers).toEqual({ id: s.id, email: null, cio_id: expect.any(String) });
    expect(theirs.identifiers.cio_id).not.toBe(s.cio);
    expect(theirs.attributes.plan).toBe('theirs');
    const theirsByEmail = await other.person(s.email, 'email');
    expect(theirsByEmail.identifiers).toEqual({ id: null, email: s.email, cio_id: expect.any(String) });
    expect(theirsByEmail.attributes.plan).toBe('theirs-by-email');
    expect(await ws.byEmail(s.email)).toEqual([{ id: s.id, email: s.email, cio_id: s.cio }]);
  });

  it('a cio_id of this workspace is unknown over there: 404 and nothing changes', async () => {
    const s = await seed();
    await refused(() => other.identify(`cio_${s.cio}`, { plan: 'x' }), 404, 'person_not_found');
    await refused(() => other.track(`cio_${s.cio}`, { name: 'x' }), 404, 'person_not_found');
    await refused(() => other.addDevice(`cio_${s.cio}`, { id: 'x', platform: 'ios' }), 404, 'person_not_found');
    await refused(() => other.suppress(`cio_${s.cio}`), 404, 'person_not_found');
    await refused(() => other.merge({ cio_id: s.cio }, { id: s.id }), 404, 'person_not_found', 'merge');
  });

  it('delete, suppress, device delete and merge over there leave this workspace alone', async () => {
    const a = await seed();
    const b = await seed();
    const before = await server.dump(ws);
    expectOk(await other.delete(a.id));
    expectOk(await other.request('DELETE', `/api/v1/customers/${a.id}/devices/${a.token}`));
    expectOk(await other.suppress(a.email));
    expectMergeError(await other.merge({ id: a.id }, { id: b.id }), 404, 'person_not_found');
    expectOk(await other.identify(b.id, {}));
    expectMergeError(await other.merge({ id: b.id }, { id: a.id }), 404, 'person_not_found');
    expect(await server.dump(ws)).toEqual(before);
    // a's email is suppressed only over there: here it still takes updates.
    expectOk(await ws.identify(a.email, { plan: 'still-mine' }));
    expect((await ws.person(a.id)).attributes.plan).toBe('still-mine');
  });

  it("another workspace's App API key cannot read this workspace's people", async () => {
    const s = await seed();
    expect(await other.person(s.cio, 'cio_id')).toBeNull();
    expect(await other.byEmail(`only-here-${s.email}`)).toEqual([]);
  });
});

describe('PUT /api/v1/customers/:ref (identify)', () => {
  it('creates a person: 200 {} as application/json, attributes readable through the App API', async () => {
    const id = uid();
    const r = await ws.send('PUT', `/api/v1/customers/${id}`, {
      body: JSON.stringify({ email: `${id}@Example.com`, plan: 'pro', seats: 5, vip: true, prefs: { a: 1 } }),
    });
    expectOk(r);
    expect(r.contentType).toMatch(/^application\/json/);
    const p = await ws.person(id);
    expect(p.id).toBe(id);
    expect(p.identifiers).toEqual({ id, email: `${id}@Example.com`, cio_id: expect.stringMatching(/^[a-z0-9]+$/) });
    expect(p.attributes).toMatchObject({ plan: 'pro', seats: '5', vip: 'true', prefs: '{"a":1}', id });
    expect(p.unsubscribed).toBe(false);
    const created = await ws.activitiesOfType(id, 'profile_create');
    expect(created).toHaveLength(1);
  });

  it('accepts no body at all (an empty update) and charset-qualified or text/plain JSON', async () => {
    const id = uid();
    expectOk(await ws.request('PUT', `/api/v1/customers/${id}`));
    expect((await ws.person(id)).id).toBe(id);
    expectOk(
      await ws.send('PUT', `/api/v1/customers/${id}`, {
        body: '{"a":"1"}',
        contentType: 'application/json; charset=utf-8',
      }),
    );
    expectOk(await ws.send('PUT', `/api/v1/customers/${id}`, { body: '{"b":"2"}', contentType: 'text/plain' }));
    expect((await ws.person(id)).attributes).toMatchObject({ a: '1', b: '2' });
  });

  it('merges shallowly: keys in the call replace, others stay, null and "" remove', async () => {
    const id = uid();
    expectOk(await ws.identify(id, { a: 1, b: 2, c: 3, d: { x: 1, y: 2 } }));
    expectOk(await ws.identify(id, { a: 10, b: null, c: '', d: { x: 5 } }));
    const { attributes } = await ws.person(id);
    expect(attributes.a).toBe('10');
    expect(attributes).not.toHaveProperty('b');
    expect(attributes).not.toHaveProperty('c');
    expect(attributes.d).toBe('{"x":5}');
    const changes = await ws.activitiesOfType(id, 'attribute_change');
    expect(changes).toHaveLength(1);
  });

  it('an email reference creates the person with that email; later references match it case-insensitively', async () => {
    const email = `${uid('Mixed')}@Example.COM`;
    expectOk(await ws.identify(email, { plan: 'a' }));
    expectOk(await ws.identify(email.toLowerCase(), { plan: 'b' }));
    expectOk(await ws.identify(`  ${email.toUpperCase()}`, { seats: 2 }));
    const found = await ws.byEmail(email.toLowerCase());
    expect(found).toHaveLength(1);
    expect(found[0]!.email).toBe(email);
    expect(found[0]!.id).toBeNull();
    const p = await ws.person(email, 'email');
    expect(p.attributes).toMatchObject({ plan: 'b', seats: '2' });
  });

  it('ids are case-sensitive and may hold any printable characters, slashes and unicode included', async () => {
    const base = uid('Case');
    expectOk(await ws.identify(base, { v: 'upper' }));
    expectOk(await ws.identify(base.toLowerCase(), { v: 'lower' }));
    expect((await ws.person(base)).attributes.v).toBe('upper');
    expect((await ws.person(base.toLowerCase())).attributes.v).toBe('lower');
    const odd = `${uid()}/a b?c#d&é😀`;
    expectOk(await ws.identify(odd, { v: 'odd' }));
    expect((await ws.person(odd)).id).toBe(odd);
  });

  it('accepts an id of exactly 150 bytes (multi-byte characters counted as bytes)', async () => {
    const ascii = uid().padEnd(150, 'x');
    expectOk(await ws.identify(ascii, {}));
    expect((await ws.person(ascii)).id).toBe(ascii);
    const multi = 'é'.repeat(75); // 150 bytes
    expectOk(await ws.identify(multi, {}));
    expect((await ws.person(multi)).id).toBe(multi);
  });

  it('a cio_ reference updates that person, identifiers included (rule 2)', async () => {
    const s = await seed();
    const newId = uid('renamed');
    expectOk(await ws.identify(`cio_${s.cio}`, { id: newId, email: `new-${s.email}`, plan: 'gold' }));
    expect(await ws.person(s.id)).toBeNull();
    const p = await ws.person(newId);
    expect(p.identifiers).toEqual({ id: newId, email: `new-${s.email}`, cio_id: s.cio });
    expect(p.attributes.plan).toBe('gold');
  });

  it('sets email on a person found by id who has none, and the id on a lead found by email (rules 4, 11)', async () => {
    const id = uid();
    expectOk(await ws.identify(id, { a: 1 }));
    expectOk(await ws.identify(id, { email: `${id}@example.com` }));
    expect((await ws.person(id)).identifiers.email).toBe(`${id}@example.com`);
    const lead = `${uid('lead')}@example.com`;
    expectOk(await ws.identify(lead, { a: 1 }));
    const leadId = uid('lead-id');
    expectOk(await ws.identify(lead, { id: leadId }));
    expect((await ws.person(leadId)).identifiers.email).toBe(lead);
  });

  it('409 identifier_in_use when the body email belongs to someone else; the rest of the call is applied', async () => {
    const a = await seed();
    const b = await seed();
    const r = await ws.identify(a.id, { email: b.email, plan: 'applied' });
    expect(r.status).toBe(409);
    expect(r.body).toEqual({
      meta: {
        errors: ['email: The identifier is already associated with a different profile.'],
        code: 'identifier_in_use',
      },
    });
    const p = await ws.person(a.id);
    expect(p.identifiers.email).toBe(a.email);
    expect(p.attributes.plan).toBe('applied');
    const failed = await ws.activitiesOfType(a.id, 'failed_attribute_change');
    expect(failed[0]!.data).toMatchObject({ field: 'email', value: b.email, reason: 'identifier_in_use' });
  });

  it('409 identifier_change_requires_cio_id when a body id differs from the id reference', async () => {
    const s = await seed();
    const r = await ws.identify(s.id, { id: uid('other'), plan: 'kept' });
    expectV1Error(r, 409, 'identifier_change_requires_cio_id');
    expect((await ws.person(s.id)).attributes.plan).toBe('kept');
  });

  it('unsubscribed takes true/false/1/0 and their string forms', async () => {
    const id = uid();
    for (const [value, expected] of [
      [true, true],
      ['false', false],
      ['1', true],
      [0, false],
      ['TRUE', true],
      ['0', false],
      [1, true],
    ] as const) {
      expectOk(await ws.identify(id, { unsubscribed: value }));
      expect((await ws.person(id)).unsubscribed).toBe(expected);
    }
  });

  it('created_at accepts unix seconds or ISO-8601, and is kept when a later call does not send it', async () => {
    const id = uid();
    expectOk(await ws.identify(id, { created_at: '2021-03-04T05:06:07Z' }));
    expect((await ws.person(id)).attributes.created_at).toBe(String(Date.UTC(2021, 2, 4, 5, 6, 7) / 1000));
    expectOk(await ws.identify(id, { plan: 'x' }));
    expect((await ws.person(id)).attributes.created_at).toBe(String(Date.UTC(2021, 2, 4, 5, 6, 7) / 1000));
    expectOk(await ws.identify(id, { created_at: 1600000000 }));
    expect((await ws.person(id)).attributes.created_at).toBe('1600000000');
  });

  it('_timestamp orders updates: an older call does not overwrite a newer value', async () => {
    const id = uid();
    expectOk(await ws.identify(id, { plan: 'new', _timestamp: nowS() }));
    expectOk(await ws.identify(id, { plan: 'old', other: 'set', _timestamp: nowS() - 3600 }));
    const { attributes } = await ws.person(id);
    expect(attributes.plan).toBe('new');
    expect(attributes.other).toBe('set');
  });

  it('accepts exactly 300 attributes, names of 150 bytes and values of 1000 bytes (JSON-encoded)', async () => {
    const id = uid();
    const attrs: Record<string, string> = {};
    for (let i = 0; i < 298; i++) attrs[`k${i}`] = 'v';
    attrs['n'.repeat(150)] = 'v';
    attrs.big = 'x'.repeat(998); // "xxx…" is 1000 bytes as JSON
    expectOk(await ws.identify(id, { ...attrs, email: `${id}@example.com`, id }));
    const p = await ws.person(id);
    expect(p.attributes.big).toHaveLength(998);
    expect(p.attributes['n'.repeat(150)]).toBe('v');
  });

  it('_update: true never creates: 404 person_not_found for an unknown person, update for a known one', async () => {
    const id = uid();
    await refused(() => ws.identify(id, { _update: true, plan: 'x' }), 404, 'person_not_found');
    expect(await ws.person(id)).toBeNull();
    expectOk(await ws.identify(id, {}));
    expectOk(await ws.identify(id, { _update: true, plan: 'y' }));
    expect((await ws.person(id)).attributes.plan).toBe('y');
  });

  it('404 person_not_found for an unknown cio_ reference, and nothing is created', async () => {
    await refused(
      () => ws.identify('cio_doesnotexist1', { plan: 'x', email: `${uid()}@example.com` }),
      404,
      'person_not_found',
    );
  });

  describe('400, and the person is left exactly as before', () => {
    let s: Seed;
    beforeAll(async () => {
      s = await seed();
    });
    const path = () => `/api/v1/customers/${enc(s.id)}`;

    it.each([
      ['truncated JSON', '{"plan":', 'invalid_json'],
      ['unquoted keys', '{plan: 1}', 'invalid_json'],
      ['trailing garbage', '{"plan":1} x', 'invalid_json'],
      ['a JSON array', '[]', 'invalid_body'],
      ['a JSON array of attributes', '[{"plan":"x"}]', 'invalid_body'],
      ['a JSON string', '"plan"', 'invalid_body'],
      ['a JSON number', '42', 'invalid_body'],
      ['a JSON boolean', 'true', 'invalid_body'],
      ['JSON null', 'null', 'invalid_body'],
      ['JSON nested deeper than 100 levels', `{"x":${'['.repeat(5000)}${']'.repeat(5000)}}`, 'invalid_body'],
    ])('body is %s', async (_label, body, code) => {
      await refused(() => put(path(), body), 400, code);
    });

    it.each([
      ['no @', 'not-an-email'],
      ['no dot in the domain', 'a@localhost'],
      ['a space', 'a b@example.com'],
      ['two @', 'a@b@example.com'],
      ['an empty label', 'a@example..com'],
      ['a control character', 'a\u0001b@example.com'],
      ['over 254 bytes', `${'a'.repeat(250)}@example.com`],
      ['a number', 42],
      ['an object', { address: 'a@example.com' }],
      ['true', true],
    ])('invalid_email: body email with %s', async (_label, email) => {
      await refused(() => ws.identify(s.id, { email, plan: 'changed' }), 400, 'invalid_email');
    });

    it('reserved_prefix: a body id beginning cio_', async () => {
      await refused(() => ws.identify(s.email, { id: `cio_${s.cio}`, plan: 'changed' }), 400, 'reserved_prefix');
      await refused(() => ws.identify(`cio_${s.cio}`, { id: 'cio_', plan: 'changed' }), 400, 'reserved_prefix');
    });

    it.each(['null', 'undefined', '[object Object]', 'NaN', 'NULL', 'Undefined', 'nan'])(
      'invalid_identifier: junk path reference %j',
      async (junk) => {
        await refused(() => ws.identify(junk, { plan: 'x' }), 400, 'invalid_identifier');
      },
    );

    it.each([
      ['"null"', 'null'],
      ['"undefined"', 'undefined'],
      ['"[object Object]"', '[object Object]'],
      ['"NaN"', 'NaN'],
      ['true', true],
      ['an object', { id: 1 }],
      ['an array', ['a']],
      ['over 150 bytes', 'i'.repeat(151)],
      ['a control character', 'a\u0000b'],
    ])('invalid_identifier: body id %s', async (_label, id) => {
      await refused(() => ws.identify(s.email, { id, plan: 'x' }), 400, 'invalid_identifier');
    });

    it('invalid_identifier: a body id that overflows to Infinity', async () => {
      await refused(
        () => put(`/api/v1/customers/${enc(s.email)}`, '{"id":1e400,"plan":"x"}'),
        400,
        'invalid_identifier',
      );
    });

    it.each([
      ['151 ASCII bytes', 'x'.repeat(151)],
      ['152 bytes of 76 two-byte characters', 'é'.repeat(76)],
      ['2000 bytes (beyond the router parameter limit)', 'x'.repeat(2000)],
      ['a control character', 'a\u0007b'],
      ['a malformed cio_ reference', 'cio_not-valid!'],
      ['an empty cio_ reference', 'cio_'],
    ])('invalid_identifier: path reference of %s', async (_label, ref) => {
      await refused(() => ws.identify(ref, { plan: 'x' }), 400, 'invalid_identifier');
    });

    it('invalid_identifier: a path that is not valid percent-encoding', async () => {
      await refused(() => put('/api/v1/customers/%E0%A4%A', '{}'), 400, 'invalid_identifier');
    });

    it('invalid_identifier: anonymous_id not a string, or over 150 bytes', async () => {
      await refused(() => ws.identify(s.id, { anonymous_id: 42, plan: 'x' }), 400, 'invalid_identifier');
      await refused(() => ws.identify(s.id, { anonymous_id: 'a'.repeat(151) }), 400, 'invalid_identifier');
    });

    it('invalid_attribute: a name over 150 bytes', async () => {
      await refused(() => ws.identify(s.id, { ['n'.repeat(151)]: 'v', plan: 'x' }), 400, 'invalid_attribute');
      await refused(() => ws.identify(s.id, { ['é'.repeat(76)]: 'v' }), 400, 'invalid_attribute');
    });

    it('invalid_attribute: a value over 1000 bytes (JSON-encoded), string or object', async () => {
      await refused(() => ws.identify(s.id, { bio: 'x'.repeat(999), plan: 'x' }), 400, 'invalid_attribute');
      await refused(() => ws.identify(s.id, { bio: 'é'.repeat(500) }), 400, 'invalid_attribute');
      await refused(() => ws.identify(s.id, { prefs: { list: Array(300).fill('ab') } }), 400, 'invalid_attribute');
    });

    it('invalid_attribute: an empty attribute name', async () => {
      await refused(() => ws.identify(s.id, { '': 'v', plan: 'x' }), 400, 'invalid_attribute');
    });

    it('too_many_attributes: more than 300 attributes in one call', async () => {
      const attrs: Record<string, number> = {};
      for (let i = 0; i < 301; i++) attrs[`k${i}`] = i;
      await refused(() => ws.identify(s.id, attrs), 400, 'too_many_attributes');
    });

    it('too_many_attributes: a call that would take the person over 300 attributes', async () => {
      const id = uid();
      const first: Record<string, number> = {};
      for (let i = 0; i < 250; i++) first[`a${i}`] = i;
      expectOk(await ws.identify(id, first));
      const second: Record<string, number> = {};
      for (let i = 0; i < 60; i++) second[`b${i}`] = i;
      await refused(() => ws.identify(id, second), 400, 'too_many_attributes');
      expect(Object.keys((await ws.person(id)).attributes).filter((k) => k.startsWith('b'))).toEqual([]);
    });

    it.each([
      ['a top-level __proto__ key', '{"__proto__":{"admin":true},"plan":"x"}'],
      ['a nested __proto__ key', '{"prefs":{"__proto__":{"admin":true}}}'],
      ['a __proto__ key inside an array', '{"prefs":[{"__proto__":{"admin":true}}]}'],
      ['a constructor key', '{"constructor":{"prototype":{"admin":true}}}'],
      ['a prototype key', '{"prototype":"x"}'],
    ])('invalid_attribute: %s', async (_label, body) => {
      await refused(() => put(path(), body), 400, 'invalid_attribute');
      expect(({} as Record<string, unknown>).admin).toBeUndefined();
    });

    it.each([['yes'], ['no'], [2], [-1], ['maybe'], [{}], [[]]])('invalid_unsubscribed: %j', async (value) => {
      await refused(() => ws.identify(s.id, { unsubscribed: value, plan: 'x' }), 400, 'invalid_unsubscribed');
    });

    it.each([
      ['_timestamp', 'yesterday'],
      ['_timestamp', -5],
      ['_timestamp', true],
      ['_timestamp', {}],
      ['created_at', 'not a date'],
      ['created_at', '2024-13-45'],
      ['created_at', -1],
      ['created_at', false],
    ])('invalid_timestamp: %s = %j', async (key, value) => {
      await refused(() => ws.identify(s.id, { [key]: value, plan: 'x' }), 400, 'invalid_timestamp');
    });

    it('invalid_body: _update that is not a boolean', async () => {
      await refused(() => ws.identify(s.id, { _update: 'yes', plan: 'x' }), 400, 'invalid_body');
    });
  });
});

describe('DELETE /api/v1/customers/:ref', () => {
  it('removes the person and everything hanging off them; the id then makes a new person', async () => {
    const s = await seed();
    expectOk(await ws.delete(s.id));
    expect(await ws.person(s.id)).toBeNull();
    expect(await ws.person(s.cio, 'cio_id')).toBeNull();
    expect(await ws.byEmail(s.email)).toEqual([]);
    const dump = await server.dump(ws);
    expect(dump.devices.some((d) => (d as { token: string }).token === s.token)).toBe(false);
    expectOk(await ws.identify(s.id, { email: s.email }));
    const again = await ws.person(s.id);
    expect(again.identifiers.cio_id).not.toBe(s.cio);
    expect(again.attributes).not.toHaveProperty('plan');
    expect(again.devices).toEqual([]);
    expect(await ws.activitiesOfType(s.id, 'event')).toEqual([]);
  });

  it('deletes by email and by cio_ reference too, even with an empty JSON body as clients send', async () => {
    const a = await seed();
    expectOk(await ws.send('DELETE', `/api/v1/customers/${enc(a.email.toUpperCase())}`, { body: '' }));
    expect(await ws.person(a.id)).toBeNull();
    const b = await seed();
    expectOk(await ws.delete(`cio_${b.cio}`));
    expect(await ws.person(b.id)).toBeNull();
  });

  it('is idempotent: deleting someone unknown is 200 and changes nothing', async () => {
    const before = await server.dump(ws);
    expectOk(await ws.delete(uid('nobody')));
    expectOk(await ws.delete('cio_unknown0000'));
    expect(await server.dump(ws)).toEqual(before);
  });

  it('400 invalid_identifier for a junk or over-long reference', async () => {
    await refused(() => ws.delete('undefined'), 400, 'invalid_identifier');
    await refused(() => ws.delete('x'.repeat(151)), 400, 'invalid_identifier');
    await refused(() => ws.delete('cio_!'), 400, 'invalid_identifier');
  });
});

describe('POST /api/v1/customers/:ref/events', () => {
  it('records the event on the person, with its data, type and timestamp', async () => {
    const s = await seed();
    const ts = nowS() - 60;
    expectOk(await ws.track(s.id, { name: 'purchase', data: { amount: 12.5, items: ['a'] }, timestamp: ts }));
    expectOk(await ws.track(s.email, { name: '/pricing', type: 'page' }));
    expectOk(await ws.track(`cio_${s.cio}`, { name: 'Home', type: 'screen' }));
    const events = await ws.activitiesOfType(s.id, 'event');
    const purchase = events.find((e) => e.name === 'purchase')!;
    expect(purchase).toMatchObject({ type: 'event', timestamp: ts, data: { amount: 12.5, items: ['a'] } });
    expect(purchase.customer_identifiers).toEqual({ id: s.id, email: s.email, cio_id: s.cio });
    expect((await ws.activitiesOfType(s.id, 'page'))[0]).toMatchObject({ name: '/pricing' });
    expect((await ws.activitiesOfType(s.id, 'screen'))[0]).toMatchObject({ name: 'Home' });
  });

  it('trims the name, accepts 100-byte names and 100,000 bytes of data', async () => {
    const s = await seed();
    expectOk(await ws.track(s.id, { name: '  padded  ' }));
    expectOk(await ws.track(s.id, { name: 'n'.repeat(100) }));
    const data = { blob: 'x'.repeat(100_000 - 11) }; // {"blob":"…"} is exactly 100,000 bytes
    expect(Buffer.byteLength(JSON.stringify(data))).toBe(100_000);
    expectOk(await ws.track(s.id, { name: 'big', data }));
    const names = (await ws.activitiesOfType(s.id, 'event')).map((e) => e.name);
    expect(names).toEqual(expect.arrayContaining(['padded', 'n'.repeat(100), 'big']));
  });

  it('deduplicates by event id within the workspace', async () => {
    const s = await seed();
    const eventId = uid('01HEVENT');
    expectOk(await ws.track(s.id, { name: 'once', id: eventId }));
    expectOk(await ws.track(s.id, { name: 'once', id: eventId }));
    expect((await ws.activitiesOfType(s.id, 'event')).filter((e) => e.name === 'once')).toHaveLength(1);
  });

  it('an unknown id or email reference creates the person', async () => {
    const id = uid();
    expectOk(await ws.track(id, { name: 'first' }));
    expect((await ws.person(id)).id).toBe(id);
    const email = `${uid()}@example.com`;
    expectOk(await ws.track(email, { name: 'first' }));
    expect((await ws.byEmail(email))[0]!.email).toBe(email);
  });

  it('404 person_not_found for an unknown cio_ reference, and nothing is stored', async () => {
    await refused(() => ws.track('cio_nobody123', { name: 'x' }), 404, 'person_not_found');
  });

  describe('400, and nothing is stored', () => {
    let s: Seed;
    beforeAll(async () => {
      s = await seed();
    });
    const path = () => `/api/v1/customers/${enc(s.id)}/events`;

    it.each([
      ['name missing', {}, 'invalid_event'],
      ['name missing (data only)', { data: { a: 1 } }, 'invalid_event'],
      ['name empty', { name: '' }, 'invalid_event'],
      ['name blank', { name: '   ' }, 'invalid_event'],
      ['name a number', { name: 42 }, 'invalid_event'],
      ['name over 100 bytes', { name: 'n'.repeat(101) }, 'invalid_event'],
      ['name of 51 two-byte characters (102 bytes)', { name: 'é'.repeat(51) }, 'invalid_event'],
      ['data over 100,000 bytes', { name: 'x', data: { blob: 'x'.repeat(100_000 - 10) } }, 'invalid_event'],
      ['data an array', { name: 'x', data: [1, 2] }, 'invalid_event'],
      ['data a string', { name: 'x', data: 'hello' }, 'invalid_event'],
      ['type unknown', { name: 'x', type: 'click' }, 'invalid_event'],
      ['id an object', { name: 'x', id: { a: 1 } }, 'invalid_event'],
      ['id over 150 bytes', { name: 'x', id: 'i'.repeat(151) }, 'invalid_event'],
      ['timestamp a word', { name: 'x', timestamp: 'soon' }, 'invalid_timestamp'],
      ['timestamp negative', { name: 'x', timestamp: -1 }, 'invalid_timestamp'],
      ['timestamp an object', { name: 'x', timestamp: {} }, 'invalid_timestamp'],
    ])('%s', async (_label, body, code) => {
      await refused(() => ws.track(s.id, body), 400, code);
    });

    it.each([
      ['invalid JSON', '{"name":"x"', 'invalid_json'],
      ['a JSON array', '[{"name":"x"}]', 'invalid_body'],
      ['a JSON string', '"x"', 'invalid_body'],
      ['JSON null', 'null', 'invalid_body'],
      ['no body', '', 'invalid_body'],
    ])('body is %s', async (_label, body, code) => {
      await refused(() => post(path(), body), 400, code);
    });

    it('junk or over-long path reference', async () => {
      await refused(() => ws.track('[object Object]', { name: 'x' }), 400, 'invalid_identifier');
      await refused(() => ws.track('y'.repeat(151), { name: 'x' }), 400, 'invalid_identifier');
    });
  });
});

describe('POST /api/v1/events (anonymous)', () => {
  it('keeps events under their anonymous_id; identify with that anonymous_id moves them to the person', async () => {
    const anon = uid('anon');
    expectOk(await ws.anonymousEvent({ name: 'viewed', anonymous_id: anon, data: { page: 1 } }));
    expectOk(await ws.anonymousEvent({ name: 'clicked', anonymous_id: anon, type: 'event' }));
    const id = uid();
    expectOk(await ws.identify(id, { anonymous_id: anon }));
    const names = (await ws.activitiesOfType(id, 'event')).map((e) => e.name).sort();
    expect(names).toEqual(['clicked', 'viewed']);
    const merged = await ws.activitiesOfType(id, 'anon_merge');
    expect(merged[0]!.data).toMatchObject({ anonymous_id: anon, events: 2 });
    // Later events with that anonymous_id go straight to the person.
    expectOk(await ws.anonymousEvent({ name: 'later', anonymous_id: anon }));
    expect((await ws.activitiesOfType(id, 'event')).map((e) => e.name)).toContain('later');
  });

  it('accepts an event with no anonymous_id (an invite event)', async () => {
    expectOk(await ws.anonymousEvent({ name: 'invite', data: { recipient: 'someone@example.com' } }));
  });

  describe('400, and nothing is stored', () => {
    it.each([
      ['name missing', { anonymous_id: 'a1' }, 'invalid_event'],
      ['name over 100 bytes', { name: 'n'.repeat(101), anonymous_id: 'a1' }, 'invalid_event'],
      ['data over 100,000 bytes', { name: 'x', data: { b: 'x'.repeat(100_000) } }, 'invalid_event'],
      ['anonymous_id a number', { name: 'x', anonymous_id: 42 }, 'invalid_identifier'],
      ['anonymous_id an object', { name: 'x', anonymous_id: { a: 1 } }, 'invalid_identifier'],
      ['timestamp a word', { name: 'x', anonymous_id: 'a1', timestamp: 'later' }, 'invalid_timestamp'],
    ])('%s', async (_label, body, code) => {
      await refused(() => ws.anonymousEvent(body), 400, code);
    });

    it.each([
      ['invalid JSON', '{', 'invalid_json'],
      ['a JSON array', '[]', 'invalid_body'],
      ['JSON null', 'null', 'invalid_body'],
      ['a JSON number', '1', 'invalid_body'],
    ])('body is %s', async (_label, body, code) => {
      await refused(() => post('/api/v1/events', body), 400, code);
    });
  });
});

describe('POST /api/v1/customers/:ref/suppress and /unsuppress', () => {
  it('suppress deletes the person and drops later calls naming their id or email; unsuppress frees both', async () => {
    const s = await seed();
    expectOk(await ws.suppress(s.id));
    expect(await ws.person(s.id)).toBeNull();
    // Dropped: answered 200, nothing re-created.
    expectOk(await ws.identify(s.id, { plan: 'back' }));
    expectOk(await ws.identify(s.email, { plan: 'back' }));
    expectOk(await ws.track(s.id, { name: 'x' }));
    expectOk(await ws.identify(uid(), { email: s.email }));
    expect(await ws.person(s.id)).toBeNull();
    expect(await ws.byEmail(s.email)).toEqual([]);
    // Unsuppressing the email frees the id suppressed with it; the profile is not restored.
    expectOk(await ws.unsuppress(s.email));
    expect(await ws.person(s.id)).toBeNull();
    expectOk(await ws.identify(s.id, { email: s.email, plan: 'fresh' }));
    const p = await ws.person(s.id);
    expect(p.identifiers.cio_id).not.toBe(s.cio);
    expect(p.attributes.plan).toBe('fresh');
    expect(p.devices).toEqual([]);
  });

  it('suppress by cio_ reference, and suppressing someone unknown by id suppresses that id', async () => {
    const s = await seed();
    expectOk(await ws.suppress(`cio_${s.cio}`));
    expect(await ws.person(s.id)).toBeNull();
    const unknown = uid('never-seen');
    expectOk(await ws.suppress(unknown));
    expectOk(await ws.identify(unknown, { a: 1 }));
    expect(await ws.person(unknown)).toBeNull();
    expectOk(await ws.unsuppress(unknown));
    expectOk(await ws.identify(unknown, { a: 1 }));
    expect((await ws.person(unknown)).attributes.a).toBe('1');
  });

  it('unsuppress of something never suppressed is a 200 no-op; suppress accepts no body', async () => {
    const before = await server.dump(ws);
    expectOk(await ws.unsuppress(uid()));
    expectOk(await ws.unsuppress('cio_abc123'));
    expect(await server.dump(ws)).toEqual(before);
    const s = await seed();
    expectOk(await ws.request('POST', `/api/v1/customers/${s.id}/suppress`));
    expect(await ws.person(s.id)).toBeNull();
  });

  it('404 person_not_found when suppressing an unknown cio_ reference', async () => {
    await refused(() => ws.suppress('cio_nobody0001'), 404, 'person_not_found');
  });

  it('400 invalid_identifier for junk or over-long references', async () => {
    await refused(() => ws.suppress('null'), 400, 'invalid_identifier');
    await refused(() => ws.unsuppress('NaN'), 400, 'invalid_identifier');
    await refused(() => ws.suppress('z'.repeat(151)), 400, 'invalid_identifier');
    await refused(() => ws.unsuppress('cio_-'), 400, 'invalid_identifier');
  });

  it('400 invalid_json for a malformed body', async () => {
    const s = await seed();
    await refused(() => post(`/api/v1/customers/${s.id}/suppress`, '{'), 400, 'invalid_json');
  });
});

describe('POST /api/v1/merge_customers', () => {
  it('merges the secondary into the primary: attributes it lacks, identifiers, events and devices; the secondary goes', async () => {
    const primaryId = uid('primary');
    expectOk(await ws.identify(primaryId, { plan: 'keep', only_primary: 1 }));
    const secondary = await seed();
    expectOk(await ws.identify(secondary.id, { plan: 'lose', only_secondary: 2 }));
    expectOk(await ws.merge({ id: primaryId }, { email: secondary.email }));
    expect(await ws.person(secondary.id)).toBeNull();
    const p = await ws.person(primaryId);
    expect(p.attributes).toMatchObject({ plan: 'keep', only_primary: '1', only_secondary: '2' });
    expect(p.identifiers.email).toBe(secondary.email);
    expect(p.devices.map((d: { id: string }) => d.id)).toEqual([secondary.token]);
    expect((await ws.activitiesOfType(primaryId, 'event')).map((e) => e.name)).toContain('seeded');
    const merged = await ws.activitiesOfType(primaryId, 'merged');
    expect(merged[0]!.data).toMatchObject({ secondary: { id: secondary.id, cio_id: secondary.cio } });
  });

  it('takes cio_id with or without the cio_ prefix', async () => {
    const a = await seed();
    const b = await seed();
    const c = await seed();
    expectOk(await ws.merge({ cio_id: a.cio }, { cio_id: `cio_${b.cio}` }));
    expectOk(await ws.merge({ cio_id: `cio_${a.cio}` }, { id: c.id }));
    expect(await ws.person(b.id)).toBeNull();
    expect(await ws.person(c.id)).toBeNull();
    expect((await ws.person(a.id)).devices).toHaveLength(3);
  });

  it('unsubscribe sticks: an unsubscribed secondary leaves the primary unsubscribed', async () => {
    const a = await seed();
    const b = await seed();
    expectOk(await ws.identify(b.id, { unsubscribed: true }));
    expectOk(await ws.merge({ id: a.id }, { id: b.id }));
    expect((await ws.person(a.id)).unsubscribed).toBe(true);
  });

  describe('errors use the singular {"meta":{"error":"…"}} shape, and nothing changes', () => {
    let a: Seed;
    let b: Seed;
    beforeAll(async () => {
      a = await seed();
      b = await seed();
    });

    it.each([
      ['an empty body object', () => ({})],
      ['primary missing', () => ({ secondary: { id: b.id } })],
      ['secondary missing', () => ({ primary: { id: a.id } })],
      ['primary with two identifiers', () => ({ primary: { id: a.id, email: a.email }, secondary: { id: b.id } })],
      ['secondary with two identifiers', () => ({ primary: { id: a.id }, secondary: { id: b.id, cio_id: b.cio } })],
      ['primary with no identifier', () => ({ primary: {}, secondary: { id: b.id } })],
      ['primary a string', () => ({ primary: a.id, secondary: { id: b.id } })],
      ['primary an array', () => ({ primary: [{ id: a.id }], secondary: { id: b.id } })],
      ['primary and secondary the same person', () => ({ primary: { id: a.id }, secondary: { email: a.email } })],
    ])('400 invalid_merge: %s', async (_label, body) => {
      await refused(() => ws.request('POST', '/api/v1/merge_customers', body()), 400, 'invalid_merge', 'merge');
    });

    it.each([
      [
        'an unknown identifier type',
        () => ({ primary: { phone: '+15555550100' }, secondary: { id: b.id } }),
        'invalid_identifier',
      ],
      ['a junk id', () => ({ primary: { id: 'undefined' }, secondary: { id: b.id } }), 'invalid_identifier'],
      [
        'an id over 150 bytes',
        () => ({ primary: { id: 'q'.repeat(151) }, secondary: { id: b.id } }),
        'invalid_identifier',
      ],
      [
        'a malformed cio_id',
        () => ({ primary: { cio_id: 'not valid' }, secondary: { id: b.id } }),
        'invalid_identifier',
      ],
      [
        'an id with the cio_ prefix',
        () => ({ primary: { id: `cio_${a.cio}` }, secondary: { id: b.id } }),
        'reserved_prefix',
      ],
      ['an invalid email', () => ({ primary: { id: a.id }, secondary: { email: 'nope' } }), 'invalid_email'],
    ])('400: %s', async (_label, body, code) => {
      await refused(() => ws.request('POST', '/api/v1/merge_customers', body()), 400, code, 'merge');
    });

    it.each([
      ['invalid JSON', '{"primary":', 'invalid_json'],
      ['a JSON array', '[]', 'invalid_merge'],
      ['JSON null', 'null', 'invalid_merge'],
      ['no body', '', 'invalid_merge'],
    ])('400: body is %s', async (_label, body, code) => {
      await refused(() => post('/api/v1/merge_customers', body), 400, code, 'merge');
    });

    it('404 person_not_found for an unknown primary or secondary', async () => {
      await refused(() => ws.merge({ id: uid('nobody') }, { id: b.id }), 404, 'person_not_found', 'merge');
      await refused(() => ws.merge({ id: a.id }, { email: `${uid()}@example.com` }), 404, 'person_not_found', 'merge');
      await refused(() => ws.merge({ cio_id: 'zzzz0000' }, { id: b.id }), 404, 'person_not_found', 'merge');
    });
  });
});

describe('PUT /api/v1/customers/:ref/devices and DELETE …/devices/:token', () => {
  it('adds a device with its attributes and last_used, updates it, and deletes it', async () => {
    const s = await seed();
    const token = `apns-${uid()}`;
    const lastUsed = nowS() - 100;
    expectOk(
      await ws.addDevice(s.id, { id: token, platform: 'ios', last_used: lastUsed, attributes: { app_version: '1.2' } }),
    );
    let p = await ws.person(s.id);
    expect(p.devices).toContainEqual({
      id: token,
      platform: 'ios',
      last_used: lastUsed,
      attributes: { app_version: '1.2' },
    });
    expectOk(await ws.addDevice(s.email, { id: token, platform: 'android' }));
    p = await ws.person(s.id);
    expect(p.devices.filter((d: { id: string }) => d.id === token)).toEqual([
      { id: token, platform: 'android', last_used: expect.any(Number), attributes: {} },
    ]);
    expect(await ws.activitiesOfType(s.id, 'device_update')).not.toHaveLength(0);
    expectOk(await ws.request('DELETE', `/api/v1/customers/${enc(s.id)}/devices/${enc(token)}`));
    p = await ws.person(s.id);
    expect(p.devices.map((d: { id: string }) => d.id)).toEqual([s.token]);
    expect(await ws.activitiesOfType(s.id, 'device_delete')).toHaveLength(1);
  });

  it('a token belongs to one person: adding it to another moves it', async () => {
    const a = await seed();
    const b = await seed();
    expectOk(await ws.addDevice(b.id, { id: a.token, platform: 'ios' }));
    expect((await ws.person(a.id)).devices).toEqual([]);
    expect((await ws.person(b.id)).devices.map((d: { id: string }) => d.id).sort()).toEqual([a.token, b.token].sort());
  });

  it('tokens with reserved URL characters round-trip through the delete path', async () => {
    const s = await seed();
    const token = 'fcm:abc/def?g=h#i';
    expectOk(await ws.addDevice(s.id, { id: token, platform: 'android' }));
    expectOk(await ws.request('DELETE', `/api/v1/customers/${enc(s.id)}/devices/${enc(token)}`));
    expect((await ws.person(s.id)).devices.map((d: { id: string }) => d.id)).toEqual([s.token]);
  });

  it('adding a device for an unknown id creates the person; deleting for an unknown person is a 200 no-op', async () => {
    const id = uid();
    expectOk(await ws.addDevice(id, { id: `t-${id}`, platform: 'ios' }));
    expect((await ws.person(id)).devices).toHaveLength(1);
    const before = await server.dump(ws);
    expectOk(await ws.request('DELETE', `/api/v1/customers/${uid('nobody')}/devices/tok`));
    expectOk(await ws.request('DELETE', `/api/v1/customers/${id}/devices/not-a-token`));
    expect(await server.dump(ws)).toEqual(before);
  });

  it('404 person_not_found when adding a device for an unknown cio_ reference', async () => {
    await refused(() => ws.addDevice('cio_nobody0002', { id: 'tok', platform: 'ios' }), 404, 'person_not_found');
  });

  describe('400, and nothing changes', () => {
    let s: Seed;
    beforeAll(async () => {
      s = await seed();
    });

    it.each([
      ['device without platform', { device: { id: 'tok-x' } }, 'invalid_device'],
      ['device with an empty platform', { device: { id: 'tok-x', platform: '' } }, 'invalid_device'],
      ['device with a non-string platform', { device: { id: 'tok-x', platform: 1 } }, 'invalid_device'],
      ['device without id', { device: { platform: 'ios' } }, 'invalid_device'],
      ['device with an empty id', { device: { id: '', platform: 'ios' } }, 'invalid_device'],
      ['device with a numeric id', { device: { id: 123, platform: 'ios' } }, 'invalid_device'],
      ['device a string', { device: 'tok-x' }, 'invalid_device'],
      ['device an array', { device: [{ id: 'tok-x', platform: 'ios' }] }, 'invalid_device'],
      ['no device at all', { id: 'tok-x', platform: 'ios' }, 'invalid_device'],
      ['attributes not an object', { device: { id: 'tok-x', platform: 'ios', attributes: 'x' } }, 'invalid_device'],
      [
        'last_used not a time',
        { device: { id: 'tok-x', platform: 'ios', last_used: 'recently' } },
        'invalid_timestamp',
      ],
    ])('%s', async (_label, body, code) => {
      await refused(() => ws.request('PUT', `/api/v1/customers/${enc(s.id)}/devices`, body), 400, code);
    });

    it.each([
      ['invalid JSON', '{"device":', 'invalid_json'],
      ['a JSON array', '[]', 'invalid_device'],
      ['JSON null', 'null', 'invalid_device'],
    ])('body is %s', async (_label, body, code) => {
      await refused(() => put(`/api/v1/customers/${enc(s.id)}/devices`, body), 400, code);
    });

    it('junk references, and a delete token over 1000 bytes', async () => {
      await refused(() => ws.addDevice('undefined', { id: 't', platform: 'ios' }), 400, 'invalid_identifier');
      await refused(
        () => ws.request('DELETE', `/api/v1/customers/NaN/devices/${enc(s.token)}`),
        400,
        'invalid_identifier',
      );
      await refused(
        () => ws.request('DELETE', `/api/v1/customers/${enc(s.id)}/devices/${'t'.repeat(1001)}`),
        400,
        'invalid_identifier',
      );
    });
  });
});

describe('GET /api/v1/accounts/region', () => {
  it('answers the region document', async () => {
    const r = await ws.request('GET', '/api/v1/accounts/region');
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ url: ws.base, region: 'us', environment_id: expect.any(Number) });
  });

  it('each workspace gets its own environment_id', async () => {
    const mine = await ws.request('GET', '/api/v1/accounts/region');
    const theirs = await other.request('GET', '/api/v1/accounts/region');
    expect(mine.body.environment_id).not.toBe(theirs.body.environment_id);
  });
});

describe('bodies over the size limit, unsupported content types, unknown routes', () => {
  let s: Seed;
  beforeAll(async () => {
    s = await seed();
  });
  const overOneMb = () => JSON.stringify({ blob: 'x'.repeat(1024 * 1024) });

  it.each([
    ['identify', 'PUT', () => `/api/v1/customers/${enc(s.id)}`],
    ['track', 'POST', () => `/api/v1/customers/${enc(s.id)}/events`],
    ['anonymous event', 'POST', () => '/api/v1/events'],
    ['merge', 'POST', () => '/api/v1/merge_customers'],
    ['add device', 'PUT', () => `/api/v1/customers/${enc(s.id)}/devices`],
    ['suppress', 'POST', () => `/api/v1/customers/${enc(s.id)}/suppress`],
  ])('413 payload_too_large for a body over 1 MB: %s', async (label, method, path) => {
    await refused(
      () => ws.send(method, path(), { body: overOneMb() }),
      413,
      'payload_too_large',
      label === 'merge' ? 'merge' : 'v1',
    );
  });

  it.each([
    ['application/xml', '<plan>x</plan>'],
    ['application/x-www-form-urlencoded', 'plan=x'],
    ['multipart/form-data; boundary=xyz', '--xyz\r\n\r\nplan\r\n--xyz--'],
    ['application/vnd.api+json', '{"plan":"x"}'],
    ['application/octet-stream', '{"plan":"x"}'],
  ])('415 unsupported_media_type for %s', async (contentType, body) => {
    await refused(
      () => ws.send('PUT', `/api/v1/customers/${enc(s.id)}`, { body, contentType }),
      415,
      'unsupported_media_type',
    );
    await refused(
      () => ws.send('POST', `/api/v1/customers/${enc(s.id)}/events`, { body, contentType }),
      415,
      'unsupported_media_type',
    );
  });

  it('415 for a body with no content type at all', async () => {
    const body = new TextEncoder().encode('{"plan":"x"}');
    await refused(
      () => ws.send('PUT', `/api/v1/customers/${enc(s.id)}`, { body, contentType: null }),
      415,
      'unsupported_media_type',
    );
  });

  it.each([
    ['GET', '/api/v1/nothing-here'],
    ['POST', '/api/v1/customers'],
    ['GET', '/api/v1/customers/someone'],
    ['PATCH', '/api/v1/customers/someone'],
    ['POST', '/api/v1/customers/someone/devices'],
    ['GET', '/api/v1/customers/someone/events'],
    ['POST', '/api/v1/customers/someone/unknown'],
    ['GET', '/api/v1'],
  ])('404 route_not_found for %s %s, with or without credentials', async (method, path) => {
    await refused(() => ws.send(method, path, { body: method === 'GET' ? undefined : '{}' }), 404, 'route_not_found');
    await refused(
      () => ws.send(method, path, { body: method === 'GET' ? undefined : '{}', auth: null }),
      404,
      'route_not_found',
    );
  });
});

describe('never a 5xx', () => {
  const bodies = [
    '',
    'null',
    '{}',
    '[]',
    '"x"',
    '0',
    '-1e309',
    '{"a":',
    '\u0000',
    '{"name":null,"data":null,"device":null,"primary":null}',
    '{"name":{"a":1},"id":[],"timestamp":[],"type":null}',
    '{"email":null,"id":null,"anonymous_id":null,"_update":null,"_timestamp":null,"created_at":null}',
    '{"email":"","id":"","anonymous_id":"","created_at":""}',
    '{"device":{"id":{"x":1},"platform":["ios"],"last_used":{},"attributes":[]}}',
    '{"primary":{"id":null},"secondary":{"email":null}}',
    '{"primary":{"cio_id":1},"secondary":{"cio_id":{}}}',
    JSON.stringify({ name: 'x', data: { a: '\ud800' } }),
    JSON.stringify({ bad: '\udfff', name: '\ud800' }),
    `{"x":${'{"y":'.repeat(101)}1${'}'.repeat(101)}}`,
    `{"x":${'['.repeat(200_000)}${']'.repeat(200_000)}}`,
  ];
  const paths: [string, string][] = [
    ['PUT', '/api/v1/customers/fuzz-1'],
    ['PUT', '/api/v1/customers/fuzz%40example.com'],
    ['PUT', '/api/v1/customers/cio_fuzz'],
    ['DELETE', '/api/v1/customers/fuzz-1'],
    ['POST', '/api/v1/customers/fuzz-1/events'],
    ['POST', '/api/v1/events'],
    ['POST', '/api/v1/customers/fuzz-1/suppress'],
    ['POST', '/api/v1/customers/fuzz-1/unsuppress'],
    ['POST', '/api/v1/merge_customers'],
    ['PUT', '/api/v1/customers/fuzz-1/devices'],
    ['DELETE', '/api/v1/customers/fuzz-1/devices/tok'],
    ['GET', '/api/v1/accounts/region'],
  ];

  it.each(paths)('%s %s answers every odd body below 500', async (method, path) => {
    for (const body of bodies) {
      const r = await ws.send(method, path, { body: method === 'GET' ? undefined : body });
      expect(r.status, `${method} ${path} ${body.slice(0, 60)} → ${JSON.stringify(r.body)}`).toBeLessThan(500);
      if (r.status >= 400) expect(r.body.meta, JSON.stringify(r.body)).toBeDefined();
    }
  });
});
