import { APIClient, CustomerIORequestError, IdentifierType, RegionUS, TrackClient } from 'customerio-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer, type TestWorkspace } from '../helpers/roster-server.js';

/**
 * Customer.io's own Node client (customerio-node 5.2.0, native fetch) pointed at a running Roster with its `url`
 * option: `${base}/api/v1` for TrackClient (v2 calls go to the same host with /api/v2), `${base}/v1` for APIClient.
 * Every call must succeed as it would against Customer.io, and leave the state it should.
 */

let server: TestServer;
let ws: TestWorkspace;
let other: TestWorkspace;
let track: TrackClient;
let api: APIClient;

beforeAll(async () => {
  server = await startServer();
  ws = await server.workspace();
  other = await server.workspace();
  track = new TrackClient(ws.creds.site_id, ws.creds.track_api_key, { region: RegionUS, url: `${ws.base}/api/v1` });
  api = new APIClient(ws.creds.app_api_key, { region: RegionUS, url: `${ws.base}/v1` });
});

afterAll(async () => {
  await server?.close();
});

let counter = 0;
const uid = (prefix = 'u') => `${prefix}-${process.pid}-${++counter}`;
const nowS = () => Math.floor(Date.now() / 1000);

/** The rejection of a call, which must be the client's CustomerIORequestError. */
async function rejection(p: Promise<unknown>): Promise<CustomerIORequestError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(CustomerIORequestError);
  return err as CustomerIORequestError;
}

/** The App API customer via the client, or null when the client gets a 404. */
async function attributes(id: string, idType: IdentifierType = IdentifierType.Id) {
  try {
    return (await api.getAttributes(id, idType)).customer;
  } catch (err) {
    if (err instanceof CustomerIORequestError && err.statusCode === 404) return null;
    throw err;
  }
}

async function eventNames(id: string, type = 'event'): Promise<string[]> {
  const body = await api.getCustomerActivities(id, { type, limit: 100 });
  return body.activities.map((a: { name: string }) => a.name);
}

