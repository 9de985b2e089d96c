/**
 * identity.md through real HTTP: one named test per row of the identify table (in both workspace modes where the
 * mode matters), `_update`, rule C on every Track surface, anonymous ids, event dedupe, suppression, delete, merge
 * and attribute ordering. State is read back only through the App API.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  inUseMessage,
  startServer,
  type Activity,
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

const emailOrId = () => server.workspace();
const idOnly = () => server.workspace({ identifiers: 'id_only' });
const allowEmailUpdate = () => server.workspace({ allowEmailUpdateById: true });

/** Asserts a 200 `{}`. */
function expectOk(r: Reply) {
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  expect(r.body).toEqual({});
}

/** Asserts a Track v1 409 naming each refused field, in order, with the reason of the first. */
function expectV1Conflict(r: Reply, reason: string, fields: string[]) {
  expect(r.status, JSON.stringify(r.body)).toBe(409);
  expect(r.body.meta.code).toBe(reason);
  expect(r.body.meta.errors).toHaveLength(fields.length);
  fields.forEach((field, i) => {
    if (reason === 'identifier_in_use') expect(r.body.meta.errors[i]).toBe(inUseMessage(field));
    else expect(r.body.meta.errors[i]).toMatch(new RegExp(`^${field}: `));
  });
}

function expectNotFound(r: Reply) {
  expect(r.status, JSON.stringify(r.body)).toBe(404);
  expect(r.body.meta.code).toBe('person_not_found');
}

/** The App API customer object; fails the test when the person is missing. */
async function mustFind(ws: TestWorkspace, ref: string, idType = 'id') {
  const p = await ws.person(ref, idType);
  expect(p, `${idType} ${ref} should exist`).not.toBeNull();
  return p;
}

/** The person's cio_id. */
async function cioOf(ws: TestWorkspace, ref: string, idType = 'id'): Promise<string> {
  return (await mustFind(ws, ref, idType)).identifiers.cio_id as string;
}

/** The `data` of the person's failed_attribute_change activities, oldest first. */
async function failedChanges(ws: TestWorkspace, ref: string, idType = 'id') {
  return (await ws.activitiesOfType(ref, 'failed_attribute_change', idType)).map((a) => a.data).reverse();
}

