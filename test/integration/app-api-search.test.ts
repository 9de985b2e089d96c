import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type Reply, type TestServer, type TestWorkspace } from '../helpers/roster-server.js';

/**
 * App API people search (`POST /v1/customers` with an audience filter), `POST /v1/customers/attributes` and
 * `GET /v1/customers/{ref}/segments`, over real HTTP on the real database. Each filter row names the people it
 * must match, exactly.
 */

let server: TestServer;
let ws: TestWorkspace;
let other: TestWorkspace;
const cio: Record<string, string> = {};

/** The people of `ws`, by name: their identify reference and body. */
const people: Record<string, [string, Record<string, unknown>]> = {
  ann: ['ann', { email: 'Ann@Example.com', plan: 'pro', age: 30, vip: true, city: 'Berlin', tags: ['a', 'b'] }],
  bob: ['bob', { email: 'bob@example.com', plan: 'free', age: '45', city: 'Bern', score: -2.5 }],
  cat: ['cat', { email: 'cat@example.org', plan: 'pro', age: 7.5, vip: false, city: 'Paris' }],
  dan: ['dan', { plan: 'Pro', age: 'old', 'odd "key"': 'yes', created_at: 1_000_000_000 }],
  lee: ['lee@example.com', { plan: 'trial', unsubscribed: true }],
};

function expectAppError(r: Reply, status: number, code: string) {
  expect(r.status, JSON.stringify(r.body)).toBe(status);
  expect(r.body).toEqual({ errors: [{ detail: expect.any(String), status: String(status), code }] });
}

/** Everyone a filter matches, walking every page; as names. */
async function search(filter: unknown, w: TestWorkspace = ws, limit = 2): Promise<string[]> {
  const names: string[] = [];
  let start = '';
  for (let i = 0; i < 100; i++) {
    const r = await w.app('POST', `/v1/customers?limit=${limit}${start ? `&start=${start}` : ''}`, { filter });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.ids).toHaveLength(r.body.identifiers.length);
    for (const [i, ident] of (r.body.identifiers as { cio_id: string; id: string | null }[]).entries()) {
      expect(r.body.ids[i]).toBe(ident.id ?? '');
      names.push(Object.keys(cio).find((n) => cio[n] === ident.cio_id) ?? `?${ident.cio_id}`);
    }
    if (r.body.next === '') return names.sort();
    start = r.body.next;
  }
  throw new Error('too many pages');
}

const attr = (field: string, operator: string, value?: unknown) => ({
  attribute: value === undefined ? { field, operator } : { field, operator, value },
});

beforeAll(async () => {
  server = await startServer();
  ws = await server.workspace();
  other = await server.workspace();
  for (const [name, [ref, body]] of Object.entries(people)) {
    expect((await ws.identify(ref, body)).status).toBe(200);
    cio[name] = (await ws.person(ref, ref.includes('@') ? 'email' : 'id')).identifiers.cio_id;
  }
  // The other workspace has a lookalike, which no filter of ws may ever return.
  expect((await other.identify('ann', { email: 'ann@example.com', plan: 'pro' })).status).toBe(200);
});

afterAll(async () => {
  await server?.close();
});

