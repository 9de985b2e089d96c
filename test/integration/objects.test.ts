import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type Reply, type TestServer, type TestWorkspace } from '../helpers/roster-server.js';

/**
 * Objects and relationships over real HTTP (reference/customerio-api.md §1.3, §2; segment.md §3.2): every v2 object
 * action and person relationship action, `cio_relationships` in v1 and v2 identifies, anonymous ids on both sides,
 * reading back through the App API (`/v1/objects/…`, `/v1/customers/…/relationships`, the customer object), limits
 * and errors (400 with stable codes, never 5xx, nothing changed), person delete and merge, workspace isolation, and
 * the exact bodies Segment's Customer.io (Actions) destination sends.
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
const enc = encodeURIComponent;
const nowS = () => Math.floor(Date.now() / 1000);

type Json = Record<string, unknown>;

const objectOp = (action: string, objectId: string, extra: Json = {}, typeId = '1') => ({
  type: 'object',
  action,
  identifiers: { object_type_id: typeId, object_id: objectId },
  ...extra,
});

const personOp = (action: string, identifiers: Json, extra: Json = {}) => ({
  type: 'person',
  action,
  identifiers,
  ...extra,
});

const rel = (identifiers: Json, relationship_attributes?: Json) =>
  relationship_attributes === undefined ? { identifiers } : { identifiers, relationship_attributes };

const toObject = (objectId: string, typeId = '1') => ({ object_type_id: typeId, object_id: objectId });

function expectOk(r: Reply) {
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  expect(r.body).toEqual({});
}

function expectV2Error(r: Reply, status: number, reason: string, field?: string | null) {
  expect(r.status, JSON.stringify(r.body)).toBe(status);
  expect(r.body).toEqual({ errors: [{ reason, field: r.body.errors[0].field, message: expect.any(String) }] });
  expect(r.body.errors[0].field === null || typeof r.body.errors[0].field === 'string').toBe(true);
  if (field !== undefined) expect(r.body.errors[0].field).toBe(field);
}

function expectV1Error(r: Reply, status: number, code: string) {
  expect(r.status, JSON.stringify(r.body)).toBe(status);
  expect(r.body).toEqual({ meta: { errors: [expect.any(String)], code } });
}

function expectAppError(r: Reply, status: number, code: string) {
  expect(r.status, JSON.stringify(r.body)).toBe(status);
  expect(r.body).toEqual({ errors: [{ detail: expect.any(String), status: String(status), code }] });
}

/** Runs a call that must be refused, and proves neither workspace changed. */
async function refused(call: () => Promise<Reply>, check: (r: Reply) => void) {
  const before = [await server.dump(ws), await server.dump(other)];
  const r = await call();
  check(r);
  expect([await server.dump(ws), await server.dump(other)]).toEqual(before);
  return r;
}

/** `GET /v1/objects/{type}/{id}`'s object, or null on 404. */
async function objectOf(objectId: string, typeId = '1', w: TestWorkspace = ws) {
  const r = await w.app('GET', `/v1/objects/${typeId}/${enc(objectId)}`);
  if (r.status === 404) {
    expectAppError(r, 404, 'object_not_found');
    return null;
  }
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return r.body.object;
}

/** `GET /v1/customers/{ref}/relationships`'s list. */
async function relationsOf(ref: string, w: TestWorkspace = ws, idType = 'id') {
  const r = await w.app('GET', `/v1/customers/${enc(ref)}/relationships?id_type=${idType}`);
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  expect(r.body.next).toBe('');
  return r.body.cio_relationships as { identifiers: Json; relationship_attributes: Json }[];
}

/** A person made by identify; returns their identifiers. */
async function person(w: TestWorkspace = ws) {
  const id = uid('p');
  const email = `${id}@example.com`;
  expectOk(await w.identify(id, { email }));
  return { id, email, cio: (await w.person(id)).identifiers.cio_id as string };
}

/** How the object lists a person. */
const member = (p: { id: string | null; email: string | null; cio: string }, attrs: Json = {}) => ({
  identifiers: { id: p.id, email: p.email, cio_id: p.cio },
  relationship_attributes: attrs,
});