describe('identify table (identity.md), through PUT /api/v1/customers/{ref}', () => {
  describe('row 1: cio_id reference that finds nobody', () => {
    it.each([['email_or_id' as const], ['id_only' as const]])(
      'row 1 (%s): 404 person_not_found and nothing changes',
      async (identifiers) => {
        const ws = await server.workspace({ identifiers });
        const r = await ws.identify('cio_nobody0000000', { id: 'r1', email: 'r1@example.com', plan: 'pro' });
        expectNotFound(r);
        expect(await ws.person('r1')).toBeNull();
        expect(await ws.byEmail('r1@example.com')).toEqual([]);
      },
    );
  });

  describe('row 2: cio_id reference that finds P, body id/email', () => {
    it('row 2 (email_or_id): both identifiers change to the body values; the old ones become free', async () => {
      const ws = await emailOrId();
      expectOk(await ws.identify('r2', { email: 'r2-old@example.com', plan: 'a' }));
      const cio = await cioOf(ws, 'r2');

      expectOk(await ws.identify(`cio_${cio}`, { id: 'r2-new', email: 'r2-new@example.com', plan: 'b' }));
      const p = await mustFind(ws, 'r2-new');
      expect(p.identifiers).toEqual({ id: 'r2-new', email: 'r2-new@example.com', cio_id: cio });
      expect(p.attributes.plan).toBe('b');
      expect(await ws.person('r2')).toBeNull();
      expect(await ws.byEmail('r2-old@example.com')).toEqual([]);
      expect(await cioOf(ws, 'r2-new@example.com', 'email')).toBe(cio);
      expect(await cioOf(ws, cio, 'cio_id')).toBe(cio);

      // The old identifiers are free: using them makes a new person.
      expectOk(await ws.identify('r2', { email: 'r2-old@example.com' }));
      expect(await cioOf(ws, 'r2')).not.toBe(cio);
    });

    it('row 2 (email_or_id): each identifier held by someone else is refused by rule C, the free one applies', async () => {
      const ws = await emailOrId();
      expectOk(await ws.identify('r2-p', { email: 'r2-p@example.com' }));
      expectOk(await ws.identify('r2-q', { email: 'r2-q@example.com' }));
      const cio = await cioOf(ws, 'r2-p');

      // id is free, email is Q's: the id changes, the email does not.
      const r = await ws.identify(`cio_${cio}`, { id: 'r2-p2', email: 'R2-Q@example.com', plan: 'x' });
      expectV1Conflict(r, 'identifier_in_use', ['email']);
      const p = await mustFind(ws, cio, 'cio_id');
      expect(p.identifiers).toEqual({ id: 'r2-p2', email: 'r2-p@example.com', cio_id: cio });
      expect(p.attributes.plan).toBe('x');

      // Both held by Q: neither changes, both are reported.
      const r2 = await ws.identify(`cio_${cio}`, { id: 'r2-q', email: 'r2-q@example.com', plan: 'y' });
      expectV1Conflict(r2, 'identifier_in_use', ['id', 'email']);
      const after = await mustFind(ws, cio, 'cio_id');
      expect(after.identifiers).toEqual({ id: 'r2-p2', email: 'r2-p@example.com', cio_id: cio });
      expect(after.attributes.plan).toBe('y');
      const q = await mustFind(ws, 'r2-q');
      expect(q.identifiers.email).toBe('r2-q@example.com');
      expect(q.attributes.plan).toBeUndefined();
      expect(await failedChanges(ws, cio, 'cio_id')).toMatchObject([
        { field: 'email', value: 'R2-Q@example.com', reason: 'identifier_in_use' },
        { field: 'id', value: 'r2-q', reason: 'identifier_in_use' },
        { field: 'email', value: 'r2-q@example.com', reason: 'identifier_in_use' },
      ]);
    });

    it('row 2 (id_only): the id changes by cio_id; email is an attribute another person may share', async () => {
      const ws = await idOnly();
      expectOk(await ws.identify('r2-p', { email: 'r2-p@example.com' }));
      expectOk(await ws.identify('r2-q', { email: 'r2-q@example.com' }));
      const cio = await cioOf(ws, 'r2-p');

      expectOk(await ws.identify(`cio_${cio}`, { id: 'r2-p2', email: 'r2-q@example.com' }));
      const p = await mustFind(ws, 'r2-p2');
      expect(p.identifiers).toEqual({ id: 'r2-p2', email: 'r2-q@example.com', cio_id: cio });
      expect((await ws.byEmail('r2-q@example.com')).map((x) => x.id).sort()).toEqual(['r2-p2', 'r2-q']);

      // The id is still an identifier: taking Q's is rule C.
      expectV1Conflict(await ws.identify(`cio_${cio}`, { id: 'r2-q', plan: 'z' }), 'identifier_in_use', ['id']);
      expect((await mustFind(ws, cio, 'cio_id')).attributes).toMatchObject({ id: 'r2-p2', plan: 'z' });
    });
  });

  describe('row 3: id reference that finds P, no email or P’s own email', () => {
    it('row 3 (email_or_id): updates P; its own email in another case is still its own', async () => {
      const ws = await emailOrId();
      expectOk(await ws.identify('r3', { email: 'r3@example.com', plan: 'a' }));
      const cio = await cioOf(ws, 'r3');
      expectOk(await ws.identify('r3', { plan: 'b' }));
      expectOk(await ws.identify('r3', { email: ' R3@Example.COM ', seats: 4 }));
      const p = await mustFind(ws, 'r3');
      expect(p.identifiers).toEqual({ id: 'r3', email: 'r3@example.com', cio_id: cio });
      expect(p.attributes).toMatchObject({ plan: 'b', seats: '4' });
      expect(await ws.byEmail('r3@example.com')).toHaveLength(1);
    });
  });

  describe('row 4: id reference that finds P without email, free body email', () => {
    it('row 4 (email_or_id): P gets the email as its identifier', async () => {
      const ws = await emailOrId();
      expectOk(await ws.identify('r4', { plan: 'a' }));
      const cio = await cioOf(ws, 'r4');
      expectOk(await ws.identify('r4', { email: 'r4@example.com' }));
      expect((await mustFind(ws, 'r4')).identifiers).toEqual({ id: 'r4', email: 'r4@example.com', cio_id: cio });
      expect(await cioOf(ws, 'R4@example.com', 'email')).toBe(cio);
    });

    it('row 4 (id_only): the email is stored as an attribute and cannot find the person', async () => {
      const ws = await idOnly();
      expectOk(await ws.identify('r4', { plan: 'a' }));
      expectOk(await ws.identify('r4', { email: 'r4@example.com' }));
      const p = await mustFind(ws, 'r4');
      expect(p.attributes.email).toBe('r4@example.com');
      expect(await ws.byEmail('r4@example.com')).toEqual([
        { id: 'r4', email: 'r4@example.com', cio_id: p.identifiers.cio_id },
      ]);
      const byEmailRef = await ws.app('GET', '/v1/customers/r4%40example.com/attributes?id_type=email');
      expect(byEmailRef.status).toBe(400);
    });
  });

  describe('row 5: id reference that finds P, a different free email', () => {
    it('row 5 (email_or_id, allow_email_update_by_id off): rule C identifier_change_requires_cio_id', async () => {
      const ws = await emailOrId();
      expectOk(await ws.identify('r5', { email: 'r5-a@example.com' }));
      const r = await ws.identify('r5', { email: 'r5-b@example.com', plan: 'x' });
      expectV1Conflict(r, 'identifier_change_requires_cio_id', ['email']);
      const p = await mustFind(ws, 'r5');
      expect(p.identifiers.email).toBe('r5-a@example.com');
      expect(p.attributes.plan).toBe('x');
      expect(await ws.byEmail('r5-b@example.com')).toEqual([]);
      expect(await failedChanges(ws, 'r5')).toMatchObject([
        { field: 'email', value: 'r5-b@example.com', reason: 'identifier_change_requires_cio_id' },
      ]);
    });

    it('row 5 (email_or_id, allow_email_update_by_id on): the email changes and the old one is free', async () => {
      const ws = await allowEmailUpdate();
      expectOk(await ws.identify('r5', { email: 'r5-a@example.com' }));
      const cio = await cioOf(ws, 'r5');
      expectOk(await ws.identify('r5', { email: 'r5-b@example.com', plan: 'x' }));
      const p = await mustFind(ws, 'r5');
      expect(p.identifiers).toEqual({ id: 'r5', email: 'r5-b@example.com', cio_id: cio });
      expect(p.attributes.plan).toBe('x');
      expect(await ws.byEmail('r5-a@example.com')).toEqual([]);
      expectOk(await ws.identify('r5-a@example.com', {}));
      expect(await cioOf(ws, 'r5-a@example.com', 'email')).not.toBe(cio);
    });

    it('row 5 (id_only): email is an attribute, so it changes whatever the setting', async () => {
      const ws = await idOnly();
      expectOk(await ws.identify('r5', { email: 'r5-a@example.com' }));
      expectOk(await ws.identify('r5', { email: 'r5-b@example.com' }));
      expect((await mustFind(ws, 'r5')).identifiers.email).toBe('r5-b@example.com');
    });
  });

  describe('row 6: id reference that finds P, body email held by Q', () => {
    it('row 6 (email_or_id): 409 identifier_in_use with the exact body; P gets the rest, Q is untouched', async () => {
      const ws = await emailOrId();
      expectOk(await ws.identify('r6-p', { email: 'r6-p@example.com' }));
      expectOk(await ws.identify('r6-q', { email: 'r6-q@example.com', plan: 'q' }));
      const r = await ws.identify('r6-p', { email: 'r6-q@example.com', plan: 'p' });
      expect(r.status).toBe(409);
      expect(r.body).toEqual({
        meta: {
          errors: ['email: The identifier is already associated with a different profile.'],
          code: 'identifier_in_use',
        },
      });
      const p = await mustFind(ws, 'r6-p');
      expect(p.identifiers.email).toBe('r6-p@example.com');
      expect(p.attributes.plan).toBe('p');
      const q = await mustFind(ws, 'r6-q');
      expect(q.identifiers.email).toBe('r6-q@example.com');
      expect(q.attributes.plan).toBe('q');
    });

    it('row 6 (email_or_id): also when P has no email, and also with allow_email_update_by_id on', async () => {
      for (const ws of [await emailOrId(), await allowEmailUpdate()]) {
        expectOk(await ws.identify('r6-p', {}));
        expectOk(await ws.identify('r6-q', { email: 'r6-q@example.com' }));
        expectV1Conflict(await ws.identify('r6-p', { email: 'r6-q@example.com' }), 'identifier_in_use', ['email']);
        expect((await mustFind(ws, 'r6-p')).identifiers.email).toBeNull();
        expect(await ws.byEmail('r6-q@example.com')).toMatchObject([{ id: 'r6-q' }]);
      }
    });

    it('row 6 (id_only): no conflict; two people share the email attribute', async () => {
      const ws = await idOnly();
      expectOk(await ws.identify('r6-p', { email: 'r6-p@example.com' }));
      expectOk(await ws.identify('r6-q', { email: 'r6-q@example.com' }));
      expectOk(await ws.identify('r6-p', { email: 'r6-q@example.com' }));
      expect((await ws.byEmail('r6-q@example.com')).map((x) => x.id).sort()).toEqual(['r6-p', 'r6-q']);
    });
  });

  describe('row 7: id reference that finds nobody, body email held by a lead with no id', () => {
    it('row 7 (email_or_id): lead → customer; the lead gets the id and the attributes', async () => {
      const ws = await emailOrId();
      expectOk(await ws.identify('r7@example.com', { first_name: 'Lee', plan: 'lead' }));
      const cio = await cioOf(ws, 'r7@example.com', 'email');
      expectOk(await ws.identify('r7', { email: 'R7@example.com', plan: 'customer' }));
      const p = await mustFind(ws, 'r7');
      expect(p.identifiers).toEqual({ id: 'r7', email: 'r7@example.com', cio_id: cio });
      expect(p.attributes).toMatchObject({ first_name: 'Lee', plan: 'customer' });
      expect(await ws.byEmail('r7@example.com')).toHaveLength(1);
    });

    it('row 7 (id_only): an email-shaped reference is an id, so the two calls make two people', async () => {
      const ws = await idOnly();
      expectOk(await ws.identify('r7@example.com', { plan: 'lead' }));
      expectOk(await ws.identify('r7', { email: 'r7@example.com', plan: 'customer' }));
      const first = await mustFind(ws, 'r7@example.com');
      const second = await mustFind(ws, 'r7');
      expect(first.identifiers).toMatchObject({ id: 'r7@example.com', email: null });
      expect(second.identifiers).toMatchObject({ id: 'r7', email: 'r7@example.com' });
      expect(first.identifiers.cio_id).not.toBe(second.identifiers.cio_id);
    });
  });

  describe('row 8: id reference that finds nobody, body email held by someone with another id', () => {
    it('row 8 (email_or_id): a new person with id R and no email; rule C on the email', async () => {
      const ws = await emailOrId();
      expectOk(await ws.identify('r8-l', { email: 'r8@example.com', plan: 'l' }));
      const leadCio = await cioOf(ws, 'r8-l');
      const r = await ws.identify('r8', { email: 'r8@example.com', plan: 'new' });
      expectV1Conflict(r, 'identifier_in_use', ['email']);
      const p = await mustFind(ws, 'r8');
      expect(p.identifiers.email).toBeNull();
      expect(p.identifiers.cio_id).not.toBe(leadCio);
      expect(p.attributes.plan).toBe('new');
      const l = await mustFind(ws, 'r8-l');
      expect(l.identifiers).toEqual({ id: 'r8-l', email: 'r8@example.com', cio_id: leadCio });
      expect(l.attributes.plan).toBe('l');
      expect(await failedChanges(ws, 'r8')).toMatchObject([
        { field: 'email', value: 'r8@example.com', reason: 'identifier_in_use' },
      ]);
    });
  });

  describe('row 9: id reference that finds nobody, no email or a free email', () => {
    it('row 9 (email_or_id): creates {id R, email}', async () => {
      const ws = await emailOrId();
      expectOk(await ws.identify('r9', { email: 'r9@example.com', plan: 'x' }));
      expectOk(await ws.identify('r9-noemail', { plan: 'y' }));
      const p = await mustFind(ws, 'r9');
      expect(p.identifiers).toMatchObject({ id: 'r9', email: 'r9@example.com' });
      expect(p.attributes.plan).toBe('x');
      expect(await cioOf(ws, 'r9@example.com', 'email')).toBe(p.identifiers.cio_id);
      expect((await mustFind(ws, 'r9-noemail')).identifiers).toMatchObject({ id: 'r9-noemail', email: null });
    });

    it('row 9 (id_only): creates {id R} with the email as an attribute', async () => {
      const ws = await idOnly();
      expectOk(await ws.identify('r9', { email: 'r9@example.com', plan: 'x' }));
      const p = await mustFind(ws, 'r9');
      expect(p.identifiers).toMatchObject({ id: 'r9', email: 'r9@example.com' });
      expect(p.attributes).toMatchObject({ email: 'r9@example.com', plan: 'x' });
    });
  });

  describe('row 10: email reference that finds P, no id or P’s own id', () => {
    it('row 10 (email_or_id): updates P, matching the email case-insensitively', async () => {
      const ws = await emailOrId();
      expectOk(await ws.identify('r10', { email: 'r10@example.com' }));
      const cio = await cioOf(ws, 'r10');
      expectOk(await ws.identify('R10@Example.com', { plan: 'a' }));
      expectOk(await ws.identify('r10@example.com', { id: 'r10', seats: 2 }));
      const p = await mustFind(ws, 'r10');
      expect(p.identifiers).toEqual({ id: 'r10', email: 'r10@example.com', cio_id: cio });
      expect(p.attributes).toMatchObject({ plan: 'a', seats: '2' });
    });

    it('row 10 (id_only): an email-shaped reference is an id, not P’s email', async () => {
      const ws = await idOnly();
      expectOk(await ws.identify('r10', { email: 'r10@example.com' }));
      expectOk(await ws.identify('r10@example.com', { plan: 'a' }));
      expect((await mustFind(ws, 'r10')).attributes.plan).toBeUndefined();
      expect((await mustFind(ws, 'r10@example.com')).identifiers).toMatchObject({ id: 'r10@example.com', email: null });
    });
  });

  describe('row 11: email reference that finds P without id, free body id', () => {
    it('row 11 (email_or_id): lead → customer; P gets the id', async () => {
      const ws = await emailOrId();
      expectOk(await ws.identify('r11@example.com', { plan: 'lead' }));
      const cio = await cioOf(ws, 'r11@example.com', 'email');
      expectOk(await ws.identify('r11@example.com', { id: 'r11', plan: 'customer' }));
      const p = await mustFind(ws, 'r11');
      expect(p.identifiers).toEqual({ id: 'r11', email: 'r11@example.com', cio_id: cio });
      expect(p.attributes.plan).toBe('customer');
    });
  });

  describe('row 12: email reference that finds P without id, body id held by Q', () => {
    it('row 12 (email_or_id): rule C identifier_in_use on the id; P gets the rest', async () => {
      const ws = await emailOrId();
      expectOk(await ws.identify('r12@example.com', {}));
      expectOk(await ws.identify('r12-q', { plan: 'q' }));
      const r = await ws.identify('r12@example.com', { id: 'r12-q', plan: 'p' });
      expectV1Conflict(r, 'identifier_in_use', ['id']);
      const p = await mustFind(ws, 'r12@example.com', 'email');
      expect(p.identifiers.id).toBeNull();
      expect(p.attributes.plan).toBe('p');
      const q = await mustFind(ws, 'r12-q');
      expect(q.identifiers.email).toBeNull();
      expect(q.attributes.plan).toBe('q');
      expect(await failedChanges(ws, 'r12@example.com', 'email')).toMatchObject([
        { field: 'id', value: 'r12-q', reason: 'identifier_in_use' },
      ]);
    });
  });

  describe('row 13: email reference that finds P with an id, a different body id', () => {
    it('row 13 (email_or_id): rule C identifier_change_requires_cio_id; the id stays', async () => {
      const ws = await emailOrId();
      expectOk(await ws.identify('r13', { email: 'r13@example.com' }));
      const r = await ws.identify('r13@example.com', { id: 'r13-other', plan: 'x' });
      expectV1Conflict(r, 'identifier_change_requires_cio_id', ['id']);
      const p = await mustFind(ws, 'r13');
      expect(p.identifiers.email).toBe('r13@example.com');
      expect(p.attributes.plan).toBe('x');
      expect(await ws.person('r13-other')).toBeNull();
    });
  });

  describe('row 14: email reference that finds nobody, body id held by Q', () => {
    it('row 14 (email_or_id): Q without email gets R', async () => {
      const ws = await emailOrId();
      expectOk(await ws.identify('r14', { plan: 'a' }));
      const cio = await cioOf(ws, 'r14');
      expectOk(await ws.identify('r14@example.com', { id: 'r14', plan: 'b' }));
      const q = await mustFind(ws, 'r14');
      expect(q.identifiers).toEqual({ id: 'r14', email: 'r14@example.com', cio_id: cio });
      expect(q.attributes.plan).toBe('b');
    });

    it('row 14 (email_or_id, allow_email_update_by_id off): Q with an email keeps it; rule C', async () => {
      const ws = await emailOrId();
      expectOk(await ws.identify('r14', { email: 'r14-old@example.com' }));
      const r = await ws.identify('r14-new@example.com', { id: 'r14', plan: 'b' });
      expectV1Conflict(r, 'identifier_change_requires_cio_id', ['email']);
      const q = await mustFind(ws, 'r14');
      expect(q.identifiers.email).toBe('r14-old@example.com');
      expect(q.attributes.plan).toBe('b');
      expect(await ws.byEmail('r14-new@example.com')).toEqual([]);
    });

    it('row 14 (email_or_id, allow_email_update_by_id on): Q with an email gets R', async () => {
      const ws = await allowEmailUpdate();
      expectOk(await ws.identify('r14', { email: 'r14-old@example.com' }));
      expectOk(await ws.identify('r14-new@example.com', { id: 'r14' }));
      expect((await mustFind(ws, 'r14')).identifiers.email).toBe('r14-new@example.com');
      expect(await ws.byEmail('r14-old@example.com')).toEqual([]);
    });
  });

  describe('row 15: email reference that finds nobody, no id or a free id', () => {
    it('row 15 (email_or_id): creates {email R, id}', async () => {
      const ws = await emailOrId();
      expectOk(await ws.identify('r15@example.com', { id: 'r15', plan: 'x' }));
      expectOk(await ws.identify('r15-lead@example.com', { plan: 'y' }));
      const p = await mustFind(ws, 'r15');
      expect(p.identifiers).toMatchObject({ id: 'r15', email: 'r15@example.com' });
      expect(p.attributes.plan).toBe('x');
      const lead = await mustFind(ws, 'r15-lead@example.com', 'email');
      expect(lead.identifiers).toMatchObject({ id: null, email: 'r15-lead@example.com' });
      expect(lead.attributes.plan).toBe('y');
    });
  });

  describe('row 16: id reference in an id_only workspace', () => {
    it('row 16 (id_only): update P / create {id R}; email is stored as an attribute; B.id ≠ R is rule C', async () => {
      const ws = await idOnly();
      expectOk(await ws.identify('r16', { email: 'shared@example.com', plan: 'a' }));
      const cio = await cioOf(ws, 'r16');
      expectOk(await ws.identify('r16-b', { email: 'shared@example.com' }));
      expectOk(await ws.identify('r16', { plan: 'b' }));
      expect((await ws.byEmail('shared@example.com')).map((x) => x.id).sort()).toEqual(['r16', 'r16-b']);

      const r = await ws.identify('r16', { id: 'r16-other', plan: 'c' });
      expectV1Conflict(r, 'identifier_change_requires_cio_id', ['id']);
      const p = await mustFind(ws, 'r16');
      expect(p.identifiers).toEqual({ id: 'r16', email: 'shared@example.com', cio_id: cio });
      expect(p.attributes.plan).toBe('c');
      expect(await ws.person('r16-other')).toBeNull();
      expect(await failedChanges(ws, 'r16')).toMatchObject([
        { field: 'id', value: 'r16-other', reason: 'identifier_change_requires_cio_id' },
      ]);

      // Nobody by R: the person is created {id R}, the body id is still refused.
      expectV1Conflict(await ws.identify('r16-new', { id: 'r16-x', plan: 'd' }), 'identifier_change_requires_cio_id', [
        'id',
      ]);
      expect((await mustFind(ws, 'r16-new')).attributes.plan).toBe('d');
      expect(await ws.person('r16-x')).toBeNull();

      // The email is an ordinary attribute here: null removes it.
      expectOk(await ws.identify('r16', { email: null }));
      expect((await mustFind(ws, 'r16')).identifiers.email).toBeNull();
      expect((await ws.byEmail('shared@example.com')).map((x) => x.id)).toEqual(['r16-b']);
    });
  });

  describe('row 17: id reference, body id ≠ R', () => {
    it.each([['email_or_id' as const], ['id_only' as const]])(
      'row 17 (%s): update P / create {id R}; the body id is not applied (identifier_change_requires_cio_id)',
      async (identifiers) => {
        const ws = await server.workspace({ identifiers });
        expectV1Conflict(await ws.identify('r17', { id: 'r17-b', plan: 'a' }), 'identifier_change_requires_cio_id', [
          'id',
        ]);
        const created = await mustFind(ws, 'r17');
        expect(created.attributes.plan).toBe('a');
        expect(await ws.person('r17-b')).toBeNull();

        expectV1Conflict(await ws.identify('r17', { id: 'r17-b', plan: 'b' }), 'identifier_change_requires_cio_id', [
          'id',
        ]);
        const updated = await mustFind(ws, 'r17');
        expect(updated.identifiers.cio_id).toBe(created.identifiers.cio_id);
        expect(updated.attributes.plan).toBe('b');
        expect(await ws.person('r17-b')).toBeNull();
        expect(await failedChanges(ws, 'r17')).toMatchObject([
          { field: 'id', value: 'r17-b', reason: 'identifier_change_requires_cio_id' },
          { field: 'id', value: 'r17-b', reason: 'identifier_change_requires_cio_id' },
        ]);

        // A body id equal to R is no change, also when sent as a number.
        expectOk(await ws.identify('r17', { id: 'r17' }));
        expectOk(await ws.identify('1717', { id: 1717, plan: 'n' }));
        expect((await mustFind(ws, '1717')).attributes.plan).toBe('n');
      },
    );
  });
});

