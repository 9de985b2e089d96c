/**
 * The flows of the seed document (seed/segment-destination-classic.txt), one test each, through the Track v1 API
 * with state read back through the App API. The Segment `identify(userId, traits)` calls of the seed map to
 * `PUT /api/v1/customers/{userId or email}` with the traits as the body.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  inUseMessage,
  startServer,
  type Reply,
  type TestServer,
  type TestWorkspace,
} from '../helpers/roster-server.js';

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await server?.close();
});

function expectOk(r: Reply) {
  expect(r.status, JSON.stringify(r.body)).toBe(200);
}

async function mustFind(ws: TestWorkspace, ref: string, idType = 'id') {
  const p = await ws.person(ref, idType);
  expect(p, `${idType} ${ref} should exist`).not.toBeNull();
  return p;
}

describe('seed flows', () => {
  it('identify by id with an email trait creates a person with both; the same call again updates them', async () => {
    const ws = await server.workspace();
    expectOk(await ws.identify('userId123', { email: 'john.doe@example.com' }));
    const p = await mustFind(ws, 'userId123');
    expect(p.identifiers).toMatchObject({ id: 'userId123', email: 'john.doe@example.com' });
    expectOk(await ws.identify('userId123', { email: 'john.doe@example.com', first_name: 'John' }));
    const again = await mustFind(ws, 'john.doe@example.com', 'email');
    expect(again.identifiers.cio_id).toBe(p.identifiers.cio_id);
    expect(again.attributes.first_name).toBe('John');
  });

  it('lead to customer: a lead identified by email gains an id and stays the same person (same cio_id)', async () => {
    const ws = await server.workspace();
    expectOk(await ws.identify('person@example.com', { first_name: 'person', interested_in: 'baseball' }));
    const lead = await mustFind(ws, 'person@example.com', 'email');
    expect(lead.identifiers.id).toBeNull();

    expectOk(await ws.identify('userId123', { email: 'person@example.com', account_created: 1629224941 }));
    const customer = await mustFind(ws, 'userId123');
    expect(customer.identifiers).toEqual({
      id: 'userId123',
      email: 'person@example.com',
      cio_id: lead.identifiers.cio_id,
    });
    expect(customer.attributes).toMatchObject({
      first_name: 'person',
      interested_in: 'baseball',
      account_created: '1629224941',
    });
    expect(await ws.byEmail('person@example.com')).toHaveLength(1);
  });

  it('preventing duplicates: email as the userId first, then the id once they sign up', async () => {
    const ws = await server.workspace();
    expectOk(await ws.identify('signup@example.com', { source: 'newsletter' }));
    const cio = (await mustFind(ws, 'signup@example.com', 'email')).identifiers.cio_id;
    expectOk(await ws.identify('signup@example.com', { id: 'user-77' }));
    expect((await mustFind(ws, 'user-77')).identifiers.cio_id).toBe(cio);
  });

  it('an event recorded by email makes a person with an email and no id, who later becomes the customer', async () => {
    const ws = await server.workspace();
    expectOk(await ws.track('invitee@example.com', { name: 'invited' }));
    const invitee = await mustFind(ws, 'invitee@example.com', 'email');
    expect(invitee.identifiers.id).toBeNull();
    expectOk(await ws.identify('user-88', { email: 'invitee@example.com' }));
    const customer = await mustFind(ws, 'user-88');
    expect(customer.identifiers.cio_id).toBe(invitee.identifiers.cio_id);
    expect((await ws.activitiesOfType('user-88', 'event')).map((e) => e.name)).toEqual(['invited']);
  });

  it('the id and the email belong to two different people: 409, and the id’s person still gets its other attributes', async () => {
    const ws = await server.workspace();
    expectOk(await ws.identify('userId123', { plan: 'trial' }));
    expectOk(await ws.identify('person@example.com', { first_name: 'lead' }));
    const r = await ws.identify('userId123', {
      email: 'person@example.com',
      plan: 'paid',
      account_created: 1629224941,
    });
    expect(r.status).toBe(409);
    expect(r.body.meta.code).toBe('identifier_in_use');
    expect(r.body.meta.errors).toEqual([inUseMessage('email')]);

    const p = await mustFind(ws, 'userId123');
    expect(p.identifiers.email).toBeNull();
    expect(p.attributes).toMatchObject({ plan: 'paid', account_created: '1629224941' });
    const lead = await mustFind(ws, 'person@example.com', 'email');
    expect(lead.identifiers.id).toBeNull();
    expect(lead.attributes.plan).toBeUndefined();
  });

  it('a cio_<cio_id> reference changes both the id and the email', async () => {
    const ws = await server.workspace();
    expectOk(await ws.identify('old-id', { email: 'old.email@example.com' }));
    const cio = (await mustFind(ws, 'old-id')).identifiers.cio_id;
    expectOk(await ws.identify(`cio_${cio}`, { email: 'new.email@example.com', id: 'new-id-value' }));
    expect((await mustFind(ws, cio, 'cio_id')).identifiers).toEqual({
      id: 'new-id-value',
      email: 'new.email@example.com',
      cio_id: cio,
    });
    expect(await ws.person('old-id')).toBeNull();
    expect(await ws.byEmail('old.email@example.com')).toEqual([]);
  });

  it('changing the email by id: refused without allow_email_update_by_id, applied with it (unless in use)', async () => {
    const off = await server.workspace();
    expectOk(await off.identify('userId123', { email: 'old@example.com' }));
    const r = await off.identify('userId123', { email: 'new@example.com' });
    expect(r.status).toBe(409);
    expect(r.body.meta.code).toBe('identifier_change_requires_cio_id');
    expect((await mustFind(off, 'userId123')).identifiers.email).toBe('old@example.com');

    const on = await server.workspace({ allowEmailUpdateById: true });
    expectOk(await on.identify('userId123', { email: 'old@example.com' }));
    expectOk(await on.identify('userId123', { email: 'new@example.com' }));
    expect((await mustFind(on, 'userId123')).identifiers.email).toBe('new@example.com');

    // "any value that isn't already in use"
    expectOk(await on.identify('someone-else', { email: 'taken@example.com' }));
    const taken = await on.identify('userId123', { email: 'taken@example.com' });
    expect(taken.status).toBe(409);
    expect(taken.body.meta.code).toBe('identifier_in_use');
    expect((await mustFind(on, 'userId123')).identifiers.email).toBe('new@example.com');
  });

  it('unsubscribed: true unsubscribes the person; false subscribes them again', async () => {
    const ws = await server.workspace();
    expectOk(await ws.identify('userId123', { email: 'john.doe@example.com' }));
    expect((await mustFind(ws, 'userId123')).unsubscribed).toBe(false);
    expectOk(await ws.identify('userId123', { email: 'john.doe@example.com', unsubscribed: true }));
    const p = await mustFind(ws, 'userId123');
    expect(p.unsubscribed).toBe(true);
    expect(p.attributes.unsubscribed).toBe('true');
    expectOk(await ws.identify('john.doe@example.com', { unsubscribed: 'false' }));
    expect((await mustFind(ws, 'userId123')).unsubscribed).toBe(false);
  });

  it('id_only workspace: email is only an attribute, two people may share it, and ?email= returns both', async () => {
    const ws = await server.workspace({ identifiers: 'id_only' });
    expectOk(await ws.identify('user-1', { email: 'family@example.com' }));
    expectOk(await ws.identify('user-2', { email: 'Family@example.com' }));
    const found = await ws.byEmail('family@example.com');
    expect(found.map((x) => x.id).sort()).toEqual(['user-1', 'user-2']);
    expect(new Set(found.map((x) => x.cio_id)).size).toBe(2);
    // An email-shaped reference is an id here, not a way to find either of them.
    expectOk(await ws.identify('family@example.com', { plan: 'x' }));
    expect((await mustFind(ws, 'family@example.com')).identifiers).toMatchObject({
      id: 'family@example.com',
      email: null,
    });
    expect((await ws.byEmail('family@example.com')).map((x) => x.id).sort()).toEqual(['user-1', 'user-2']);
  });

  it('resolving duplicates: find them, keep the oldest created_at, delete the rest', async () => {
    const ws = await server.workspace({ identifiers: 'id_only' });
    expectOk(await ws.identify('dup-newer', { email: 'dup@example.com', created_at: 1_700_000_000 }));
    expectOk(await ws.identify('dup-oldest', { email: 'dup@example.com', created_at: 1_500_000_000 }));
    expectOk(await ws.identify('dup-middle', { email: 'dup@example.com', created_at: '2020-01-01T00:00:00Z' }));

    const dups = await ws.byEmail('dup@example.com');
    expect(dups).toHaveLength(3);
    const withCreated = await Promise.all(
      dups.map(async (d) => ({ id: d.id!, createdAt: Number((await mustFind(ws, d.id!)).attributes.created_at) })),
    );
    withCreated.sort((a, b) => a.createdAt - b.createdAt);
    expect(withCreated.map((d) => d.id)).toEqual(['dup-oldest', 'dup-middle', 'dup-newer']);
    for (const d of withCreated.slice(1)) expectOk(await ws.delete(d.id));

    expect((await ws.byEmail('dup@example.com')).map((x) => x.id)).toEqual(['dup-oldest']);
    expect(await ws.person('dup-newer')).toBeNull();
    expect(await ws.person('dup-middle')).toBeNull();
  });
});