describe('v2 object identify', () => {
  it('creates the object: attributes, created_at, updated_at; GET /v1/objects answers it exactly', async () => {
    const oid = uid('acme');
    const before = nowS();
    expectOk(
      await ws.entity(
        objectOp('identify', oid, {
          attributes: { name: 'Acme', seats: 12, tags: ['b2b'] },
          created_at: 1_577_836_800,
        }),
      ),
    );
    const r = await ws.app('GET', `/v1/objects/1/${enc(oid)}`);
    expect(r.status).toBe(200);
    expect(r.body).toEqual({
      object: {
        object_type_id: '1',
        object_id: oid,
        attributes: { name: 'Acme', seats: 12, tags: ['b2b'] },
        created_at: 1_577_836_800,
        updated_at: expect.any(Number),
        relationships: [],
      },
      next: '',
    });
    expect(r.body.object.updated_at).toBeGreaterThanOrEqual(before);
  });

  it('created_at defaults to the call time; an ISO created_at in attributes is read as the creation time', async () => {
    const a = uid('o');
    const before = nowS();
    expectOk(await ws.entity(objectOp('identify', a, { attributes: { plan: 'x' } })));
    expect((await objectOf(a)).created_at).toBeGreaterThanOrEqual(before);
    const b = uid('o');
    expectOk(await ws.entity(objectOp('identify', b, { attributes: { created_at: '2020-01-01T00:00:00Z' } })));
    expect(await objectOf(b)).toMatchObject({ created_at: 1_577_836_800, attributes: {} });
  });

  it('identifying again merges: keys replace, null and "" remove, others stay, created_at stays', async () => {
    const oid = uid('o');
    expectOk(
      await ws.entity(objectOp('identify', oid, { attributes: { a: 1, b: 2, c: 3, d: 4 }, created_at: 1_600_000_000 })),
    );
    expectOk(await ws.entity(objectOp('identify', oid, { attributes: { a: 10, b: null, c: '', e: { x: 1 } } })));
    expect(await objectOf(oid)).toMatchObject({ attributes: { a: 10, d: 4, e: { x: 1 } }, created_at: 1_600_000_000 });
  });

  it('a call older than the stored time for a key does not overwrite it (per-attribute order, like people)', async () => {
    const oid = uid('o');
    expectOk(await ws.entity(objectOp('identify', oid, { attributes: { plan: 'new' }, timestamp: 1_700_000_100 })));
    expectOk(
      await ws.entity(objectOp('identify', oid, { attributes: { plan: 'old', extra: 1 }, timestamp: 1_700_000_000 })),
    );
    expect((await objectOf(oid)).attributes).toEqual({ plan: 'new', extra: 1 });
  });

  it('identify and identify_anonymous name the same object; object type ids keep objects apart', async () => {
    const oid = uid('o');
    expectOk(await ws.entity(objectOp('identify', oid, { attributes: { a: 1 } })));
    expectOk(await ws.entity(objectOp('identify_anonymous', oid, { attributes: { b: 2 } })));
    expectOk(await ws.entity(objectOp('identify', oid, { attributes: { c: 3 } }, '2')));
    expect((await objectOf(oid)).attributes).toEqual({ a: 1, b: 2 });
    expect((await objectOf(oid, '2')).attributes).toEqual({ c: 3 });
    expect(await objectOf(oid, '3')).toBeNull();
  });

  it('an anonymous_id attribute is the sender’s, not the object’s: it is not stored', async () => {
    const oid = uid('o');
    expectOk(await ws.entity(objectOp('identify', oid, { attributes: { plan: 'x', anonymous_id: 'a-1' } })));
    expect((await objectOf(oid)).attributes).toEqual({ plan: 'x' });
  });

  it('relates each listed person: existing by id, email or cio_id; unknown id or email creates the person', async () => {
    const byId = await person();
    const byEmail = await person();
    const byCio = await person();
    const newId = uid('new');
    const newEmail = `${uid('lead')}@example.com`;
    const oid = uid('o');
    expectOk(
      await ws.entity(
        objectOp('identify', oid, {
          attributes: { name: 'Acme' },
          cio_relationships: [
            rel({ id: byId.id }, { role: 'admin' }),
            rel({ email: byEmail.email.toUpperCase() }),
            rel({ cio_id: byCio.cio }, { role: 'viewer' }),
            rel({ id: newId }, { seats: 2 }),
            rel({ email: newEmail }),
          ],
        }),
      ),
    );
    const created = await ws.person(newId);
    const lead = (await ws.byEmail(newEmail))[0]!;
    expect(created.identifiers).toEqual({ id: newId, email: null, cio_id: expect.any(String) });
    expect((await ws.activitiesOfType(newId, 'profile_create')).length).toBe(1);
    const object = await objectOf(oid);
    expect(object.relationships).toEqual(
      expect.arrayContaining([
        member(byId, { role: 'admin' }),
        member(byEmail),
        member(byCio, { role: 'viewer' }),
        member({ id: newId, email: null, cio: created.identifiers.cio_id }, { seats: 2 }),
        member({ id: null, email: newEmail, cio: lead.cio_id }),
      ]),
    );
    expect(object.relationships).toHaveLength(5);
    expect(await relationsOf(byId.id)).toEqual([
      { identifiers: toObject(oid), relationship_attributes: { role: 'admin' } },
    ]);
    expect(await relationsOf(byEmail.email, ws, 'email')).toEqual([
      { identifiers: toObject(oid), relationship_attributes: {} },
    ]);
  });

  it('the customer object lists the person’s relationships', async () => {
    const p = await person();
    const [a, b] = [uid('o'), uid('o')];
    expectOk(await ws.entity(objectOp('identify', a, { cio_relationships: [rel({ id: p.id }, { role: 'owner' })] })));
    expectOk(await ws.entity(objectOp('identify', b, { cio_relationships: [rel({ id: p.id })] }, '2')));
    expect((await ws.person(p.id)).relationships).toEqual([
      { identifiers: toObject(a), relationship_attributes: { role: 'owner' } },
      { identifiers: toObject(b, '2'), relationship_attributes: {} },
    ]);
    expect((await ws.person((await person()).id)).relationships).toEqual([]);
  });

  it('relating again merges the relationship attributes; a repeat that changes nothing records no activity', async () => {
    const p = await person();
    const oid = uid('o');
    const relate = (attrs: Json) =>
      ws.entity(objectOp('identify', oid, { cio_relationships: [rel({ id: p.id }, attrs)] }));
    expectOk(await relate({ role: 'admin', seats: 1 }));
    expectOk(await relate({ seats: 3, team: 'ops' }));
    expectOk(await relate({ team: null }));
    expect(await relationsOf(p.id)).toEqual([
      { identifiers: toObject(oid), relationship_attributes: { role: 'admin', seats: 3 } },
    ]);
    const adds = await ws.activitiesOfType(p.id, 'relationship_add');
    expect(adds).toHaveLength(3);
    expect(adds[0]!.data).toEqual({ ...toObject(oid), relationship_attributes: { role: 'admin', seats: 3 } });
    expectOk(await relate({ role: 'admin' }));
    expect(await ws.activitiesOfType(p.id, 'relationship_add')).toHaveLength(3);
  });

  it('an unknown cio_id fails that relationship alone: 404 person_not_found; the object and the others are stored', async () => {
    const p = await person();
    const oid = uid('o');
    const r = await ws.entity(
      objectOp('identify', oid, {
        attributes: { plan: 'x' },
        cio_relationships: [rel({ cio_id: 'nobody1234567' }), rel({ id: p.id })],
      }),
    );
    expectV2Error(r, 404, 'person_not_found');
    expect(await objectOf(oid)).toMatchObject({ attributes: { plan: 'x' }, relationships: [member(p)] });
  });

  it('a suppressed id in cio_relationships is dropped (not re-created); the rest applies', async () => {
    const gone = uid('sup');
    expectOk(await ws.suppress(gone));
    const oid = uid('o');
    expectOk(
      await ws.entity(objectOp('identify', oid, { attributes: { a: 1 }, cio_relationships: [rel({ id: gone })] })),
    );
    expect(await ws.person(gone)).toBeNull();
    expect(await objectOf(oid)).toMatchObject({ attributes: { a: 1 }, relationships: [] });
  });

  it('identify_anonymous with an unlinked anonymous id: kept waiting, then given to the person identified with it', async () => {
    const anon = uid('anon');
    const oid = uid('o');
    expectOk(
      await ws.entity(
        objectOp('identify_anonymous', oid, { cio_relationships: [rel({ anonymous_id: anon }, { via: 'web' })] }),
      ),
    );
    expect((await objectOf(oid)).relationships).toEqual([]);
    const id = uid('later');
    expectOk(await ws.identify(id, { anonymous_id: anon }));
    expect(await relationsOf(id)).toEqual([{ identifiers: toObject(oid), relationship_attributes: { via: 'web' } }]);
    const [add] = await ws.activitiesOfType(id, 'relationship_add');
    expect(add!.data).toEqual({ ...toObject(oid), relationship_attributes: { via: 'web' }, anonymous_id: anon });
    // Taken once: nothing is left waiting for the anonymous id.
    const dump = await server.dump(ws);
    expect(dump.pending_relationships.some((r) => (r as { anonymous_id: string }).anonymous_id === anon)).toBe(false);
  });

  it('an anonymous id already linked relates its person at once', async () => {
    const anon = uid('anon');
    const id = uid('known');
    expectOk(await ws.identify(id, { anonymous_id: anon }));
    const oid = uid('o');
    expectOk(
      await ws.entity(objectOp('identify_anonymous', oid, { cio_relationships: [rel({ anonymous_id: anon })] })),
    );
    expect(await relationsOf(id)).toEqual([{ identifiers: toObject(oid), relationship_attributes: {} }]);
  });

  it('when the person is already related to the object, their own relationship is kept over the waiting one', async () => {
    const anon = uid('anon');
    const id = uid('p');
    const oid = uid('o');
    expectOk(await ws.entity(objectOp('identify', oid, { cio_relationships: [rel({ id }, { role: 'owner' })] })));
    expectOk(
      await ws.entity(
        objectOp('identify_anonymous', oid, { cio_relationships: [rel({ anonymous_id: anon }, { role: 'guest' })] }),
      ),
    );
    expectOk(await ws.identify(id, { anonymous_id: anon }));
    expect(await relationsOf(id)).toEqual([{ identifiers: toObject(oid), relationship_attributes: { role: 'owner' } }]);
  });
});