describe('_update: true', () => {
  it('updates an existing person', async () => {
    const ws = await emailOrId();
    expectOk(await ws.identify('u', { plan: 'a' }));
    expectOk(await ws.identify('u', { plan: 'b', _update: true }));
    expect((await mustFind(ws, 'u')).attributes.plan).toBe('b');
    expect((await mustFind(ws, 'u')).attributes._update).toBeUndefined();
  });

  it('answers 404 person_not_found instead of creating (rows 8, 9, 15) and creates nothing', async () => {
    const ws = await emailOrId();
    expectNotFound(await ws.identify('u9', { email: 'u9@example.com', _update: true }));
    expectNotFound(await ws.identify('u15@example.com', { id: 'u15', _update: true }));
    expectOk(await ws.identify('u8-l', { email: 'u8@example.com' }));
    expectNotFound(await ws.identify('u8', { email: 'u8@example.com', plan: 'x', _update: true }));
    expect(await ws.person('u9')).toBeNull();
    expect(await ws.person('u15')).toBeNull();
    expect(await ws.person('u8')).toBeNull();
    expect(await ws.byEmail('u9@example.com')).toEqual([]);
    expect(await ws.byEmail('u15@example.com')).toEqual([]);
    expect((await mustFind(ws, 'u8-l')).attributes.plan).toBeUndefined();
  });

  it('answers 404 in an id_only workspace for an unknown id (row 16)', async () => {
    const ws = await idOnly();
    expectNotFound(await ws.identify('u16', { email: 'u16@example.com', _update: true }));
    expect(await ws.person('u16')).toBeNull();
    expect(await ws.byEmail('u16@example.com')).toEqual([]);
  });

  it('row 7 is excepted: the lead gains the id', async () => {
    const ws = await emailOrId();
    expectOk(await ws.identify('u7@example.com', {}));
    const cio = await cioOf(ws, 'u7@example.com', 'email');
    expectOk(await ws.identify('u7', { email: 'u7@example.com', plan: 'x', _update: true }));
    const p = await mustFind(ws, 'u7');
    expect(p.identifiers.cio_id).toBe(cio);
    expect(p.attributes.plan).toBe('x');
  });
});