describe('TrackClient', () => {
  it('identify creates and updates a person; getAttributes reads them back by id, email and cio_id', async () => {
    const id = uid();
    const email = `${id}@Example.com`;
    expect(await track.identify(id, { email, created_at: 1700000000, plan: 'pro', seats: 3 })).toEqual({});
    expect(await track.identify(id, { plan: 'team' })).toEqual({});
    const c = await attributes(id);
    expect(c.identifiers).toEqual({ id, email, cio_id: expect.any(String) });
    expect(c.attributes).toMatchObject({ plan: 'team', seats: '3', created_at: '1700000000', email, id });
    expect(await attributes(email.toLowerCase(), IdentifierType.Email)).toEqual(c);
    expect(await attributes(c.identifiers.cio_id, IdentifierType.CioId)).toEqual(c);
    expect(await attributes(`cio_${c.identifiers.cio_id}`, IdentifierType.CioId)).toEqual(c);
  });

  it('identify with a numeric id stores its decimal string', async () => {
    const n = 900_000_000 + process.pid * 100 + ++counter;
    expect(await track.identify(n, { plan: 'numeric' })).toEqual({});
    expect((await attributes(String(n))).id).toBe(String(n));
  });

  it('identify by cio_<cio_id> changes identifiers, as the client documents', async () => {
    const id = uid();
    await track.identify(id, { email: `${id}@example.com` });
    const cio = (await attributes(id)).identifiers.cio_id;
    const newId = uid('new');
    expect(await track.identify(`cio_${cio}`, { id: newId, email: `${newId}@example.com` })).toEqual({});
    expect(await attributes(id)).toBeNull();
    expect((await attributes(newId)).identifiers).toEqual({ id: newId, email: `${newId}@example.com`, cio_id: cio });
  });

  it('track and trackPageView record events on the person', async () => {
    const id = uid();
    await track.identify(id, {});
    const ts = nowS() - 120;
    expect(await track.track(id, { name: 'purchase', data: { price: 23.45 }, timestamp: ts })).toEqual({});
    expect(await track.trackPageView(id, '/pricing')).toEqual({});
    const events = (await api.getCustomerActivities(id, { type: 'event' })).activities;
    expect(events).toEqual([expect.objectContaining({ name: 'purchase', timestamp: ts, data: { price: 23.45 } })]);
    expect(await eventNames(id, 'page')).toEqual(['/pricing']);
  });

  it('trackAnonymous keeps events under the anonymous id until identify links it', async () => {
    const anon = uid('anon');
    expect(await track.trackAnonymous(anon, { name: 'viewed_product', data: { sku: 'x1' } })).toEqual({});
    expect(await track.trackAnonymous('', { name: 'invite', data: { recipient: 'friend@example.com' } })).toEqual({});
    const id = uid();
    await track.identify(id, { anonymous_id: anon });
    expect(await eventNames(id)).toEqual(['viewed_product']);
  });

  it('mergeCustomers folds the secondary into the primary, by any identifier type', async () => {
    const primary = uid('primary');
    const secondary = uid('secondary');
    const third = uid('third');
    await track.identify(primary, { plan: 'keep' });
    await track.identify(secondary, { email: `${secondary}@example.com`, extra: 'moved' });
    await track.track(secondary, { name: 'secondary_event' });
    await track.identify(third, {});
    expect(
      await track.mergeCustomers(IdentifierType.Id, primary, IdentifierType.Email, `${secondary}@example.com`),
    ).toEqual({});
    expect(await attributes(secondary)).toBeNull();
    const p = await attributes(primary);
    expect(p.attributes).toMatchObject({ plan: 'keep', extra: 'moved' });
    expect(p.identifiers.email).toBe(`${secondary}@example.com`);
    expect(await eventNames(primary)).toEqual(['secondary_event']);
    const thirdCio = (await attributes(third)).identifiers.cio_id;
    expect(
      await track.mergeCustomers(IdentifierType.CioId, p.identifiers.cio_id, IdentifierType.CioId, thirdCio),
    ).toEqual({});
    expect(await attributes(third)).toBeNull();
  });

  it('suppress deletes and blocks the person; unsuppress lets a new profile be made', async () => {
    const id = uid();
    await track.identify(id, { email: `${id}@example.com` });
    expect(await track.suppress(id)).toEqual({});
    expect(await attributes(id)).toBeNull();
    expect(await track.identify(id, { plan: 'back' })).toEqual({});
    expect(await attributes(id)).toBeNull();
    expect(await track.unsuppress(id)).toEqual({});
    expect(await track.identify(id, { plan: 'back' })).toEqual({});
    expect((await attributes(id)).attributes.plan).toBe('back');
  });

  it('destroy removes the person', async () => {
    const id = uid();
    await track.identify(id, { email: `${id}@example.com` });
    expect(await track.destroy(id)).toEqual({});
    expect(await attributes(id)).toBeNull();
    expect(await api.getCustomersByEmail(`${id}@example.com`)).toEqual({ results: [] });
  });

  it('addDevice registers a device with last_used and attributes; deleteDevice removes it', async () => {
    const id = uid();
    await track.identify(id, {});
    const lastUsed = nowS() - 60;
    const token = `apns/${uid()}+=`;
    expect(await track.addDevice(id, token, 'ios', { last_used: lastUsed, app_version: '3.1' })).toEqual({});
    expect(await track.addDevice(id, 'fcm-token', 'android')).toEqual({});
    expect((await attributes(id)).devices).toEqual([
      { id: token, platform: 'ios', last_used: lastUsed, attributes: { app_version: '3.1' } },
      { id: 'fcm-token', platform: 'android', last_used: expect.any(Number), attributes: {} },
    ]);
    expect(await track.deleteDevice(id, token)).toEqual({});
    expect((await attributes(id)).devices.map((d: { id: string }) => d.id)).toEqual(['fcm-token']);
  });

  it('getAccountRegion answers the region document', async () => {
    expect(await track.getAccountRegion()).toEqual({ url: ws.base, region: 'us', environment_id: expect.any(Number) });
  });

  it('batch and entity reach Track API v2 on the same host', async () => {
    const id = uid();
    expect(
      await track.batch([
        { type: 'person', action: 'identify', identifiers: { id }, attributes: { plan: 'batched' } },
        { type: 'person', action: 'event', identifiers: { id }, name: 'from_batch' },
      ]),
    ).toEqual({});
    expect(await track.entity({ type: 'person', action: 'page', identifiers: { id }, name: '/from-entity' })).toEqual(
      {},
    );
    expect((await attributes(id)).attributes.plan).toBe('batched');
    expect(await eventNames(id)).toEqual(['from_batch']);
    expect(await eventNames(id, 'page')).toEqual(['/from-entity']);
  });

  it('errors reject with CustomerIORequestError carrying the status and the v1 messages', async () => {
    const bad = await rejection(track.identify(uid(), { email: 'not-an-email' }));
    expect(bad.statusCode).toBe(400);
    expect(bad.message).toMatch(/^1 error:\n {2}- email: "not-an-email" is not a valid email address\.$/);
    expect(JSON.parse(bad.body)).toMatchObject({ meta: { code: 'invalid_email' } });
    const unknown = await rejection(track.identify('cio_nobody000', { plan: 'x' }));
    expect(unknown.statusCode).toBe(404);
    const merge = await rejection(
      track.mergeCustomers(IdentifierType.Id, uid('nobody'), IdentifierType.Id, uid('nobody')),
    );
    expect(merge.statusCode).toBe(404);
    expect(merge.message).toMatch(/No person matches/); // read from the singular meta.error
    const event = await rejection(track.track(uid(), { name: 'x'.repeat(101) }));
    expect(event.statusCode).toBe(400);
  });

  it('wrong credentials reject with 401, without retries, and change nothing', async () => {
    const before = await server.dump(ws);
    const wrongKey = new TrackClient(ws.creds.site_id, 'trk_wrong', { url: `${ws.base}/api/v1` });
    const otherKey = new TrackClient(ws.creds.site_id, other.creds.track_api_key, { url: `${ws.base}/api/v1` });
    for (const client of [wrongKey, otherKey]) {
      const err = await rejection(client.identify(uid(), { plan: 'x' }));
      expect(err.statusCode).toBe(401);
      expect(err.message).toContain('Unauthorized request');
    }
    expect(await server.dump(ws)).toEqual(before);
  });
});