describe('v2 object delete', () => {
  it('deletes the object and every relationship to it; each related person gets a relationship_delete activity', async () => {
    const [p, q] = [await person(), await person()];
    const anon = uid('anon');
    const oid = uid('o');
    const keep = uid('keep');
    expectOk(
      await ws.entity(
        objectOp('identify', oid, {
          attributes: { plan: 'x' },
          cio_relationships: [rel({ id: p.id }), rel({ id: q.id }), rel({ anonymous_id: anon })],
        }),
      ),
    );
    expectOk(await ws.entity(objectOp('identify', keep, { cio_relationships: [rel({ id: p.id })] })));
    expectOk(await ws.entity(objectOp('delete', oid)));
    expect(await objectOf(oid)).toBeNull();
    expect(await relationsOf(p.id)).toEqual([{ identifiers: toObject(keep), relationship_attributes: {} }]);
    expect(await relationsOf(q.id)).toEqual([]);
    expect((await ws.activitiesOfType(q.id, 'relationship_delete'))[0]!.data).toEqual({
      ...toObject(oid),
      reason: 'object_deleted',
    });
    // The waiting anonymous relationship went with it.
    const id = uid('later');
    expectOk(await ws.identify(id, { anonymous_id: anon }));
    expect(await relationsOf(id)).toEqual([]);
    // People stay.
    expect(await ws.person(p.id)).not.toBeNull();
  });

  it('deleting an object that is not there is 200 and changes nothing (idempotent)', async () => {
    const before = await server.dump(ws);
    expectOk(await ws.entity(objectOp('delete', uid('ghost'))));
    expect(await server.dump(ws)).toEqual(before);
  });

  it('identifying it again afterwards makes a new object', async () => {
    const oid = uid('o');
    expectOk(await ws.entity(objectOp('identify', oid, { attributes: { a: 1 }, created_at: 1_500_000_000 })));
    expectOk(await ws.entity(objectOp('delete', oid)));
    expectOk(await ws.entity(objectOp('identify', oid, { attributes: { b: 2 } })));
    const object = await objectOf(oid);
    expect(object.attributes).toEqual({ b: 2 });
    expect(object.created_at).toBeGreaterThan(1_500_000_000);
  });
});

describe('v2 object add_relationships / delete_relationships', () => {
  it('add relates the listed people (creating unknown ids) and creates an unknown object empty', async () => {
    const p = await person();
    const fresh = uid('fresh');
    const oid = uid('o');
    expectOk(
      await ws.entity(
        objectOp('add_relationships', oid, {
          cio_relationships: [rel({ id: p.id }, { role: 'a' }), rel({ id: fresh })],
        }),
      ),
    );
    const object = await objectOf(oid);
    expect(object.attributes).toEqual({});
    expect(object.relationships).toHaveLength(2);
    expect(object.relationships).toContainEqual(member(p, { role: 'a' }));
    expect(await relationsOf(fresh)).toEqual([{ identifiers: toObject(oid), relationship_attributes: {} }]);
  });

  it('delete removes only the listed relationships and records relationship_delete', async () => {
    const [p, q] = [await person(), await person()];
    const oid = uid('o');
    expectOk(
      await ws.entity(
        objectOp('add_relationships', oid, { cio_relationships: [rel({ id: p.id }), rel({ id: q.id })] }),
      ),
    );
    expectOk(await ws.entity(objectOp('delete_relationships', oid, { cio_relationships: [rel({ email: p.email })] })));
    expect((await objectOf(oid)).relationships).toEqual([member(q)]);
    expect((await ws.activitiesOfType(p.id, 'relationship_delete'))[0]!.data).toEqual(toObject(oid));
    // Deleting again, or for someone unknown, or on an unknown object: 200, nothing happens.
    const before = await server.dump(ws);
    expectOk(await ws.entity(objectOp('delete_relationships', oid, { cio_relationships: [rel({ id: p.id })] })));
    expectOk(
      await ws.entity(objectOp('delete_relationships', oid, { cio_relationships: [rel({ id: uid('nobody') })] })),
    );
    expectOk(
      await ws.entity(objectOp('delete_relationships', uid('ghost'), { cio_relationships: [rel({ id: q.id })] })),
    );
    expect(await server.dump(ws)).toEqual(before);
  });

  it('delete of a waiting anonymous relationship: it is no longer given to the person later', async () => {
    const anon = uid('anon');
    const oid = uid('o');
    expectOk(await ws.entity(objectOp('add_relationships', oid, { cio_relationships: [rel({ anonymous_id: anon })] })));
    expectOk(
      await ws.entity(objectOp('delete_relationships', oid, { cio_relationships: [rel({ anonymous_id: anon })] })),
    );
    const id = uid('p');
    expectOk(await ws.identify(id, { anonymous_id: anon }));
    expect(await relationsOf(id)).toEqual([]);
  });

  it('add with an unknown cio_id: 404 person_not_found and nothing is stored', async () => {
    await refused(
      () => ws.entity(objectOp('add_relationships', uid('o'), { cio_relationships: [rel({ cio_id: 'nobody999' })] })),
      (r) => expectV2Error(r, 404, 'person_not_found'),
    );
  });

  it.each([
    ['missing', undefined],
    ['empty', []],
    ['an object', { identifiers: { id: 'x' } }],
  ])('cio_relationships %s → 400 invalid_relationship, nothing changes', async (_label, list) => {
    for (const action of ['add_relationships', 'delete_relationships'])
      await refused(
        () => ws.entity(objectOp(action, uid('o'), list === undefined ? {} : { cio_relationships: list })),
        (r) => expectV2Error(r, 400, 'invalid_relationship', 'cio_relationships'),
      );
  });
});