describe('POST /v1/customers: each operator', () => {
  const rows: { title: string; filter: unknown; matches: string[] }[] = [
    { title: 'eq on text', filter: attr('plan', 'eq', 'pro'), matches: ['ann', 'cat'] },
    { title: 'eq is case-sensitive on attributes', filter: attr('plan', 'eq', 'Pro'), matches: ['dan'] },
    { title: 'eq "30" matches the number 30', filter: attr('age', 'eq', '30'), matches: ['ann'] },
    { title: 'eq 45 matches the string "45"', filter: attr('age', 'eq', 45), matches: ['bob'] },
    { title: 'eq true matches the boolean', filter: attr('vip', 'eq', true), matches: ['ann'] },
    { title: 'eq "false" matches the boolean false', filter: attr('vip', 'eq', 'false'), matches: ['cat'] },
    {
      title: 'neq includes people without the attribute',
      filter: attr('plan', 'neq', 'pro'),
      matches: ['bob', 'dan', 'lee'],
    },
    { title: 'exists', filter: attr('vip', 'exists'), matches: ['ann', 'cat'] },
    { title: 'exists on a key with quotes', filter: attr('odd "key"', 'exists'), matches: ['dan'] },
    { title: 'eq on a key with quotes', filter: attr('odd "key"', 'eq', 'yes'), matches: ['dan'] },
    {
      title: 'gt numeric: numbers and numeric strings, not "old"',
      filter: attr('age', 'gt', 10),
      matches: ['ann', 'bob'],
    },
    { title: 'gte numeric', filter: attr('age', 'gte', '30'), matches: ['ann', 'bob'] },
    { title: 'lt numeric with a fraction', filter: attr('age', 'lt', 8), matches: ['cat'] },
    { title: 'lte numeric', filter: attr('age', 'lte', 7.5), matches: ['cat'] },
    { title: 'lt negative numbers', filter: attr('score', 'lt', -1), matches: ['bob'] },
    { title: 'gt on text compares bytewise', filter: attr('city', 'gt', 'Berlin'), matches: ['bob', 'cat'] },
    { title: 'lt on text', filter: attr('city', 'lt', 'Bern'), matches: ['ann'] },
    { title: 'contains', filter: attr('city', 'contains', 'er'), matches: ['ann', 'bob'] },
    { title: 'contains is case-sensitive', filter: attr('city', 'contains', 'ER'), matches: [] },
    { title: 'contains in an array', filter: attr('tags', 'contains', '"b"'), matches: ['ann'] },
    { title: 'starts_with', filter: attr('city', 'starts_with', 'Ber'), matches: ['ann', 'bob'] },
    { title: 'starts_with is not contains', filter: attr('city', 'starts_with', 'ern'), matches: [] },
    { title: 'in', filter: attr('plan', 'in', ['free', 'trial', 'nope']), matches: ['bob', 'lee'] },
    { title: 'email eq ignores case', filter: attr('email', 'eq', 'ANN@example.com'), matches: ['ann'] },
    { title: 'email ends in .org (contains)', filter: attr('email', 'contains', '.org'), matches: ['cat'] },
    { title: 'email exists', filter: attr('email', 'exists'), matches: ['ann', 'bob', 'cat', 'lee'] },
    { title: 'id exists leaves out the lead', filter: attr('id', 'exists'), matches: ['ann', 'bob', 'cat', 'dan'] },
    { title: 'id in', filter: attr('id', 'in', ['ann', 'dan', 'zed']), matches: ['ann', 'dan'] },
    { title: 'id gt text', filter: attr('id', 'gt', 'bob'), matches: ['cat', 'dan'] },
    { title: 'unsubscribed eq true', filter: attr('unsubscribed', 'eq', 'true'), matches: ['lee'] },
    { title: 'unsubscribed eq 0', filter: attr('unsubscribed', 'eq', 0), matches: ['ann', 'bob', 'cat', 'dan'] },
    { title: 'created_at lt (unix seconds)', filter: attr('created_at', 'lt', 1_500_000_000), matches: ['dan'] },
    {
      title: 'updated_at gt (unix seconds)',
      filter: attr('updated_at', 'gt', 1_500_000_000),
      matches: ['ann', 'bob', 'cat', 'dan', 'lee'],
    },
    { title: 'and', filter: { and: [attr('plan', 'eq', 'pro'), attr('age', 'gt', 10)] }, matches: ['ann'] },
    { title: 'or', filter: { or: [attr('plan', 'eq', 'free'), attr('vip', 'eq', false)] }, matches: ['bob', 'cat'] },
    {
      title: 'not is the exact complement (missing counts as false)',
      filter: { not: attr('vip', 'eq', true) },
      matches: ['bob', 'cat', 'dan', 'lee'],
    },
    {
      title: 'inverse: true',
      filter: { attribute: { field: 'vip', operator: 'exists', inverse: true } },
      matches: ['bob', 'dan', 'lee'],
    },
    { title: 'and [] is everyone', filter: { and: [] }, matches: ['ann', 'bob', 'cat', 'dan', 'lee'] },
    { title: 'or [] is no one', filter: { or: [] }, matches: [] },
    {
      title: 'the lead with email but no id (reference §5)',
      filter: { and: [attr('email', 'exists'), { not: attr('id', 'exists') }] },
      matches: ['lee'],
    },
  ];
  it.each(rows.map((r) => [r.title, r] as const))('%s', async (_t, { filter, matches }) => {
    expect(await search(filter)).toEqual(matches);
  });

  it('numeric ids compare as numbers with gt/lt (5 < 40 < 300), non-numeric ids never match', async () => {
    const w = await server.workspace();
    for (const id of ['5', '40', '300', 'x7']) expect((await w.identify(id, {})).status).toBe(200);
    const ids = async (filter: unknown) => (await w.app('POST', '/v1/customers', { filter })).body.ids;
    expect(await ids(attr('id', 'gt', 10))).toEqual(['40', '300']);
    expect(await ids(attr('id', 'lte', '40'))).toEqual(['5', '40']);
  });

  it('eq and in match the top-level attribute only, whatever the rest of the JSON text holds (PostgreSQL checks the text first)', async () => {
    const w = await server.workspace();
    const bodies: Record<string, Record<string, unknown>> = {
      top: { plan: 'pro', country: 'US' },
      nested: { plan: 'basic', meta: { plan: 'pro', country: 'US' }, country: 'FR' },
      inText: { plan: 'basic', note: '"plan":"pro"', country: 'GB' },
      quoted: { plan: 'say "pro"', country: 'DE' },
      listed: { plan: ['pro'], country: 'US' },
      other: { plan: 'Pro', country: 'us' },
    };
    for (const [id, body] of Object.entries(bodies)) expect((await w.identify(id, body)).status).toBe(200);
    const ids = async (filter: unknown) =>
      ((await w.app('POST', '/v1/customers', { filter })).body.ids as string[]).sort();
    expect(await ids(attr('plan', 'eq', 'pro'))).toEqual(['top']);
    expect(await ids({ not: attr('plan', 'eq', 'pro') })).toEqual(['inText', 'listed', 'nested', 'other', 'quoted']);
    expect(await ids(attr('plan', 'eq', 'say "pro"'))).toEqual(['quoted']);
    expect(await ids(attr('plan', 'in', ['pro', 'basic']))).toEqual(['inText', 'nested', 'top']);
    expect(await ids(attr('country', 'in', ['US', 'GB']))).toEqual(['inText', 'listed', 'top']);
    expect(await ids({ and: [attr('plan', 'eq', 'pro'), attr('country', 'in', ['US', 'DE'])] })).toEqual(['top']);
    expect(await ids(attr('plan', 'eq', '["pro"]'))).toEqual(['listed']);
  });

  it('answers {identifiers:[{email,id,cio_id}], ids, next}', async () => {
    const r = await ws.app('POST', '/v1/customers', { filter: attr('id', 'eq', 'ann') });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({
      identifiers: [{ email: 'Ann@Example.com', id: 'ann', cio_id: cio.ann }],
      ids: ['ann'],
      next: '',
    });
  });

  it('a lead has "" in ids and null id in identifiers', async () => {
    const r = await ws.app('POST', '/v1/customers', { filter: attr('plan', 'eq', 'trial') });
    expect(r.body).toEqual({
      identifiers: [{ email: 'lee@example.com', id: null, cio_id: cio.lee }],
      ids: [''],
      next: '',
    });
  });
});

