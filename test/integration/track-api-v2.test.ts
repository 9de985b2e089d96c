import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type Reply, type TestServer, type TestWorkspace } from '../helpers/roster-server.js';

/**
 * Track API v2 (`POST /api/v2/entity`, `POST /api/v2/batch`) over real HTTP: each person action's success and the
 * state it leaves (read back through the App API), and every error in the v2 shape
 * `{"errors":[{"reason","field","message"}]}`; a batch applies its valid items and answers 207 naming the others by
 * `batch_index`. A refused call leaves the stored state exactly as it was.
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

interface Seed {
  id: string;
  email: string;
  cio: string;
  token: string;
}

async function seed(): Promise<Seed> {
  const id = uid('p');
  const email = `${id}@example.com`;
  const token = `tok-${id}`;
  expectOk(await ws.entity(identify({ id }, { email, plan: 'basic' })));
  expectOk(await ws.entity({ type: 'person', action: 'event', identifiers: { id }, name: 'seeded' }));
  expectOk(
    await ws.entity({ type: 'person', action: 'add_device', identifiers: { id }, device: { token, platform: 'ios' } }),
  );
  return { id, email, cio: (await ws.person(id)).identifiers.cio_id, token };
}

const identify = (identifiers: Record<string, unknown>, attributes: Record<string, unknown> = {}) => ({
  type: 'person',
  action: 'identify',
  identifiers,
  attributes,
});

function expectOk(r: Reply) {
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  expect(r.body).toEqual({});
}

/** Asserts the v2 error shape: one or more `{reason, field, message}`. */
function expectV2Error(r: Reply, status: number, reason: string, field?: string | null) {
  expect(r.status, JSON.stringify(r.body)).toBe(status);
  expect(r.body).toEqual({ errors: expect.any(Array) });
  expect(r.body.errors.length).toBeGreaterThan(0);
  for (const e of r.body.errors) {
    expect(Object.keys(e).sort()).toEqual(['field', 'message', 'reason']);
    expect(typeof e.message === 'string' && e.message.length > 0).toBe(true);
  }
  expect(r.body.errors[0].reason).toBe(reason);
  if (field !== undefined) expect(r.body.errors[0].field).toBe(field);
}

async function refused(call: () => Promise<Reply>, status: number, reason: string, field?: string | null) {
  const before = [await server.dump(ws), await server.dump(other)];
  const r = await call();
  expectV2Error(r, status, reason, field);
  expect([await server.dump(ws), await server.dump(other)]).toEqual(before);
  return r;
}

const post = (path: string, body: string) => ws.send('POST', path, { body });

describe('authentication', () => {
  const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
  const credentials: [string, () => string | null][] = [
    ['no Authorization header', () => null],
    ['a wrong api key', () => basic(ws.creds.site_id, 'trk_wrong')],
    ['a wrong site id', () => basic('ffffffffff', ws.creds.track_api_key)],
    ["another workspace's api key with this site id", () => basic(ws.creds.site_id, other.creds.track_api_key)],
    ["this api key with another workspace's site id", () => basic(other.creds.site_id, ws.creds.track_api_key)],
    ['the App API key as Bearer', () => `Bearer ${ws.creds.app_api_key}`],
    ['garbage', () => 'Basic %%%'],
  ];
  let s: Seed;
  beforeAll(async () => {
    s = await seed();
  });

  it.each(credentials)('/entity: 401 with %s, and nothing changes', async (_label, auth) => {
    const body = JSON.stringify(identify({ id: s.id }, { plan: 'hacked' }));
    await refused(() => ws.send('POST', '/api/v2/entity', { body, auth: auth() }), 401, 'unauthorized', null);
  });

  it.each(credentials)('/batch: 401 with %s, and nothing changes', async (_label, auth) => {
    const body = JSON.stringify({
      batch: [
        identify({ id: s.id }, { plan: 'hacked' }),
        { type: 'person', action: 'delete', identifiers: { id: s.id } },
      ],
    });
    await refused(() => ws.send('POST', '/api/v2/batch', { body, auth: auth() }), 401, 'unauthorized', null);
  });

  it("another workspace's valid credentials act only on their own people", async () => {
    const before = await server.dump(ws);
    expectOk(await other.entity(identify({ id: s.id }, { plan: 'theirs' })));
    expectOk(await other.entity({ type: 'person', action: 'delete', identifiers: { email: s.email } }));
    expectOk(await other.batch([{ type: 'person', action: 'suppress', identifiers: { id: s.id } }]));
    await refused(() => other.entity(identify({ cio_id: s.cio }, { plan: 'x' })), 404, 'person_not_found');
    const r = await other.batch([
      { type: 'person', action: 'event', identifiers: { cio_id: s.cio }, name: 'x' },
      { type: 'person', action: 'merge', primary: { cio_id: s.cio }, secondary: { id: s.id } },
    ]);
    expect(r.status).toBe(207);
    expect(r.body.errors.map((e: { reason: string }) => e.reason)).toEqual(['person_not_found', 'person_not_found']);
    expect(await server.dump(ws)).toEqual(before);
  });
});