describe('rule C: a conflict never loses the rest of the call', () => {
  it('Track v1: 409 with the documented body; other attributes applied; the activity names field, value, reason', async () => {
    const ws = await emailOrId();
    expectOk(await ws.identify('c-p', { email: 'c-p@example.com', plan: 'free', color: 'red' }));
    expectOk(await ws.identify('c-q', { email: 'c-q@example.com' }));
    const r = await ws.identify('c-p', { email: 'c-q@example.com', plan: 'pro', color: null, seats: 3 });
    expect(r.status).toBe(409);
    expect(r.body).toEqual({
      meta: {
        errors: ['email: The identifier is already associated with a different profile.'],
        code: 'identifier_in_use',
      },
    });

    const p = await mustFind(ws, 'c-p');
    expect(p.identifiers.email).toBe('c-p@example.com');
    expect(p.attributes).toMatchObject({ plan: 'pro', seats: '3' });
    expect(p.attributes.color).toBeUndefined();
    expect((await ws.byEmail('c-q@example.com')).map((x) => x.id)).toEqual(['c-q']);

    const failed = await ws.activitiesOfType('c-p', 'failed_attribute_change');
    expect(failed).toHaveLength(1);
    expect(failed[0]!.data).toMatchObject({
      field: 'email',
      value: 'c-q@example.com',
      reason: 'identifier_in_use',
      message: 'email: The identifier is already associated with a different profile.',
    });
    expect(await ws.activitiesOfType('c-q', 'failed_attribute_change')).toEqual([]);
  });

  it('Track v2 /entity: 409 {errors:[{reason, field, message}]}; other attributes applied', async () => {
    const ws = await emailOrId();
    expectOk(await ws.identify('c-p', { email: 'c-p@example.com' }));
    expectOk(await ws.identify('c-q', { email: 'c-q@example.com' }));
    const r = await ws.entity({
      type: 'person',
      action: 'identify',
      identifiers: { id: 'c-p' },
      attributes: { email: 'c-q@example.com', plan: 'pro' },
    });
    expect(r.status).toBe(409);
    expect(r.body).toEqual({
      errors: [{ reason: 'identifier_in_use', field: 'email', message: inUseMessage('email') }],
    });
    const p = await mustFind(ws, 'c-p');
    expect(p.identifiers.email).toBe('c-p@example.com');
    expect(p.attributes.plan).toBe('pro');
    expect((await failedChanges(ws, 'c-p'))[0]).toMatchObject({
      field: 'email',
      value: 'c-q@example.com',
      reason: 'identifier_in_use',
    });
  });

  it('Track v2 /batch: 207 with the item’s batch_index; the other items are applied', async () => {
    const ws = await emailOrId();
    expectOk(await ws.identify('c-p', { email: 'c-p@example.com' }));
    expectOk(await ws.identify('c-q', { email: 'c-q@example.com' }));
    const identify = (id: string, attributes: Record<string, unknown>) => ({
      type: 'person',
      action: 'identify',
      identifiers: { id },
      attributes,
    });
    const r = await ws.batch([
      identify('c-a', { plan: 'a' }),
      identify('c-p', { email: 'c-q@example.com', plan: 'p' }),
      identify('c-b', { email: 'c-b@example.com', plan: 'b' }),
      { type: 'person', action: 'event', identifiers: { id: 'c-a' }, name: 'signed_up' },
    ]);
    expect(r.status).toBe(207);
    expect(r.body).toEqual({
      errors: [{ batch_index: 1, reason: 'identifier_in_use', field: 'email', message: inUseMessage('email') }],
    });
    expect((await mustFind(ws, 'c-a')).attributes.plan).toBe('a');
    expect((await mustFind(ws, 'c-b')).identifiers.email).toBe('c-b@example.com');
    expect((await ws.activitiesOfType('c-a', 'event')).map((e) => e.name)).toEqual(['signed_up']);
    const p = await mustFind(ws, 'c-p');
    expect(p.identifiers.email).toBe('c-p@example.com');
    expect(p.attributes.plan).toBe('p');
    expect(await failedChanges(ws, 'c-p')).toMatchObject([
      { field: 'email', value: 'c-q@example.com', reason: 'identifier_in_use' },
    ]);
  });
});