describe('v2 person add_relationships / delete_relationships', () => {
  it('add relates the person to each object, with attributes; unknown objects are created', async () => {
    const p = await person();
    const [a, b] = [uid('o'), uid('o')];
    expectOk(
      await ws.entity(
        personOp(
          'add_relationships',
          { id: p.id },
          {
            cio_relationships: [rel(toObject(a), { role: 'admin' }), rel(toObject(b, '3'))],
          },
        ),
      ),
    );
    expect(await relationsOf(p.id)).toEqual([
      { identifiers: toObject(a), relationship_attributes: { role: 'admin' } },
      { identifiers: toObject(b, '3'), relationship_attributes: {} },
    ]);
    expect((await objectOf(b, '3')).relationships).toEqual([member(p)]);
  });

  it('add for an unknown id creates the person; by email and cio_id finds them', async () => {
    const id = uid('new');
    const oid = uid('o');
    expectOk(await ws.entity(personOp('add_relationships', { id }, { cio_relationships: [rel(toObject(oid))] })));
    const created = await ws.person(id);
    expect(created.relationships).toEqual([{ identifiers: toObject(oid), relationship_attributes: {} }]);
    const oid2 = uid('o');
    expectOk(
      await ws.entity(
        personOp(
          'add_relationships',
          { cio_id: created.identifiers.cio_id },
          { cio_relationships: [rel(toObject(oid2))] },
        ),
      ),
    );
    expect(await relationsOf(id)).toHaveLength(2);
  });

  it('delete removes the relationships named; others stay', async () => {
    const p = await person();
    const [a, b] = [uid('o'), uid('o')];
    expectOk(
      await ws.entity(
        personOp('add_relationships', { id: p.id }, { cio_relationships: [rel(toObject(a)), rel(toObject(b))] }),
      ),
    );
    expectOk(
      await ws.entity(personOp('delete_relationships', { email: p.email }, { cio_relationships: [rel(toObject(a))] })),
    );
    expect(await relationsOf(p.id)).toEqual([{ identifiers: toObject(b), relationship_attributes: {} }]);
    expect(await objectOf(a)).toMatchObject({ relationships: [] });
  });

  it('add for an unknown cio_id: 404 person_not_found; no object is created', async () => {
    await refused(
      () =>
        ws.entity(
          personOp('add_relationships', { cio_id: 'nobody777' }, { cio_relationships: [rel(toObject(uid('o')))] }),
        ),
      (r) => expectV2Error(r, 404, 'person_not_found'),
    );
  });

  it.each([
    ['a cio_object_id', [rel({ cio_object_id: 'ob01' })], 'invalid_identifier', 'cio_object_id'],
    ['object_type_id missing', [rel({ object_id: 'x' })], 'invalid_identifier', 'object_type_id'],
    ['object_type_id "0"', [rel({ object_type_id: '0', object_id: 'x' })], 'invalid_identifier', 'object_type_id'],
    ['a person identifier instead', [rel({ id: 'x' })], 'invalid_identifier', 'id'],
    ['no cio_relationships', undefined, 'invalid_relationship', 'cio_relationships'],
  ])('%s → 400, nothing changes', async (_label, list, reason, field) => {
    await refused(
      () =>
        ws.entity(
          personOp('add_relationships', { id: uid('p') }, list === undefined ? {} : { cio_relationships: list }),
        ),
      (r) => expectV2Error(r, 400, reason, field),
    );
  });
});

describe('v2 person identify with top-level cio_relationships', () => {
  it('relates the identified person after the identify (created here)', async () => {
    const id = uid('p');
    const oid = uid('o');
    expectOk(
      await ws.entity(
        personOp(
          'identify',
          { id },
          { attributes: { plan: 'pro' }, cio_relationships: [rel(toObject(oid), { role: 'admin' })] },
        ),
      ),
    );
    const p = await ws.person(id);
    expect(p.attributes.plan).toBe('pro');
    expect(p.attributes).not.toHaveProperty('cio_relationships');
    expect(p.relationships).toEqual([{ identifiers: toObject(oid), relationship_attributes: { role: 'admin' } }]);
  });

  it('_update for nobody: 404, and neither the person nor the object is created', async () => {
    await refused(
      () =>
        ws.entity(
          personOp(
            'identify',
            { id: uid('p') },
            { attributes: { _update: true }, cio_relationships: [rel(toObject(uid('o')))] },
          ),
        ),
      (r) => expectV2Error(r, 404, 'person_not_found'),
    );
  });

  it('a rule C conflict still applies the relationships (409 names the identifier)', async () => {
    const owner = await person();
    const p = await person();
    const oid = uid('o');
    const r = await ws.entity(
      personOp(
        'identify',
        { id: p.id },
        { attributes: { email: owner.email }, cio_relationships: [rel(toObject(oid))] },
      ),
    );
    expect(r.status).toBe(409);
    expect(await relationsOf(p.id)).toEqual([{ identifiers: toObject(oid), relationship_attributes: {} }]);
  });
});