describe('POST /api/v2/entity: person actions', () => {
  it('identify creates and updates, by id, email or cio_id (with or without the prefix)', async () => {
    const id = uid();
    expectOk(await ws.entity(identify({ id }, { email: `${id}@example.com`, plan: 'pro', seats: 3 })));
    let p = await ws.person(id);
    expect(p.identifiers).toEqual({ id, email: `${id}@example.com`, cio_id: expect.any(String) });
    expect(p.attributes).toMatchObject({ plan: 'pro', seats: '3' });
    expectOk(await ws.entity(identify({ email: `${id}@EXAMPLE.com` }, { plan: 'team' })));
    expectOk(await ws.entity(identify({ cio_id: p.identifiers.cio_id }, { seats: 4 })));
    expectOk(await ws.entity(identify({ cio_id: `cio_${p.identifiers.cio_id}` }, { extra: null, vip: true })));
    p = await ws.person(id);
    expect(p.attributes).toMatchObject({ plan: 'team', seats: '4', vip: 'true' });
  });

  it('identify without attributes is an empty update; a cio_id reference can change identifiers', async () => {
    const id = uid();
    expectOk(await ws.entity({ type: 'person', action: 'identify', identifiers: { id } }));
    const cio = (await ws.person(id)).identifiers.cio_id;
    const renamed = uid('renamed');
    expectOk(await ws.entity(identify({ cio_id: cio }, { id: renamed })));
    expect(await ws.person(id)).toBeNull();
    expect((await ws.person(renamed)).identifiers.cio_id).toBe(cio);
  });

  it('identify honours timestamp: an older call does not overwrite a newer value', async () => {
    const id = uid();
    expectOk(await ws.entity({ ...identify({ id }, { plan: 'new' }), timestamp: nowS() }));
    expectOk(await ws.entity({ ...identify({ id }, { plan: 'old', more: 1 }), timestamp: nowS() - 600 }));
    expect((await ws.person(id)).attributes).toMatchObject({ plan: 'new', more: '1' });
  });

  it('identify with _update: true never creates (404 person_not_found)', async () => {
    await refused(() => ws.entity(identify({ id: uid() }, { _update: true, plan: 'x' })), 404, 'person_not_found');
  });

  it('event, page and screen are recorded with their attributes as event data', async () => {
    const s = await seed();
    const ts = nowS() - 30;
    expectOk(
      await ws.entity({
        type: 'person',
        action: 'event',
        identifiers: { id: s.id },
        name: 'purchase',
        timestamp: ts,
        attributes: { total: 9.99 },
      }),
    );
    expectOk(await ws.entity({ type: 'person', action: 'page', identifiers: { email: s.email }, name: '/home' }));
    expectOk(await ws.entity({ type: 'person', action: 'screen', identifiers: { cio_id: s.cio }, name: 'Cart' }));
    const events = await ws.activitiesOfType(s.id, 'event');
    expect(events.find((e) => e.name === 'purchase')).toMatchObject({ timestamp: ts, data: { total: 9.99 } });
    expect((await ws.activitiesOfType(s.id, 'page'))[0]).toMatchObject({ name: '/home' });
    expect((await ws.activitiesOfType(s.id, 'screen'))[0]).toMatchObject({ name: 'Cart' });
  });

  it('an event id deduplicates', async () => {
    const s = await seed();
    const op = { type: 'person', action: 'event', identifiers: { id: s.id }, name: 'once', id: uid('01H') };
    expectOk(await ws.entity(op));
    expectOk(await ws.entity(op));
    expect((await ws.activitiesOfType(s.id, 'event')).filter((e) => e.name === 'once')).toHaveLength(1);
  });

  it('delete removes the person', async () => {
    const s = await seed();
    expectOk(await ws.entity({ type: 'person', action: 'delete', identifiers: { email: s.email } }));
    expect(await ws.person(s.id)).toBeNull();
  });

  it('suppress deletes and drops later calls; unsuppress frees the identifiers', async () => {
    const s = await seed();
    expectOk(await ws.entity({ type: 'person', action: 'suppress', identifiers: { id: s.id } }));
    expect(await ws.person(s.id)).toBeNull();
    expectOk(await ws.entity(identify({ id: s.id }, { plan: 'back' })));
    expect(await ws.person(s.id)).toBeNull();
    expectOk(await ws.entity({ type: 'person', action: 'unsuppress', identifiers: { email: s.email } }));
    expectOk(await ws.entity(identify({ id: s.id }, { plan: 'back' })));
    const p = await ws.person(s.id);
    expect(p.attributes.plan).toBe('back');
    expect(p.identifiers.cio_id).not.toBe(s.cio);
  });

  it('add_device (token, not id) and delete_device', async () => {
    const s = await seed();
    const token = `fcm-${uid()}`;
    const lastUsed = nowS() - 5;
    expectOk(
      await ws.entity({
        type: 'person',
        action: 'add_device',
        identifiers: { id: s.id },
        device: { token, platform: 'android', last_used: lastUsed, attributes: { push_enabled: 'true' } },
      }),
    );
    expect((await ws.person(s.id)).devices).toContainEqual({
      id: token,
      platform: 'android',
      last_used: lastUsed,
      attributes: { push_enabled: 'true' },
    });
    expectOk(
      await ws.entity({ type: 'person', action: 'delete_device', identifiers: { id: s.id }, device: { token } }),
    );
    expect((await ws.person(s.id)).devices.map((d: { id: string }) => d.id)).toEqual([s.token]);
  });

  it('merge moves the secondary into the primary', async () => {
    const a = await seed();
    const b = await seed();
    expectOk(await ws.entity({ type: 'person', action: 'merge', primary: { id: a.id }, secondary: { cio_id: b.cio } }));
    expect(await ws.person(b.id)).toBeNull();
    const p = await ws.person(a.id);
    expect(p.devices.map((d: { id: string }) => d.id).sort()).toEqual([a.token, b.token].sort());
    expect((await ws.activitiesOfType(a.id, 'event')).filter((e) => e.name === 'seeded')).toHaveLength(2);
  });

  it('409 identifier_in_use in the v2 shape when a body email belongs to someone else; the rest applies', async () => {
    const a = await seed();
    const b = await seed();
    const r = await ws.entity(identify({ id: a.id }, { email: b.email, plan: 'applied' }));
    expect(r.status).toBe(409);
    expect(r.body).toEqual({
      errors: [
        {
          reason: 'identifier_in_use',
          field: 'email',
          message: 'email: The identifier is already associated with a different profile.',
        },
      ],
    });
    expect((await ws.person(a.id)).attributes.plan).toBe('applied');
    expect((await ws.person(a.id)).identifiers.email).toBe(a.email);
  });

  it('404 person_not_found for an unknown cio_id, for every action that needs the person', async () => {
    const cio = { cio_id: 'nobody00042' };
    await refused(() => ws.entity(identify(cio, { plan: 'x' })), 404, 'person_not_found');
    await refused(
      () => ws.entity({ type: 'person', action: 'event', identifiers: cio, name: 'x' }),
      404,
      'person_not_found',
    );
    await refused(() => ws.entity({ type: 'person', action: 'suppress', identifiers: cio }), 404, 'person_not_found');
    await refused(
      () =>
        ws.entity({ type: 'person', action: 'add_device', identifiers: cio, device: { token: 't', platform: 'ios' } }),
      404,
      'person_not_found',
    );
    await refused(
      () => ws.entity({ type: 'person', action: 'merge', primary: cio, secondary: { id: uid() } }),
      404,
      'person_not_found',
    );
  });
});