describe('POST /v1/customers: refusals (never a 500)', () => {
  const rows: { title: string; path?: string; body: unknown; status: number; code: string }[] = [
    { title: 'no body', body: undefined, status: 400, code: 'invalid_filter' },
    { title: 'no filter', body: {}, status: 400, code: 'invalid_filter' },
    { title: 'filter not an object', body: { filter: 'plan=pro' }, status: 400, code: 'invalid_filter' },
    { title: 'unknown operator', body: { filter: attr('plan', 'like', 'p') }, status: 400, code: 'invalid_filter' },
    {
      title: 'a segment that does not exist',
      body: { filter: { segment: { id: 999999 } } },
      status: 400,
      code: 'invalid_filter',
    },
    {
      title: 'limit 0',
      path: '/v1/customers?limit=0',
      body: { filter: { and: [] } },
      status: 400,
      code: 'invalid_query',
    },
    {
      title: 'limit 1001',
      path: '/v1/customers?limit=1001',
      body: { filter: { and: [] } },
      status: 400,
      code: 'invalid_query',
    },
    {
      title: 'a cursor from elsewhere',
      path: '/v1/customers?start=bm9wZQ',
      body: { filter: { and: [] } },
      status: 400,
      code: 'invalid_query',
    },
    {
      title: 'another list’s cursor',
      path: `/v1/customers?start=${Buffer.from('segments:3').toString('base64url')}`,
      body: { filter: { and: [] } },
      status: 400,
      code: 'invalid_query',
    },
  ];
  it.each(rows.map((r) => [r.title, r] as const))('%s', async (_t, r) => {
    expectAppError(await ws.app('POST', r.path ?? '/v1/customers', r.body), r.status, r.code);
  });

  it('odd values in filters are answered, not crashed on', async () => {
    for (const filter of [
      attr("x'; drop table people; --", 'eq', "'"),
      attr('\\', 'exists'),
      attr('a', 'contains', '%_'),
      attr('a', 'gt', '\u00ff'),
      attr('age', 'gt', '99999999999999999999999999'),
    ]) {
      const r = await ws.app('POST', '/v1/customers', { filter });
      expect(r.status, JSON.stringify({ filter, body: r.body })).toBe(200);
    }
    expect(await search(attr('a', 'contains', '%_'))).toEqual([]);
    expectAppError(await ws.app('POST', '/v1/customers', { filter: attr('a', 'gt', '\u0000') }), 400, 'invalid_filter');
  });
});