describe('v2 person event/page/screen with identifiers {anonymous_id}', () => {
  it('an unlinked anonymous id keeps the event; it joins the person identified with that id', async () => {
    const anon = uid('anon');
    for (const action of ['event', 'page', 'screen'])
      expectOk(
        await ws.entity(personOp(action, { anonymous_id: anon }, { name: `n-${action}`, attributes: { k: action } })),
      );
    const id = uid('p');
    expectOk(await ws.identify(id, { anonymous_id: anon }));
    const feed = (await ws.activities(id, '&limit=100')).activities as { type: string; name: string; data: Json }[];
    expect(
      feed.filter((a) => ['event', 'page', 'screen'].includes(a.type)).map((a) => [a.type, a.name, a.data]),
    ).toEqual(
      expect.arrayContaining([
        ['event', 'n-event', { k: 'event' }],
        ['page', 'n-page', { k: 'page' }],
        ['screen', 'n-screen', { k: 'screen' }],
      ]),
    );
  });

  it('a linked anonymous id sends the event straight to its person', async () => {
    const anon = uid('anon');
    const id = uid('p');
    expectOk(await ws.identify(id, { anonymous_id: anon }));
    expectOk(await ws.entity(personOp('event', { anonymous_id: anon }, { name: 'clicked', id: uid('m') })));
    expect((await ws.activitiesOfType(id, 'event')).map((e) => e.name)).toEqual(['clicked']);
  });

  it.each([
    ['empty', ''],
    ['a number', 7],
    ['over 150 bytes', 'a'.repeat(151)],
  ])('an anonymous_id that is %s → 400 invalid_identifier', async (_label, value) => {
    await refused(
      () => ws.entity(personOp('event', { anonymous_id: value }, { name: 'x' })),
      (r) => expectV2Error(r, 400, 'invalid_identifier'),
    );
  });

  it('identify by anonymous_id is still refused (Roster keeps no anonymous profiles)', async () => {
    await refused(
      () => ws.entity(personOp('identify', { anonymous_id: uid('anon') }, { attributes: { a: 1 } })),
      (r) => expectV2Error(r, 400, 'invalid_identifier'),
    );
  });
});

describe('v1 identify with cio_relationships', () => {
  it('add_relationships relates the person (created by this identify); cio_relationships is not an attribute', async () => {
    const id = uid('p');
    const oid = uid('o');
    expectOk(
      await ws.identify(id, {
        plan: 'pro',
        cio_relationships: { action: 'add_relationships', relationships: [rel(toObject(oid), { role: 'admin' })] },
      }),
    );
    const p = await ws.person(id);
    expect(p.attributes).toEqual({ id, cio_id: p.identifiers.cio_id, created_at: expect.any(String), plan: 'pro' });
    expect(p.relationships).toEqual([{ identifiers: toObject(oid), relationship_attributes: { role: 'admin' } }]);
  });

  it('delete_relationships removes them', async () => {
    const id = uid('p');
    const [a, b] = [uid('o'), uid('o')];
    expectOk(
      await ws.identify(id, {
        cio_relationships: { action: 'add_relationships', relationships: [rel(toObject(a)), rel(toObject(b))] },
      }),
    );
    expectOk(
      await ws.identify(id, {
        cio_relationships: { action: 'delete_relationships', relationships: [rel(toObject(a))] },
      }),
    );
    expect(await relationsOf(id)).toEqual([{ identifiers: toObject(b), relationship_attributes: {} }]);
  });

  it('the classic destination’s body (segment.md §3.4): attributes, email, anonymous_id and one relationship', async () => {
    const id = uid('p');
    const oid = uid('o');
    expectOk(
      await ws.identify(id, {
        name: 'U One',
        email: `${id}@example.com`,
        anonymous_id: uid('anon'),
        created_at: 1_683_356_889,
        cio_relationships: {
          action: 'add_relationships',
          relationships: [{ identifiers: { object_type_id: '1', object_id: oid } }],
        },
      }),
    );
    expect((await objectOf(oid)).relationships).toEqual([
      member({ id, email: `${id}@example.com`, cio: (await ws.person(id)).identifiers.cio_id }),
    ]);
  });

  it.each([
    [
      'a cio_object_id',
      { action: 'add_relationships', relationships: [rel({ cio_object_id: 'ob1' })] },
      'invalid_identifier',
    ],
    ['an unknown action', { action: 'replace', relationships: [rel(toObject('x'))] }, 'invalid_relationship'],
    ['relationships missing', { action: 'add_relationships' }, 'invalid_relationship'],
    ['a string', 'acme', 'invalid_relationship'],
    ['an object id over 150 bytes', [rel(toObject('x'.repeat(151)))], 'invalid_identifier'],
    [
      '301 relationship attributes',
      [rel(toObject('x'), Object.fromEntries(Array.from({ length: 301 }, (_, i) => [`k${i}`, i])))],
      'too_many_attributes',
    ],
    ['1001 relationships', Array.from({ length: 1001 }, (_, i) => rel(toObject(`o${i}`))), 'invalid_relationship'],
  ])('%s → 400 in the v1 shape; the person is not created', async (_label, value, code) => {
    await refused(
      () => ws.identify(uid('p'), { plan: 'x', cio_relationships: value }),
      (r) => expectV1Error(r, 400, code),
    );
  });
});