describe('anonymous ids', () => {
  it('identify with anonymous_id moves the earlier anonymous events to the person; later ones go straight there', async () => {
    const ws = await emailOrId();
    expectOk(await ws.anonymousEvent({ name: 'viewed_pricing', anonymous_id: 'anon-1' }));
    expectOk(await ws.anonymousEvent({ name: 'viewed_docs', anonymous_id: 'anon-1' }));
    expectOk(await ws.anonymousEvent({ name: 'someone_else', anonymous_id: 'anon-2' }));

    expectOk(await ws.identify('a1', { anonymous_id: 'anon-1', plan: 'x' }));
    const names = async (ref: string) => (await ws.activitiesOfType(ref, 'event')).map((e) => e.name).sort();
    expect(await names('a1')).toEqual(['viewed_docs', 'viewed_pricing']);
    expect((await mustFind(ws, 'a1')).attributes.anonymous_id).toBeUndefined();

    expectOk(await ws.anonymousEvent({ name: 'viewed_blog', anonymous_id: 'anon-1' }));
    expect(await names('a1')).toEqual(['viewed_blog', 'viewed_docs', 'viewed_pricing']);

    // anon-2's events were never anon-1's: they join only the person anon-2 is linked to.
    expectOk(await ws.identify('a2', { anonymous_id: 'anon-2' }));
    expect(await names('a2')).toEqual(['someone_else']);
    expect(await names('a1')).toEqual(['viewed_blog', 'viewed_docs', 'viewed_pricing']);
  });

  it('an anonymous_id linked to another person is rule C; the rest of the call applies', async () => {
    const ws = await emailOrId();
    expectOk(await ws.anonymousEvent({ name: 'viewed', anonymous_id: 'anon-x' }));
    expectOk(await ws.identify('a1', { anonymous_id: 'anon-x' }));
    const r = await ws.identify('a2', { anonymous_id: 'anon-x', plan: 'y' });
    expectV1Conflict(r, 'identifier_in_use', ['anonymous_id']);
    expect((await mustFind(ws, 'a2')).attributes.plan).toBe('y');
    expect(await failedChanges(ws, 'a2')).toMatchObject([
      { field: 'anonymous_id', value: 'anon-x', reason: 'identifier_in_use' },
    ]);
    expectOk(await ws.anonymousEvent({ name: 'later', anonymous_id: 'anon-x' }));
    expect((await ws.activitiesOfType('a1', 'event')).map((e) => e.name).sort()).toEqual(['later', 'viewed']);
    expect(await ws.activitiesOfType('a2', 'event')).toEqual([]);

    // The person it is linked to may repeat it.
    expectOk(await ws.identify('a1', { anonymous_id: 'anon-x' }));
  });
});