describe('a stored NUL character (PostgreSQL jsonb refuses \u0000)', () => {
  it('does not break searching the workspace', async () => {
    const w = await server.workspace();
    expect((await w.identify('nul-1', { note: 'a\u0000b', 'k\u0000': 1 })).status).toBe(200);
    expect((await w.identify('nul-2', { plan: 'pro' })).status).toBe(200);
    for (const [filter, ids] of [
      [attr('note', 'exists'), ['nul-1']],
      [attr('note', 'starts_with', 'a'), ['nul-1']],
      [attr('plan', 'eq', 'pro'), ['nul-2']],
    ] as const) {
      const r = await w.app('POST', '/v1/customers', { filter });
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      expect(r.body.ids).toEqual(ids);
    }
  });
});

describe('POST /v1/customers: pagination', () => {
  it('a walk sees everyone who existed when it started exactly once, while people are added concurrently', async () => {
    const w = await server.workspace();
    const before: string[] = [];
    for (let i = 0; i < 30; i++) {
      const id = `walk-${i}`;
      before.push(id);
      expect((await w.identify(id, { group: 'walk' })).status).toBe(200);
    }
    const seen: string[] = [];
    let start = '';
    let added = 0;
    for (;;) {
      const path = `/v1/customers?limit=4${start ? `&start=${start}` : ''}`;
      const [r] = await Promise.all([
        w.app('POST', path, { filter: attr('group', 'eq', 'walk') }),
        // Writes racing the read: new people (who sort last) and changes to people already seen.
        w.identify(`walk-new-${added++}`, { group: 'walk' }),
        w.identify(before[added % before.length]!, { touched: added }),
      ]);
      expect(r.status).toBe(200);
      seen.push(...(r.body.ids as string[]));
      if (r.body.next === '') break;
      start = r.body.next;
    }
    expect(new Set(seen).size).toBe(seen.length);
    for (const id of before) expect(seen).toContain(id);
    // Ordered by creation (pk): the people who existed first come first.
    expect(seen.slice(0, before.length)).toEqual(before);
  });
});