describe('limits and errors: 400 with a stable code, never 5xx, nothing changes', () => {
  const many = (n: number, size = 1) =>
    Object.fromEntries(Array.from({ length: n }, (_, i) => [`a${i}`, 'v'.repeat(size)]));

  it.each([
    ['object_id of 151 bytes', objectOp('identify', 'x'.repeat(151)), 'invalid_identifier', 'object_id'],
    ['object_id of 76 two-byte characters', objectOp('identify', 'é'.repeat(76)), 'invalid_identifier', 'object_id'],
    ['a junk object_id', objectOp('identify', 'undefined'), 'invalid_identifier', 'object_id'],
    ['object_type_id "abc"', objectOp('identify', 'x', {}, 'abc'), 'invalid_identifier', 'object_type_id'],
    ['object_type_id "0"', objectOp('identify', 'x', {}, '0'), 'invalid_identifier', 'object_type_id'],
    ['identifiers missing', { type: 'object', action: 'identify' }, 'invalid_identifier', 'identifiers'],
    [
      'a person identifier',
      { type: 'object', action: 'identify', identifiers: { id: 'x' } },
      'invalid_identifier',
      'id',
    ],
    [
      'a cio_object_id',
      { type: 'object', action: 'delete', identifiers: { cio_object_id: 'ob1' } },
      'invalid_identifier',
      'cio_object_id',
    ],
    ['301 attributes', objectOp('identify', 'x', { attributes: many(301) }), 'too_many_attributes', null],
    ['a 1001-byte value', objectOp('identify', 'x', { attributes: { v: 'x'.repeat(1000) } }), 'invalid_attribute', 'v'],
    [
      'a 151-byte name',
      objectOp('identify', 'x', { attributes: { ['n'.repeat(151)]: 1 } }),
      'invalid_attribute',
      'n'.repeat(151),
    ],
    ['attributes an array', objectOp('identify', 'x', { attributes: [1] }), 'invalid_body', 'attributes'],
    ['a bad created_at', objectOp('identify', 'x', { created_at: 'soon' }), 'invalid_timestamp', 'created_at'],
    ['a bad timestamp', objectOp('identify', 'x', { timestamp: 'soon' }), 'invalid_timestamp', 'timestamp'],
    [
      'cio_relationships an object',
      objectOp('identify', 'x', { cio_relationships: { identifiers: { id: 'x' } } }),
      'invalid_relationship',
      'cio_relationships',
    ],
    [
      'a relationship with two identifiers',
      objectOp('identify', 'x', { cio_relationships: [rel({ id: 'a', email: 'a@example.com' })] }),
      'invalid_identifier',
      'cio_relationships[0].identifiers',
    ],
    [
      'a relationship with a phone',
      objectOp('identify', 'x', { cio_relationships: [rel({ phone: '+15555550100' })] }),
      'invalid_identifier',
      'phone',
    ],
    [
      'relationship_attributes a string',
      objectOp('identify', 'x', { cio_relationships: [rel({ id: 'a' }, 'x' as unknown as Json)] }),
      'invalid_relationship',
      'cio_relationships[0].relationship_attributes',
    ],
    ['an unknown action', objectOp('merge', 'x'), 'invalid_action', 'action'],
  ])('%s → 400', async (_label, op, reason, field) => {
    await refused(
      () => ws.entity(op),
      (r) => expectV2Error(r, 400, reason, field),
    );
  });

  it('an object may hold 300 attributes; one call pushing it to 301 is refused whole', async () => {
    const oid = uid('o');
    expectOk(await ws.entity(objectOp('identify', oid, { attributes: many(299) })));
    expectOk(await ws.entity(objectOp('identify', oid, { attributes: { a0: 'changed', extra: 1 } })));
    await refused(
      () =>
        ws.entity(
          objectOp('identify', oid, {
            attributes: { more: 1, cio_relationships: null },
            cio_relationships: [rel({ id: uid('p') })],
          }),
        ),
      (r) => expectV2Error(r, 400, 'too_many_attributes'),
    );
    expect(Object.keys((await objectOf(oid)).attributes)).toHaveLength(300);
  });

  it('an object’s attributes total at most 100,000 bytes of JSON; the call that would pass it is refused', async () => {
    const oid = uid('o');
    const chunk = (i: number) =>
      Object.fromEntries(Array.from({ length: 30 }, (_, k) => [`c${i}_${k}`, 'x'.repeat(990)]));
    for (let i = 0; i < 3; i++) expectOk(await ws.entity(objectOp('identify', oid, { attributes: chunk(i) })));
    await refused(
      () => ws.entity(objectOp('identify', oid, { attributes: chunk(3) })),
      (r) => expectV2Error(r, 400, 'too_many_attributes'),
    );
    expect(Object.keys((await objectOf(oid)).attributes)).toHaveLength(90);
  });

  it('a relationship over 300 attributes after merging fails alone: 400, the stored relationship unchanged', async () => {
    const p = await person();
    const oid = uid('o');
    expectOk(
      await ws.entity(
        personOp('add_relationships', { id: p.id }, { cio_relationships: [rel(toObject(oid), many(299))] }),
      ),
    );
    const r = await ws.entity(
      personOp('add_relationships', { id: p.id }, { cio_relationships: [rel(toObject(oid), { x: 1, y: 2 })] }),
    );
    expectV2Error(r, 400, 'too_many_attributes');
    expect(Object.keys((await relationsOf(p.id))[0]!.relationship_attributes)).toHaveLength(299);
  });

  it('the App API reads: bad path and query values are 400, absent objects 404, never 5xx', async () => {
    expectAppError(await ws.app('GET', '/v1/objects/abc/x'), 400, 'invalid_identifier');
    expectAppError(await ws.app('GET', `/v1/objects/1/${'x'.repeat(151)}`), 400, 'invalid_identifier');
    expectAppError(await ws.app('GET', '/v1/objects/1/undefined'), 400, 'invalid_identifier');
    expectAppError(await ws.app('GET', `/v1/objects/1/${uid('ghost')}`), 404, 'object_not_found');
    expectAppError(await ws.app('GET', `/v1/objects/1/${uid('ghost')}/relationships`), 404, 'object_not_found');
    const oid = uid('o');
    expectOk(await ws.entity(objectOp('identify', oid)));
    expectAppError(await ws.app('GET', `/v1/objects/1/${oid}?limit=0`), 400, 'invalid_query');
    expectAppError(await ws.app('GET', `/v1/objects/1/${oid}?limit=1001`), 400, 'invalid_query');
    expectAppError(await ws.app('GET', `/v1/objects/1/${oid}?start=abc`), 400, 'invalid_query');
    expectAppError(await ws.app('GET', `/v1/customers/${uid('ghost')}/relationships`), 404, 'person_not_found');
    const p = await person();
    expectAppError(await ws.app('GET', `/v1/customers/${p.id}/relationships?start=-1`), 400, 'invalid_query');
  });

  it('relationship lists page with limit and next, in a stable order', async () => {
    const oid = uid('o');
    const people = [];
    for (let i = 0; i < 5; i++) people.push(await person());
    expectOk(
      await ws.entity(objectOp('add_relationships', oid, { cio_relationships: people.map((p) => rel({ id: p.id })) })),
    );
    const seen: unknown[] = [];
    let start = '';
    for (let pageNo = 0; pageNo < 10; pageNo++) {
      const r = await ws.app('GET', `/v1/objects/1/${oid}/relationships?limit=2${start ? `&start=${start}` : ''}`);
      expect(r.status).toBe(200);
      seen.push(...r.body.cio_relationships);
      if (r.body.next === '') break;
      start = r.body.next;
    }
    expect(seen).toEqual(people.map((p) => member(p)));
    const first = await ws.app('GET', `/v1/objects/1/${oid}?limit=3`);
    expect(first.body.object.relationships).toHaveLength(3);
    expect(first.body.next).not.toBe('');

    const p = await person();
    const objects = [uid('o'), uid('o'), uid('o')];
    expectOk(
      await ws.entity(
        personOp('add_relationships', { id: p.id }, { cio_relationships: objects.map((o) => rel(toObject(o))) }),
      ),
    );
    const page1 = await ws.app('GET', `/v1/customers/${p.id}/relationships?limit=2`);
    const page2 = await ws.app('GET', `/v1/customers/${p.id}/relationships?limit=2&start=${page1.body.next}`);
    expect(
      [...page1.body.cio_relationships, ...page2.body.cio_relationships].map(
        (r: { identifiers: Json }) => r.identifiers,
      ),
    ).toEqual(objects.map((o) => toObject(o)));
    expect(page2.body.next).toBe('');
  });

  it('a batch applies its valid object items and names the failures by batch_index (207)', async () => {
    const p = await person();
    const [a, b] = [uid('o'), uid('o')];
    const r = await ws.batch([
      objectOp('identify', a, { attributes: { ok: 1 }, cio_relationships: [rel({ id: p.id })] }), // 0 ok
      objectOp('identify', 'x'.repeat(151)), // 1 invalid_identifier
      objectOp('identify', b, { cio_relationships: [rel({ cio_id: 'nobody555' })] }), // 2 person_not_found, b stored
      personOp('add_relationships', { id: p.id }, { cio_relationships: [rel(toObject(b))] }), // 3 ok
      objectOp('add_relationships', a), // 4 invalid_relationship
    ]);
    expect(r.status, JSON.stringify(r.body)).toBe(207);
    expect(r.body.errors.map((e: { batch_index: number; reason: string }) => [e.batch_index, e.reason])).toEqual([
      [1, 'invalid_identifier'],
      [2, 'person_not_found'],
      [4, 'invalid_relationship'],
    ]);
    expect(await relationsOf(p.id)).toEqual([
      { identifiers: toObject(a), relationship_attributes: {} },
      { identifiers: toObject(b), relationship_attributes: {} },
    ]);
  });
});