describe('APIClient', () => {
  it('getCustomersByEmail finds people case-insensitively, and answers {"results":[]} for nobody', async () => {
    const id = uid();
    const email = `${id}+tag@Example.com`;
    await track.identify(id, { email });
    const cio = (await attributes(id)).identifiers.cio_id;
    expect(await api.getCustomersByEmail(email)).toEqual({ results: [{ email, id, cio_id: cio }] });
    expect(await api.getCustomersByEmail(email.toUpperCase())).toEqual({ results: [{ email, id, cio_id: cio }] });
    expect(await api.getCustomersByEmail(`${uid('nobody')}@example.com`)).toEqual({ results: [] });
  });

  it('getAttributes rejects with 404 for someone unknown', async () => {
    const err = await rejection(api.getAttributes(uid('nobody')));
    expect(err.statusCode).toBe(404);
  });

  it("rejects with 401 for a track key, and another workspace's app key sees none of this workspace", async () => {
    const id = uid();
    await track.identify(id, { email: `${id}@example.com` });
    const withTrackKey = new APIClient(ws.creds.track_api_key, { url: `${ws.base}/v1` });
    expect((await rejection(withTrackKey.getAttributes(id))).statusCode).toBe(401);
    expect((await rejection(withTrackKey.getCustomersByEmail(`${id}@example.com`))).statusCode).toBe(401);
    const otherApi = new APIClient(other.creds.app_api_key, { url: `${ws.base}/v1` });
    expect((await rejection(otherApi.getAttributes(id))).statusCode).toBe(404);
    expect(await otherApi.getCustomersByEmail(`${id}@example.com`)).toEqual({ results: [] });
  });
});