describe('POST /v1/customers/attributes', () => {
  it('answers {"customers":[{"customer":{…}}]} for the ids it knows, leaving out the rest', async () => {
    const r = await ws.app('POST', '/v1/customers/attributes', { ids: ['ann', 'nobody', 'bob', 'ann'] });
    expect(r.status).toBe(200);
    expect(r.body.customers).toHaveLength(2);
    expect(r.body.customers[0].customer).toMatchObject({
      id: 'ann',
      identifiers: { email: 'Ann@Example.com', id: 'ann', cio_id: cio.ann },
      attributes: { plan: 'pro', age: '30' },
      unsubscribed: false,
    });
    expect(r.body.customers[1].customer.id).toBe('bob');
  });

  it('by email and by cio_id', async () => {
    const byEmail = await ws.app('POST', '/v1/customers/attributes?id_type=email', { ids: ['bob@example.com'] });
    expect(byEmail.body.customers.map((c: { customer: { id: string } }) => c.customer.id)).toEqual(['bob']);
    const byCio = await ws.app('POST', '/v1/customers/attributes?id_type=cio_id', { ids: [`cio_${cio.cat}`] });
    expect(byCio.body.customers.map((c: { customer: { id: string } }) => c.customer.id)).toEqual(['cat']);
  });

  it('refuses more than 100 ids, no ids, and a bad id_type', async () => {
    const many = Array.from({ length: 101 }, (_, i) => `x${i}`);
    expectAppError(await ws.app('POST', '/v1/customers/attributes', { ids: many }), 400, 'invalid_body');
    expectAppError(await ws.app('POST', '/v1/customers/attributes', { ids: [] }), 400, 'invalid_body');
    expectAppError(await ws.app('POST', '/v1/customers/attributes', {}), 400, 'invalid_body');
    expectAppError(
      await ws.app('POST', '/v1/customers/attributes?id_type=phone', { ids: ['x'] }),
      400,
      'invalid_identifier',
    );
    const ok = await ws.app('POST', '/v1/customers/attributes', {
      ids: Array.from({ length: 100 }, (_, i) => `x${i}`),
    });
    expect(ok.body).toEqual({ customers: [] });
  });
});

describe('cross-workspace', () => {
  it("another workspace's key searches its own people only", async () => {
    const r = await other.app('POST', '/v1/customers', { filter: attr('plan', 'eq', 'pro') });
    expect(r.status).toBe(200);
    expect(r.body.ids).toEqual(['ann']);
    expect(r.body.identifiers[0].cio_id).not.toBe(cio.ann);
    const attrs = await other.app('POST', '/v1/customers/attributes', { ids: ['bob', 'cat'] });
    expect(attrs.body).toEqual({ customers: [] });
    expectAppError(await other.app('GET', '/v1/customers/bob/segments'), 404, 'person_not_found');
  });

  it('no key or a wrong key: 401', async () => {
    for (const [method, path] of [
      ['POST', '/v1/customers'],
      ['POST', '/v1/customers/attributes'],
      ['GET', '/v1/customers/ann/segments'],
    ] as const) {
      const body = method === 'GET' ? undefined : { filter: { and: [] }, ids: ['ann'] };
      expectAppError(await ws.request(method, path, body, null), 401, 'unauthorized');
      expectAppError(await ws.request(method, path, body, `Bearer ${ws.creds.track_api_key}`), 401, 'unauthorized');
    }
  });
});