describe('events', () => {
  it('an event id is stored once per workspace, whoever it names', async () => {
    const ws = await emailOrId();
    const other = await emailOrId();
    expectOk(await ws.identify('e2', {}));
    expectOk(await ws.track('e1', { name: 'purchase', id: '01HZX0000000000000000000A1', data: { n: 1 } }));
    expectOk(await ws.track('e1', { name: 'purchase', id: '01HZX0000000000000000000A1', data: { n: 2 } }));
    expectOk(await ws.track('e2', { name: 'purchase', id: '01HZX0000000000000000000A1' }));
    expectOk(await ws.anonymousEvent({ name: 'purchase', id: '01HZX0000000000000000000A1', anonymous_id: 'an' }));
    expectOk(await ws.track('e1', { name: 'purchase' }));
    expectOk(await ws.track('e1', { name: 'purchase' }));
    expectOk(await other.track('e1', { name: 'purchase', id: '01HZX0000000000000000000A1' }));

    const e1 = await ws.activitiesOfType('e1', 'event');
    expect(e1).toHaveLength(3);
    expect(e1.filter((e) => (e.data as { n?: number }).n !== undefined).map((e) => e.data)).toEqual([{ n: 1 }]);
    expect(await ws.activitiesOfType('e2', 'event')).toEqual([]);
    expectOk(await ws.identify('e3', { anonymous_id: 'an' }));
    expect(await ws.activitiesOfType('e3', 'event')).toEqual([]);
    expect(await other.activitiesOfType('e1', 'event')).toHaveLength(1);
  });
});