describe('POST /api/v2/entity: 400, and nothing changes', () => {
  let s: Seed;
  beforeAll(async () => {
    s = await seed();
  });
  const person = (extra: Record<string, unknown>) => ({ type: 'person', identifiers: { id: s.id }, ...extra });

  it.each([
    ['truncated JSON', '{"type":"person"', 'invalid_json'],
    ['not JSON at all', 'type=person', 'invalid_json'],
    ['a JSON array', '[{"type":"person"}]', 'invalid_body'],
    ['a JSON string', '"person"', 'invalid_body'],
    ['a JSON number', '7', 'invalid_body'],
    ['JSON null', 'null', 'invalid_body'],
    ['no body', '', 'invalid_body'],
    [
      'JSON nested deeper than 100 levels',
      `{"type":"person","x":${'['.repeat(300)}${']'.repeat(300)}}`,
      'invalid_body',
    ],
  ])('body is %s', async (_label, body, reason) => {
    await refused(() => post('/api/v2/entity', body), 400, reason);
  });

  it.each([
    ['type missing', { action: 'identify', identifiers: { id: 'x' } }, 'type'],
    [
      'an unknown object action',
      { type: 'object', action: 'teleport', identifiers: { object_type_id: '1', object_id: 'a' } },
      'action',
    ],
    ['type delivery', { type: 'delivery', action: 'event', identifiers: { id: 'd1' }, name: 'opened' }, 'type'],
    ['type in capitals', { type: 'PERSON', action: 'identify', identifiers: { id: 'x' } }, 'type'],
    ['action missing', { type: 'person', identifiers: { id: 'x' } }, 'action'],
    ['action identify_anonymous', { type: 'person', action: 'identify_anonymous', identifiers: { id: 'x' } }, 'action'],
    ['action unknown', { type: 'person', action: 'teleport', identifiers: { id: 'x' } }, 'action'],
    ['action a number', { type: 'person', action: 1, identifiers: { id: 'x' } }, 'action'],
  ])('400 invalid_action: %s', async (_label, body, field) => {
    await refused(() => ws.entity(body), 400, 'invalid_action', field);
  });

  it.each([
    ['identifiers missing', { action: 'identify' }],
    ['identifiers empty', { action: 'identify', identifiers: {} }],
    ['two identifiers', { action: 'identify', identifiers: { id: 'a', email: 'a@example.com' } }],
    ['identifiers an array', { action: 'identify', identifiers: [{ id: 'a' }] }],
    ['a phone identifier', { action: 'identify', identifiers: { phone: '+15555550100' } }],
    ['a junk id', { action: 'identify', identifiers: { id: 'undefined' } }],
    ['a junk id ([object Object])', { action: 'event', name: 'x', identifiers: { id: '[object Object]' } }],
    ['an id over 150 bytes', { action: 'identify', identifiers: { id: 'x'.repeat(151) } }],
    ['an id of 76 two-byte characters', { action: 'delete', identifiers: { id: 'é'.repeat(76) } }],
    ['an id that is an object', { action: 'identify', identifiers: { id: { a: 1 } } }],
    ['a malformed cio_id', { action: 'identify', identifiers: { cio_id: 'no spaces allowed' } }],
    ['a numeric cio_id', { action: 'identify', identifiers: { cio_id: 123 } }],
    [
      'a body id that is junk',
      { action: 'identify', identifiers: { email: 'ok@example.com' }, attributes: { id: 'NaN' } },
    ],
    ['a merge without primary', { action: 'merge', secondary: { id: 'x' } }],
    [
      'a merge with two secondary identifiers',
      { action: 'merge', primary: { id: 'x' }, secondary: { id: 'y', email: 'y@example.com' } },
    ],
  ])('400 invalid_identifier: %s', async (_label, body) => {
    await refused(() => ws.entity({ type: 'person', ...body }), 400, 'invalid_identifier');
  });

  it('400 reserved_prefix: an id beginning cio_, as identifier or attribute', async () => {
    await refused(() => ws.entity(identify({ id: 'cio_abc' })), 400, 'reserved_prefix', 'id');
    await refused(() => ws.entity(identify({ cio_id: s.cio }, { id: 'cio_abc' })), 400, 'reserved_prefix', 'id');
  });

  it.each([
    ['identifier', identify({ email: 'not-an-email' })],
    ['identifier with a space', identify({ email: 'a b@example.com' })],
    ['attribute', identify({ id: 'someone' }, { email: 'a@b' })],
    ['attribute that is a number', identify({ id: 'someone' }, { email: 5 })],
  ])('400 invalid_email: %s', async (_label, body) => {
    await refused(() => ws.entity(body), 400, 'invalid_email', 'email');
  });

  it.each([
    ['a name over 150 bytes', { ['n'.repeat(151)]: 1 }, 'invalid_attribute'],
    ['a value over 1000 bytes', { bio: 'x'.repeat(1000) }, 'invalid_attribute'],
    ['an object value over 1000 bytes', { prefs: { a: 'x'.repeat(995) } }, 'invalid_attribute'],
    ['a constructor key', { constructor: 1 }, 'invalid_attribute'],
    ['unsubscribed "yes"', { unsubscribed: 'yes' }, 'invalid_unsubscribed'],
    ['unsubscribed 5', { unsubscribed: 5 }, 'invalid_unsubscribed'],
    ['created_at not a date', { created_at: 'last week' }, 'invalid_timestamp'],
    ['_update not a boolean', { _update: 1 }, 'invalid_body'],
  ])('400 on attributes with %s', async (_label, attributes, reason) => {
    await refused(() => ws.entity(identify({ id: s.id }, { plan: 'changed', ...attributes })), 400, reason);
  });

  it('400 too_many_attributes: more than 300 in one call', async () => {
    const attributes: Record<string, number> = {};
    for (let i = 0; i < 301; i++) attributes[`k${i}`] = i;
    await refused(() => ws.entity(identify({ id: s.id }, attributes)), 400, 'too_many_attributes');
  });

  it.each([
    ['a top-level __proto__ attribute', '{"__proto__":{"polluted":true},"plan":"x"}'],
    ['a nested __proto__ attribute', '{"prefs":{"a":{"__proto__":{"polluted":true}}}}'],
  ])('400 invalid_attribute: %s', async (_label, attributes) => {
    const body = `{"type":"person","action":"identify","identifiers":{"id":${JSON.stringify(s.id)}},"attributes":${attributes}}`;
    await refused(() => post('/api/v2/entity', body), 400, 'invalid_attribute');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it.each([
    ['attributes an array', { action: 'identify', attributes: [1] }, 'invalid_body'],
    ['attributes a string', { action: 'identify', attributes: 'plan=x' }, 'invalid_body'],
    ['a timestamp that is a word', { action: 'identify', attributes: { a: 1 }, timestamp: 'now' }, 'invalid_timestamp'],
    ['a negative timestamp', { action: 'event', name: 'x', timestamp: -10 }, 'invalid_timestamp'],
    ['an event without name', { action: 'event', attributes: { a: 1 } }, 'invalid_event'],
    ['an event with an empty name', { action: 'event', name: ' ' }, 'invalid_event'],
    ['an event name over 100 bytes', { action: 'event', name: 'e'.repeat(101) }, 'invalid_event'],
    ['a page name over 100 bytes', { action: 'page', name: 'é'.repeat(51) }, 'invalid_event'],
    ['a screen without name', { action: 'screen' }, 'invalid_event'],
    ['event attributes an array', { action: 'event', name: 'x', attributes: [1] }, 'invalid_event'],
    ['add_device without platform', { action: 'add_device', device: { token: 't1' } }, 'invalid_device'],
    [
      'add_device with v1 id instead of token',
      { action: 'add_device', device: { id: 't1', platform: 'ios' } },
      'invalid_device',
    ],
    ['add_device without device', { action: 'add_device' }, 'invalid_device'],
    [
      'add_device with a device array',
      { action: 'add_device', device: [{ token: 't', platform: 'ios' }] },
      'invalid_device',
    ],
    [
      'add_device with last_used a word',
      { action: 'add_device', device: { token: 't', platform: 'ios', last_used: 'x' } },
      'invalid_timestamp',
    ],
    ['delete_device without token', { action: 'delete_device', device: {} }, 'invalid_device'],
    ['delete_device without device', { action: 'delete_device' }, 'invalid_device'],
    ['delete_device with device a string', { action: 'delete_device', device: 'tok' }, 'invalid_body'],
  ])('400: %s', async (_label, extra, reason) => {
    await refused(() => ws.entity(person(extra)), 400, reason);
  });

  it('400 invalid_merge when primary and secondary are the same person', async () => {
    await refused(
      () => ws.entity({ type: 'person', action: 'merge', primary: { id: s.id }, secondary: { email: s.email } }),
      400,
      'invalid_merge',
    );
  });

  it('413 payload_too_large for an entity over 32 KB (an event this size is also over no other limit)', async () => {
    const big = person({ action: 'event', name: 'big', attributes: { blob: 'x'.repeat(33 * 1024) } });
    await refused(() => ws.entity(big), 413, 'payload_too_large');
    // Just under 32 KB is fine.
    const ok = person({ action: 'event', name: 'just-under', attributes: { blob: 'x'.repeat(31 * 1024) } });
    expectOk(await ws.entity(ok));
  });

  it.each([
    ['application/xml', '<person/>'],
    ['application/x-www-form-urlencoded', 'type=person'],
    ['application/octet-stream', '{}'],
  ])('415 unsupported_media_type for %s', async (contentType, body) => {
    await refused(() => ws.send('POST', '/api/v2/entity', { body, contentType }), 415, 'unsupported_media_type');
    await refused(() => ws.send('POST', '/api/v2/batch', { body, contentType }), 415, 'unsupported_media_type');
  });

  it.each([
    ['GET', '/api/v2/entity'],
    ['PUT', '/api/v2/entity'],
    ['GET', '/api/v2/batch'],
    ['POST', '/api/v2/entities'],
    ['POST', '/api/v2/person'],
    ['POST', '/api/v3/entity'],
  ])('404 route_not_found for %s %s', async (method, path) => {
    const r = await ws.send(method, path, { body: method === 'GET' ? undefined : '{}' });
    expect(r.status).toBe(404);
    const reason = r.body.errors?.[0]?.reason ?? r.body.meta?.code;
    expect(reason).toBe('route_not_found');
    if (path.startsWith('/api/v2/')) expectV2Error(r, 404, 'route_not_found');
  });
});

describe('POST /api/v2/batch', () => {
  it('applies every item in order and answers 200 {}', async () => {
    const id = uid();
    const email = `${id}@example.com`;
    expectOk(
      await ws.batch([
        identify({ id }, { email, plan: 'pro' }),
        { type: 'person', action: 'event', identifiers: { id }, name: 'signed_up', attributes: { via: 'batch' } },
        { type: 'person', action: 'add_device', identifiers: { email }, device: { token: `t-${id}`, platform: 'ios' } },
        identify({ email }, { plan: 'team' }),
      ]),
    );
    const p = await ws.person(id);
    expect(p.attributes.plan).toBe('team');
    expect(p.devices.map((d: { id: string }) => d.id)).toEqual([`t-${id}`]);
    expect((await ws.activitiesOfType(id, 'event'))[0]).toMatchObject({ name: 'signed_up', data: { via: 'batch' } });
  });

  it('an empty batch is 200 {} and changes nothing', async () => {
    const before = await server.dump(ws);
    expectOk(await ws.batch([]));
    expect(await server.dump(ws)).toEqual(before);
  });

  it('a batch mixing valid and invalid items: 207 naming each bad item by batch_index; the good ones are applied', async () => {
    const conflictOwner = await seed();
    const victim = await seed();
    const good1 = uid('good1');
    const good2 = uid('good2');
    const badEmail = uid('bad-email');
    const before = await ws.person(victim.id);
    const r = await ws.batch([
      identify({ id: good1 }, { plan: 'one' }), // 0 ok
      identify({ id: badEmail }, { email: 'nope', plan: 'never' }), // 1 invalid_email
      { type: 'object', action: 'teleport', identifiers: { object_type_id: '1', object_id: 'acme' } }, // 2 invalid_action
      { type: 'person', action: 'event', identifiers: { id: good1 }, name: 'batched' }, // 3 ok
      { type: 'person', action: 'event', identifiers: { id: good2 } }, // 4 invalid_event
      identify({ id: good2 }, { plan: 'two' }), // 5 ok
      identify({ id: victim.id }, { email: conflictOwner.email, plan: 'partly' }), // 6 conflict (rest applies)
      identify({ cio_id: 'nobody777' }, { plan: 'x' }), // 7 person_not_found
      42, // 8 invalid_body
      { type: 'person', action: 'event', identifiers: { id: good2 }, name: 'x', attributes: { b: 'x'.repeat(33_000) } }, // 9 too large
      { type: 'person', action: 'teleport', identifiers: { id: good2 } }, // 10 invalid_action
      identify({ id: 'null' }, { plan: 'junk' }), // 11 invalid_identifier
    ]);
    expect(r.status, JSON.stringify(r.body)).toBe(207);
    expect(r.body).toEqual({
      errors: [
        { batch_index: 1, reason: 'invalid_email', field: 'email', message: expect.any(String) },
        { batch_index: 2, reason: 'invalid_action', field: 'action', message: expect.any(String) },
        { batch_index: 4, reason: 'invalid_event', field: 'name', message: expect.any(String) },
        {
          batch_index: 6,
          reason: 'identifier_in_use',
          field: 'email',
          message: 'email: The identifier is already associated with a different profile.',
        },
        { batch_index: 7, reason: 'person_not_found', field: null, message: expect.any(String) },
        { batch_index: 8, reason: 'invalid_body', field: null, message: expect.any(String) },
        { batch_index: 9, reason: 'payload_too_large', field: null, message: expect.any(String) },
        { batch_index: 10, reason: 'invalid_action', field: 'action', message: expect.any(String) },
        { batch_index: 11, reason: 'invalid_identifier', field: 'id', message: expect.any(String) },
      ],
    });
    // Good items applied.
    expect((await ws.person(good1)).attributes.plan).toBe('one');
    expect((await ws.activitiesOfType(good1, 'event')).map((e) => e.name)).toEqual(['batched']);
    expect((await ws.person(good2)).attributes.plan).toBe('two');
    expect(await ws.activitiesOfType(good2, 'event')).toEqual([]);
    // Bad items did nothing.
    expect(await ws.person(badEmail)).toBeNull();
    expect((await server.dump(ws)).people.some((row) => (row as { id: string | null }).id === 'null')).toBe(false);
    // The conflicting item applied all but the identifier (rule C).
    const victimAfter = await ws.person(victim.id);
    expect(victimAfter.identifiers).toEqual(before.identifiers);
    expect(victimAfter.attributes.plan).toBe('partly');
  });

  it('a batch where every item fails is still 207, and nothing changes', async () => {
    const before = await server.dump(ws);
    const r = await ws.batch([null, [], 'x', { type: 'person', identifiers: { id: uid() } }]);
    expect(r.status).toBe(207);
    expect(r.body.errors.map((e: { batch_index: number; reason: string }) => [e.batch_index, e.reason])).toEqual([
      [0, 'invalid_body'],
      [1, 'invalid_body'],
      [2, 'invalid_body'],
      [3, 'invalid_action'],
    ]);
    expect(await server.dump(ws)).toEqual(before);
  });

  it.each([
    ['truncated JSON', '{"batch":[', 'invalid_json'],
    ['a JSON array', '[{"type":"person"}]', 'invalid_body'],
    ['JSON null', 'null', 'invalid_body'],
    ['no body', '', 'invalid_body'],
    ['batch missing', '{}', 'invalid_body'],
    ['batch an object', '{"batch":{"0":{}}}', 'invalid_body'],
    ['batch a string', '{"batch":"[]"}', 'invalid_body'],
    ['JSON nested deeper than 100 levels', `{"batch":[${'['.repeat(150)}${']'.repeat(150)}]}`, 'invalid_body'],
  ])('400: %s', async (_label, body, reason) => {
    await refused(() => post('/api/v2/batch', body), 400, reason);
  });

  it('413 payload_too_large for a batch over 500 KB, and none of its items is applied', async () => {
    const items = [];
    for (let i = 0; i < 20; i++) items.push(identify({ id: uid('big') }, { blob: 'x'.repeat(900), n: i }));
    const filler = Array.from({ length: 30 }, () => ({
      type: 'person',
      action: 'event',
      identifiers: { id: 'filler' },
      name: 'f',
      attributes: { blob: 'y'.repeat(20_000) },
    }));
    const body = JSON.stringify({ batch: [...items, ...filler] });
    expect(body.length).toBeGreaterThan(500 * 1024);
    await refused(() => post('/api/v2/batch', body), 413, 'payload_too_large');
    expect(await ws.person('filler')).toBeNull();
  });

  it('a batch just under 500 KB is accepted', async () => {
    const id = uid('under');
    const filler = Array.from({ length: 24 }, (_, i) => ({
      type: 'person',
      action: 'event',
      identifiers: { id },
      name: `f${i}`,
      attributes: { blob: 'y'.repeat(20_000) },
    }));
    const body = JSON.stringify({ batch: filler });
    expect(body.length).toBeLessThan(500 * 1024);
    expectOk(await post('/api/v2/batch', body));
    expect(await ws.activitiesOfType(id, 'event')).toHaveLength(24);
  });
});

describe('never a 5xx', () => {
  const odd = [
    '',
    'null',
    '{}',
    '[]',
    '0',
    '{"type":null,"action":null}',
    '{"type":"person","action":"identify","identifiers":null}',
    '{"type":"person","action":"identify","identifiers":{"id":null}}',
    '{"type":"person","action":"identify","identifiers":{"email":null}}',
    '{"type":"person","action":"identify","identifiers":{"cio_id":null}}',
    '{"type":"person","action":"identify","identifiers":{"id":"a"},"attributes":null,"timestamp":null}',
    '{"type":"person","action":"identify","identifiers":{"id":"a"},"attributes":{"id":null,"email":null}}',
    '{"type":"person","action":"event","identifiers":{"id":"a"},"name":"x","attributes":null,"id":null}',
    '{"type":"person","action":"merge","primary":null,"secondary":null}',
    '{"type":"person","action":"add_device","identifiers":{"id":"a"},"device":null}',
    '{"type":"person","action":"delete_device","identifiers":{"id":"a"},"device":{"token":null}}',
    '{"type":"person","action":"__proto__","identifiers":{"__proto__":"a"}}',
    '{"type":"person","action":"constructor","identifiers":{"constructor":"a"}}',
    '{"type":"person","action":"toString","identifiers":{"toString":"a"}}',
    JSON.stringify({ type: 'person', action: 'identify', identifiers: { id: '\ud800' }, attributes: { a: '\udfff' } }),
  ];

  it.each(['/api/v2/entity', '/api/v2/batch'])('%s answers odd input below 500', async (path) => {
    for (const item of odd) {
      const body = path.endsWith('batch') && item !== '' ? `{"batch":[${item}]}` : item;
      const r = await post(path, body);
      expect(r.status, `${path} ${body} → ${JSON.stringify(r.body)}`).toBeLessThan(500);
      if (r.status >= 400 || r.status === 207) expect(Array.isArray(r.body.errors)).toBe(true);
    }
  });
});