describe('person delete, suppress and merge', () => {
  it('deleting a person removes their relationships; the objects stay', async () => {
    const [p, q] = [await person(), await person()];
    const oid = uid('o');
    expectOk(await ws.entity(objectOp('identify', oid, { cio_relationships: [rel({ id: p.id }), rel({ id: q.id })] })));
    const pkOf = async (id: string) =>
      ((await server.dump(ws)).people as { pk: number; id: string | null }[]).find((row) => row.id === id)!.pk;
    const pk = await pkOf(p.id);
    expectOk(await ws.delete(p.id));
    expect((await objectOf(oid)).relationships).toEqual([member(q)]);
    const left = (await server.dump(ws)).relationships as { person_pk: number }[];
    expect(left.filter((row) => row.person_pk === pk)).toEqual([]);
    // The same id later is a new person, related to nothing.
    expectOk(await ws.identify(p.id));
    expect(await relationsOf(p.id)).toEqual([]);
  });

  it('suppressing a person removes their relationships too', async () => {
    const p = await person();
    const oid = uid('o');
    expectOk(await ws.entity(objectOp('identify', oid, { cio_relationships: [rel({ id: p.id })] })));
    expectOk(await ws.suppress(p.id));
    expect((await objectOf(oid)).relationships).toEqual([]);
  });

  it('merge moves the secondary’s relationships to the primary; where both relate to one object the primary’s stays', async () => {
    const primary = await person();
    const secondary = await person();
    const [shared, onlySecondary, onlyPrimary] = [uid('o'), uid('o'), uid('o')];
    expectOk(
      await ws.entity(
        personOp(
          'add_relationships',
          { id: primary.id },
          {
            cio_relationships: [rel(toObject(shared), { role: 'primary' }), rel(toObject(onlyPrimary))],
          },
        ),
      ),
    );
    expectOk(
      await ws.entity(
        personOp(
          'add_relationships',
          { id: secondary.id },
          {
            cio_relationships: [
              rel(toObject(shared), { role: 'secondary' }),
              rel(toObject(onlySecondary), { since: 2020 }),
            ],
          },
        ),
      ),
    );
    expectOk(await ws.merge({ id: primary.id }, { id: secondary.id }));
    expect(await relationsOf(primary.id)).toEqual(
      expect.arrayContaining([
        { identifiers: toObject(shared), relationship_attributes: { role: 'primary' } },
        { identifiers: toObject(onlyPrimary), relationship_attributes: {} },
        { identifiers: toObject(onlySecondary), relationship_attributes: { since: 2020 } },
      ]),
    );
    expect(await relationsOf(primary.id)).toHaveLength(3);
    expect((await objectOf(shared)).relationships).toEqual([member(primary, { role: 'primary' })]);
    expect((await objectOf(onlySecondary)).relationships).toEqual([member(primary, { since: 2020 })]);
    expect(await ws.person(secondary.id)).toBeNull();
  });
});

describe('workspace isolation', () => {
  it('the same object ids are separate objects in each workspace; neither sees the other’s', async () => {
    const oid = uid('o');
    const p = await person(ws);
    const q = await person(other);
    expectOk(
      await ws.entity(objectOp('identify', oid, { attributes: { ws: 'one' }, cio_relationships: [rel({ id: p.id })] })),
    );
    expect(await objectOf(oid, '1', other)).toBeNull();
    expectOk(
      await other.entity(
        objectOp('identify', oid, { attributes: { ws: 'two' }, cio_relationships: [rel({ id: q.id })] }),
      ),
    );
    expect(await objectOf(oid)).toMatchObject({ attributes: { ws: 'one' }, relationships: [member(p)] });
    expect(await objectOf(oid, '1', other)).toMatchObject({ attributes: { ws: 'two' }, relationships: [member(q)] });
    // A person id of one workspace names nobody in the other: relating it there creates a new person there.
    expectOk(await other.entity(objectOp('add_relationships', oid, { cio_relationships: [rel({ id: p.id })] })));
    expect((await objectOf(oid)).relationships).toEqual([member(p)]);
    expectOk(await other.entity(objectOp('delete', oid)));
    expect(await objectOf(oid, '1', other)).toBeNull();
    expect(await objectOf(oid)).toMatchObject({ relationships: [member(p)] });
    expect(await relationsOf(p.id)).toEqual([{ identifiers: toObject(oid), relationship_attributes: {} }]);
  });

  it('one workspace’s App key cannot read the other’s objects or relationships', async () => {
    const oid = uid('o');
    const p = await person(ws);
    expectOk(await ws.entity(objectOp('identify', oid, { cio_relationships: [rel({ id: p.id })] })));
    const r = await ws.request('GET', `/v1/objects/1/${oid}`, undefined, `Bearer ${other.creds.app_api_key}`);
    expectAppError(r, 404, 'object_not_found');
    const r2 = await ws.request(
      'GET',
      `/v1/customers/${p.id}/relationships`,
      undefined,
      `Bearer ${other.creds.app_api_key}`,
    );
    expectAppError(r2, 404, 'person_not_found');
  });
});