describe('suppress and unsuppress', () => {
  it('a suppressed id or email is answered 200 and not stored, by reference or body identifier', async () => {
    const ws = await emailOrId();
    expectOk(await ws.identify('s1', { email: 's1@example.com', plan: 'x' }));
    expectOk(await ws.track('s1', { name: 'before' }));
    expectOk(await ws.suppress('s1'));
    expect(await ws.person('s1')).toBeNull();
    expect(await ws.byEmail('s1@example.com')).toEqual([]);

    expectOk(await ws.identify('s1', { plan: 'y' }));
    expectOk(await ws.identify('S1@example.com', { plan: 'y' }));
    expectOk(await ws.identify('s1-other', { email: 's1@example.com' }));
    expectOk(await ws.identify('s1@other.example.com', { id: 's1' }));
    expectOk(await ws.track('s1', { name: 'after' }));
    expectOk(await ws.track('s1@example.com', { name: 'after' }));
    expect(await ws.person('s1')).toBeNull();
    expect(await ws.person('s1-other')).toBeNull();
    expect(await ws.byEmail('s1@example.com')).toEqual([]);
    expect(await ws.byEmail('s1@other.example.com')).toEqual([]);
  });

  it('unsuppress frees both the id and the email; the profile is not restored', async () => {
    const ws = await emailOrId();
    expectOk(await ws.identify('s2', { email: 's2@example.com', plan: 'x' }));
    const cio = await cioOf(ws, 's2');
    expectOk(await ws.suppress('s2@example.com'));
    expect(await ws.person('s2')).toBeNull();

    expectOk(await ws.unsuppress('s2'));
    expect(await ws.person('s2')).toBeNull();
    expect(await ws.person(cio, 'cio_id')).toBeNull();

    expectOk(await ws.identify('s2@example.com', { seats: 1 }));
    const lead = await mustFind(ws, 's2@example.com', 'email');
    expect(lead.identifiers.cio_id).not.toBe(cio);
    expect(lead.attributes.plan).toBeUndefined();
    expectOk(await ws.identify('s2', { email: 's2@example.com' }));
    expect((await mustFind(ws, 's2')).identifiers.cio_id).toBe(lead.identifiers.cio_id);
  });

  it('id_only: suppressing by id blocks that id', async () => {
    const ws = await idOnly();
    expectOk(await ws.identify('s3', { email: 's3@example.com' }));
    expectOk(await ws.suppress('s3'));
    expectOk(await ws.identify('s3', { plan: 'y' }));
    expect(await ws.person('s3')).toBeNull();
    expectOk(await ws.unsuppress('s3'));
    expectOk(await ws.identify('s3', { plan: 'z' }));
    expect((await mustFind(ws, 's3')).attributes).toMatchObject({ plan: 'z' });
    expect((await mustFind(ws, 's3')).attributes.email).toBeUndefined();
  });
});

describe('delete', () => {
  it('a later identify with the same id or email creates a new person with a new cio_id', async () => {
    const ws = await emailOrId();
    expectOk(await ws.identify('d1', { email: 'd1@example.com', plan: 'x' }));
    expectOk(await ws.track('d1', { name: 'before' }));
    const cio = await cioOf(ws, 'd1');
    expectOk(await ws.delete('d1'));
    expect(await ws.person('d1')).toBeNull();
    expect(await ws.person(cio, 'cio_id')).toBeNull();
    expect(await ws.byEmail('d1@example.com')).toEqual([]);

    expectOk(await ws.identify('d1@example.com', { id: 'd1' }));
    const again = await mustFind(ws, 'd1');
    expect(again.identifiers.cio_id).not.toBe(cio);
    expect(again.identifiers.email).toBe('d1@example.com');
    expect(again.attributes.plan).toBeUndefined();
    expect(await ws.activitiesOfType('d1', 'event')).toEqual([]);
    // The old cio_id is gone for good.
    expectNotFound(await ws.identify(`cio_${cio}`, { plan: 'y' }));
  });

  it('frees the person’s anonymous ids', async () => {
    const ws = await emailOrId();
    expectOk(await ws.identify('d2', { anonymous_id: 'anon-d' }));
    expectOk(await ws.delete('d2'));
    expectOk(await ws.identify('d3', { anonymous_id: 'anon-d' }));
    expectOk(await ws.anonymousEvent({ name: 'after_delete', anonymous_id: 'anon-d' }));
    expect((await ws.activitiesOfType('d3', 'event')).map((e) => e.name)).toEqual(['after_delete']);
  });
});

describe('merge (POST /api/v1/merge_customers)', () => {
  it('events and devices move, the primary gains what it lacks, the secondary is gone and its identifiers free', async () => {
    const ws = await emailOrId();
    expectOk(await ws.identify('m-p', { plan: 'pro' }));
    expectOk(await ws.identify('m-s', { email: 'm-s@example.com', plan: 'free', city: 'Oslo' }));
    expectOk(await ws.track('m-p', { name: 'p_event' }));
    expectOk(await ws.track('m-s', { name: 's_event_1' }));
    expectOk(await ws.track('m-s', { name: 's_event_2' }));
    expectOk(await ws.addDevice('m-s', { id: 'tok-s', platform: 'ios' }));
    const primaryCio = await cioOf(ws, 'm-p');
    const secondaryCio = await cioOf(ws, 'm-s');

    expectOk(await ws.merge({ id: 'm-p' }, { id: 'm-s' }));

    expect(await ws.person('m-s')).toBeNull();
    expect(await ws.person(secondaryCio, 'cio_id')).toBeNull();
    const p = await mustFind(ws, 'm-p');
    expect(p.identifiers).toEqual({ id: 'm-p', email: 'm-s@example.com', cio_id: primaryCio });
    expect(p.attributes).toMatchObject({ plan: 'pro', city: 'Oslo' });
    expect(p.devices.map((d: { id: string }) => d.id)).toEqual(['tok-s']);
    expect((await ws.activitiesOfType('m-p', 'event')).map((e) => e.name).sort()).toEqual([
      'p_event',
      's_event_1',
      's_event_2',
    ]);
    expect(await ws.byEmail('m-s@example.com')).toEqual([{ id: 'm-p', email: 'm-s@example.com', cio_id: primaryCio }]);
    // An activity on the primary keeps a snapshot of the secondary, for audit.
    const feed = (await ws.activities('m-p', '&limit=100')).activities as Activity[];
    const snapshot = feed.find((a) => (a.data.secondary as { cio_id?: string } | undefined)?.cio_id === secondaryCio);
    expect(snapshot?.data.secondary).toMatchObject({ id: 'm-s', email: 'm-s@example.com', cio_id: secondaryCio });

    // The secondary's id is free: it now makes a new person.
    expectOk(await ws.identify('m-s', {}));
    const fresh = await cioOf(ws, 'm-s');
    expect(fresh).not.toBe(secondaryCio);
    expect(fresh).not.toBe(primaryCio);
  });

  it('a primary without an id gains the secondary’s; the secondary’s anonymous ids follow', async () => {
    const ws = await emailOrId();
    expectOk(await ws.identify('m-lead@example.com', { plan: 'lead' }));
    expectOk(await ws.identify('m-user', { anonymous_id: 'anon-m' }));
    const leadCio = await cioOf(ws, 'm-lead@example.com', 'email');

    expectOk(await ws.merge({ email: 'm-lead@example.com' }, { id: 'm-user' }));
    const p = await mustFind(ws, 'm-user');
    expect(p.identifiers).toEqual({ id: 'm-user', email: 'm-lead@example.com', cio_id: leadCio });
    expectOk(await ws.anonymousEvent({ name: 'after_merge', anonymous_id: 'anon-m' }));
    expect((await ws.activitiesOfType('m-user', 'event')).map((e) => e.name)).toEqual(['after_merge']);
  });

  it('an unsubscribe on either side sticks; references by email and cio_id work', async () => {
    const ws = await emailOrId();
    expectOk(await ws.identify('m1@example.com', { id: 'm1' }));
    expectOk(await ws.identify('m2', { email: 'm2@example.com', unsubscribed: true }));
    expectOk(await ws.merge({ email: 'm1@example.com' }, { id: 'm2' }));
    const m1 = await mustFind(ws, 'm1');
    expect(m1.unsubscribed).toBe(true);
    // The primary keeps its own email; the secondary's is free.
    expect(m1.identifiers.email).toBe('m1@example.com');
    expect(await ws.byEmail('m2@example.com')).toEqual([]);
    expectOk(await ws.identify('m2@example.com', {}));
    expect((await mustFind(ws, 'm2@example.com', 'email')).identifiers.id).toBeNull();

    expectOk(await ws.identify('m3', { unsubscribed: true }));
    expectOk(await ws.identify('m4', { unsubscribed: false }));
    const m4 = await cioOf(ws, 'm4');
    expectOk(await ws.merge({ id: 'm3' }, { cio_id: m4 }));
    expect((await mustFind(ws, 'm3')).unsubscribed).toBe(true);
    expect(await ws.person('m4')).toBeNull();
  });

  it('404 when the primary or the secondary is missing; nothing changes', async () => {
    const ws = await emailOrId();
    expectOk(await ws.identify('m-p', { plan: 'pro' }));
    for (const r of [
      await ws.merge({ id: 'm-p' }, { id: 'nobody' }),
      await ws.merge({ id: 'nobody' }, { id: 'm-p' }),
    ]) {
      expect(r.status).toBe(404);
      expect(r.body.meta.code).toBe('person_not_found');
    }
    expect((await mustFind(ws, 'm-p')).attributes.plan).toBe('pro');
    expect(await ws.person('nobody')).toBeNull();
  });

  it('400 {"meta":{"error":…}} when a side has several identifiers', async () => {
    const ws = await emailOrId();
    expectOk(await ws.identify('m-p', { email: 'm-p@example.com' }));
    expectOk(await ws.identify('m-s', {}));
    for (const r of [
      await ws.merge({ id: 'm-p', email: 'm-p@example.com' }, { id: 'm-s' }),
      await ws.merge({ id: 'm-p' }, { id: 'm-s', cio_id: 'abc' }),
    ]) {
      expect(r.status).toBe(400);
      expect(typeof r.body.meta.error).toBe('string');
      expect(r.body.meta.code).toBe('invalid_merge');
    }
    expect(await ws.person('m-s')).not.toBeNull();
  });
});

describe('attribute order (_timestamp)', () => {
  it('a call older than the stored time of a key does not overwrite that key', async () => {
    const ws = await emailOrId();
    expectOk(await ws.identify('t1', { plan: 'pro', color: 'blue', _timestamp: 1_700_000_000 }));
    expectOk(await ws.identify('t1', { plan: 'free', color: null, size: 'L', _timestamp: 1_600_000_000 }));
    let p = await mustFind(ws, 't1');
    expect(p.attributes).toMatchObject({ plan: 'pro', color: 'blue', size: 'L' });
    expect(p.timestamps.plan).toBe(1_700_000_000);
    expect(p.timestamps.size).toBe(1_600_000_000);
    expect(p.attributes._timestamp).toBeUndefined();

    // Same key, same time: the call applies (a retry converges); newer: applies.
    expectOk(await ws.identify('t1', { size: 'M', _timestamp: 1_600_000_000 }));
    expectOk(await ws.identify('t1', { plan: 'team' }));
    p = await mustFind(ws, 't1');
    expect(p.attributes).toMatchObject({ plan: 'team', size: 'M', color: 'blue' });
  });
});