describe('the Customer.io (Actions) destination’s exact bodies (segment.md §3.2)', () => {
  it('createUpdatePerson with traits.objectId: identify + cio_relationships, objectId kept as an attribute', async () => {
    const u = uid('u');
    const acme = uid('acme');
    const body = {
      type: 'person',
      action: 'identify',
      attributes: {
        email: `${u}@example.com`,
        name: 'U One',
        plan: 'pro',
        created_at: 1683356889,
        anonymous_id: uid('a'),
        objectId: acme,
      },
      timestamp: 1704164645,
      identifiers: { id: u },
      cio_relationships: [
        { identifiers: { object_type_id: '1', object_id: acme }, relationship_attributes: { role: 'admin' } },
      ],
    };
    expectOk(await ws.entity(body));
    const p = await ws.person(u);
    expect(p.attributes).toMatchObject({ name: 'U One', plan: 'pro', objectId: acme, created_at: '1683356889' });
    expect(p.relationships).toEqual([{ identifiers: toObject(acme), relationship_attributes: { role: 'admin' } }]);
  });

  it('createUpdateObject, user known: object attributes, created_at, and the user related', async () => {
    const u = uid('u');
    const acme = uid('acme');
    const a1 = uid('a');
    expectOk(
      await ws.entity({
        type: 'object',
        action: 'identify',
        created_at: 1577836800,
        attributes: { plan: 'x', since: 1609459200, anonymous_id: a1 },
        cio_relationships: [{ identifiers: { id: u }, relationship_attributes: { role: 'member' } }],
        identifiers: { object_id: acme, object_type_id: '1' },
      }),
    );
    const object = await objectOf(acme);
    expect(object).toMatchObject({ attributes: { plan: 'x', since: 1609459200 }, created_at: 1577836800 });
    expect(object.relationships).toEqual([
      member({ id: u, email: null, cio: (await ws.person(u)).identifiers.cio_id }, { role: 'member' }),
    ]);
  });

  it('createUpdateObject, anonymous: identify_anonymous relates the visitor once they are identified', async () => {
    const acme = uid('acme');
    const a9 = uid('a9');
    expectOk(
      await ws.entity({
        type: 'object',
        action: 'identify_anonymous',
        attributes: { plan: 'trial', anonymous_id: a9 },
        cio_relationships: [{ identifiers: { anonymous_id: a9 } }],
        identifiers: { object_id: acme, object_type_id: '1' },
      }),
    );
    const u = uid('u');
    expectOk(
      await ws.entity({ type: 'person', action: 'identify', attributes: { anonymous_id: a9 }, identifiers: { id: u } }),
    );
    expect(await relationsOf(u)).toEqual([{ identifiers: toObject(acme), relationship_attributes: {} }]);
  });

  it('deleteRelationship and deleteObject', async () => {
    const u = uid('u');
    const acme = uid('acme');
    expectOk(
      await ws.entity(personOp('add_relationships', { id: u }, { cio_relationships: [rel(toObject(acme, '2'))] })),
    );
    expectOk(
      await ws.entity({
        type: 'object',
        action: 'delete_relationships',
        cio_relationships: [{ identifiers: { id: u } }],
        attributes: { anonymous_id: uid('a') },
        identifiers: { object_id: acme, object_type_id: '2' },
      }),
    );
    expect(await relationsOf(u)).toEqual([]);
    expect(await objectOf(acme, '2')).not.toBeNull();
    expectOk(
      await ws.entity({ type: 'object', action: 'delete', identifiers: { object_id: acme, object_type_id: '2' } }),
    );
    expect(await objectOf(acme, '2')).toBeNull();
  });

  it('trackEvent / page / screen for an anonymous visitor, batched as the destination does', async () => {
    const a3 = uid('a3');
    const r = await ws.batch([
      {
        type: 'person',
        action: 'event',
        name: 'Order Completed',
        id: uid('m'),
        attributes: { total: 30 },
        timestamp: 1704164645,
        identifiers: { anonymous_id: a3 },
      },
      {
        type: 'person',
        action: 'page',
        name: 'https://ex.com/',
        attributes: { url: 'https://ex.com/', title: 'Home' },
        id: uid('m'),
        timestamp: 1704164646,
        identifiers: { anonymous_id: a3 },
      },
      {
        type: 'person',
        action: 'screen',
        name: 'Settings',
        attributes: {},
        id: uid('m'),
        timestamp: 1704164647,
        identifiers: { anonymous_id: a3 },
      },
    ]);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    const u = uid('u');
    expectOk(
      await ws.entity({ type: 'person', action: 'identify', attributes: { anonymous_id: a3 }, identifiers: { id: u } }),
    );
    const feed = (await ws.activities(u, '&limit=100')).activities as {
      type: string;
      name: string;
      timestamp: number;
    }[];
    expect(
      feed.filter((a) => ['event', 'page', 'screen'].includes(a.type)).map((a) => [a.type, a.name, a.timestamp]),
    ).toEqual([
      ['screen', 'Settings', 1704164647],
      ['page', 'https://ex.com/', 1704164646],
      ['event', 'Order Completed', 1704164645],
    ]);
  });

  it('the same messageId sent twice anonymously is stored once', async () => {
    const a = uid('a');
    const m = uid('m');
    const op = { type: 'person', action: 'event', name: 'Dup', id: m, identifiers: { anonymous_id: a } };
    expectOk(await ws.entity(op));
    expectOk(await ws.entity(op));
    const u = uid('u');
    expectOk(await ws.identify(u, { anonymous_id: a }));
    expect((await ws.activitiesOfType(u, 'event')).map((e) => e.name)).toEqual(['Dup']);
  });
});
