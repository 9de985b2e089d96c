/**
 * identity.md, Words: "Nothing crosses workspaces." For every route the app serves (read from Fastify itself, so a
 * route added later fails this test until it is added to the table below):
 * - credentials mixed across workspaces (A's site id with B's key, a key of the wrong kind, B's webhook signature
 *   for A's site id) get 401;
 * - B's valid credentials naming A's people, objects and devices get 404 or B's own (empty) data, never A's;
 * and after it all, A's stored rows and integration log are exactly as before, and nothing of A's appears in B.
 */
import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recorded } from '../helpers/reliability.js';
import { startServer, type Reply, type TestServer, type TestWorkspace } from '../helpers/roster-server.js';
import { listRoutes } from '../helpers/routes.js';

type Surface = 'public' | 'track' | 'app' | 'segment' | 'webhook';

/** What A holds, as B might try to name it. */
interface Names {
  cio: string;
  id: string;
  email: string;
  typeId: string;
  objectId: string;
  token: string;
  /** An email A suppressed. */
  suppressedEmail: string;
  /** A's manual segment (holding A's person) and A's finished export. */
  segmentId: number;
  exportId: number;
}

interface RouteCase {
  surface: Surface;
  path: (n: Names) => string;
  body?: (n: Names) => unknown;
  /** B's valid credentials naming A's things: the statuses allowed (404, or B's own empty answer). */
  allowed: number[];
}

const cioRef = (n: Names) => `cio_${n.cio}`;
const segmentIdentify = (n: Names) => ({ type: 'identify', userId: cioRef(n), traits: { probe: 'b' } });

/** Every route, keyed `METHOD url` exactly as Fastify lists it. */
const table: Record<string, RouteCase> = {
  'GET /healthz': { surface: 'public', path: () => '/healthz', allowed: [200] },
  'GET /readyz': { surface: 'public', path: () => '/readyz', allowed: [200] },
  // Operations: no workspace data (metrics are per workspace pk, never identifiers; docs and the OpenAPI document).
  'GET /metrics': { surface: 'public', path: () => '/metrics', allowed: [200] },
  'GET /openapi.json': { surface: 'public', path: () => '/openapi.json', allowed: [200] },
  'GET /docs': { surface: 'public', path: () => '/docs', allowed: [200] },
  'GET /docs/': { surface: 'public', path: () => '/docs/', allowed: [200] },
  'GET /docs/static/index.html': { surface: 'public', path: () => '/docs/static/index.html', allowed: [200] },
  'GET /docs/static/swagger-initializer.js': {
    surface: 'public',
    path: () => '/docs/static/swagger-initializer.js',
    allowed: [200],
  },
  'GET /docs/*': { surface: 'public', path: () => '/docs/static/swagger-ui.css', allowed: [200] },
  'GET /docs/json': { surface: 'public', path: () => '/docs/json', allowed: [200] },
  'GET /docs/yaml': { surface: 'public', path: () => '/docs/yaml', allowed: [200] },
  // A signed download link is its own credential: forging or reusing one is tested in app-api-exports.test.ts.
  'GET /exports/:id/file': { surface: 'public', path: (n) => `/exports/${n.exportId}/file`, allowed: [401] },
  // Track API: B's key cannot reach A's people; by cio_id they do not exist in B.
  'PUT /api/v1/customers/:ref': {
    surface: 'track',
    path: (n) => `/api/v1/customers/${cioRef(n)}`,
    body: () => ({ probe: 'b' }),
    allowed: [404],
  },
  'DELETE /api/v1/customers/:ref': {
    surface: 'track',
    path: (n) => `/api/v1/customers/${cioRef(n)}`,
    allowed: [200, 404], // deleting someone absent is 200 (idempotent), and deletes nothing of A's
  },
  'POST /api/v1/customers/:ref/events': {
    surface: 'track',
    path: (n) => `/api/v1/customers/${cioRef(n)}/events`,
    body: () => ({ name: 'probe' }),
    allowed: [404],
  },
  'POST /api/v1/customers/:ref/suppress': {
    surface: 'track',
    path: (n) => `/api/v1/customers/${cioRef(n)}/suppress`,
    body: () => ({}),
    allowed: [404],
  },
  'POST /api/v1/customers/:ref/unsuppress': {
    surface: 'track',
    path: (n) => `/api/v1/customers/${encodeURIComponent(n.email)}/unsuppress`,
    body: () => ({}),
    allowed: [200], // frees the identifier in B only
  },
  'PUT /api/v1/customers/:ref/devices': {
    surface: 'track',
    path: (n) => `/api/v1/customers/${cioRef(n)}/devices`,
    body: (n) => ({ device: { id: n.token, platform: 'ios' } }),
    allowed: [404],
  },
  'DELETE /api/v1/customers/:ref/devices/:token': {
    surface: 'track',
    path: (n) => `/api/v1/customers/${cioRef(n)}/devices/${n.token}`,
    allowed: [200, 404],
  },
  'POST /api/v1/events': {
    surface: 'track',
    path: () => '/api/v1/events',
    body: () => ({ anonymous_id: 'a-anon', name: 'probe' }),
    allowed: [200], // stored in B, under B
  },
  'POST /api/v1/merge_customers': {
    surface: 'track',
    path: () => '/api/v1/merge_customers',
    body: (n) => ({ primary: { cio_id: n.cio }, secondary: { id: n.id } }),
    allowed: [404],
  },
  'POST /api/v1/metrics': {
    surface: 'track',
    path: () => '/api/v1/metrics',
    body: (n) => ({ delivery_id: 'd-probe', metric: 'opened', recipient: n.email }),
    allowed: [200], // logged in B's integration log
  },
  'GET /api/v1/accounts/region': { surface: 'track', path: () => '/api/v1/accounts/region', allowed: [200] },
  'GET /auth': { surface: 'track', path: () => '/auth', allowed: [200] },
  'POST /api/v1/segments/:id/add_customers': {
    surface: 'track',
    path: (n) => `/api/v1/segments/${n.segmentId}/add_customers`,
    body: (n) => ({ ids: [n.id] }),
    allowed: [404],
  },
  'POST /api/v1/segments/:id/remove_customers': {
    surface: 'track',
    path: (n) => `/api/v1/segments/${n.segmentId}/remove_customers`,
    body: (n) => ({ ids: [n.id] }),
    allowed: [404],
  },
  'POST /api/v2/entity': {
    surface: 'track',
    path: () => '/api/v2/entity',
    body: (n) => ({ type: 'person', action: 'identify', identifiers: { cio_id: n.cio }, attributes: { probe: 'b' } }),
    allowed: [404],
  },
  'POST /api/v2/batch': {
    surface: 'track',
    path: () => '/api/v2/batch',
    body: (n) => ({
      batch: [
        { type: 'person', action: 'event', identifiers: { cio_id: n.cio }, name: 'probe' },
        { type: 'person', action: 'merge', primary: { cio_id: n.cio }, secondary: { id: n.id } },
        {
          type: 'object',
          action: 'delete',
          identifiers: { object_type_id: n.typeId, object_id: n.objectId },
        },
      ],
    }),
    allowed: [200, 207],
  },
  // Segment: B's write key applies to B's workspace only (a cio_id B does not have is logged, answered 200).
  'POST /v1/identify': { surface: 'segment', path: () => '/v1/identify', body: segmentIdentify, allowed: [200] },
  'POST /v1/track': {
    surface: 'segment',
    path: () => '/v1/track',
    body: (n) => ({ userId: cioRef(n), event: 'probe' }),
    allowed: [200],
  },
  'POST /v1/page': {
    surface: 'segment',
    path: () => '/v1/page',
    body: (n) => ({ userId: cioRef(n), name: 'probe' }),
    allowed: [200],
  },
  'POST /v1/screen': {
    surface: 'segment',
    path: () => '/v1/screen',
    body: (n) => ({ userId: cioRef(n), name: 'probe' }),
    allowed: [200],
  },
  'POST /v1/group': {
    surface: 'segment',
    path: () => '/v1/group',
    body: (n) => ({ userId: cioRef(n), groupId: 'b-own-group', traits: { probe: 'b' } }),
    allowed: [200],
  },
  'POST /v1/alias': {
    surface: 'segment',
    path: () => '/v1/alias',
    body: (n) => ({ userId: cioRef(n), previousId: n.id }),
    allowed: [200],
  },
  'POST /v1/batch': {
    surface: 'segment',
    path: () => '/v1/batch',
    body: (n) => ({ batch: [segmentIdentify(n), { type: 'track', userId: 'User Deleted', event: 'User Deleted' }] }),
    allowed: [200],
  },
  'POST /v1/import': {
    surface: 'segment',
    path: () => '/v1/import',
    body: (n) => ({ batch: [{ type: 'track', userId: n.id, event: 'User Deleted' }] }),
    allowed: [200],
  },
  'POST /segment/webhook': {
    surface: 'webhook',
    path: () => '/segment/webhook',
    body: (n) => [{ type: 'track', userId: cioRef(n), event: 'User Suppressed' }],
    allowed: [200],
  },
  // App API: B's key finds nothing of A's.
  'GET /v1/customers': {
    surface: 'app',
    path: (n) => `/v1/customers?email=${encodeURIComponent(n.email)}`,
    allowed: [200], // results: [] (checked below)
  },
  'GET /v1/customers/:ref/attributes': {
    surface: 'app',
    path: (n) => `/v1/customers/${n.cio}/attributes?id_type=cio_id`,
    allowed: [404],
  },
  'GET /v1/customers/:ref/activities': {
    surface: 'app',
    path: (n) => `/v1/customers/${encodeURIComponent(n.email)}/activities?id_type=email`,
    allowed: [404],
  },
  'GET /v1/customers/:ref/relationships': {
    surface: 'app',
    path: (n) => `/v1/customers/${n.id}/relationships`,
    allowed: [404],
  },
  'GET /v1/activities': { surface: 'app', path: () => '/v1/activities?limit=100', allowed: [200] },
  'GET /v1/activities/counts': { surface: 'app', path: () => '/v1/activities/counts?since=0', allowed: [200] },
  'POST /v1/customers': {
    surface: 'app',
    path: () => '/v1/customers?limit=100',
    body: (n) => ({ filter: { attribute: { field: 'email', operator: 'eq', value: n.email } } }),
    allowed: [200], // B's own (no) matches
  },
  'POST /v1/customers/attributes': {
    surface: 'app',
    path: () => '/v1/customers/attributes',
    body: (n) => ({ ids: [n.id] }),
    allowed: [200], // B has no such person: an empty list
  },
  'POST /v1/customers/delete': {
    surface: 'app',
    path: () => '/v1/customers/delete',
    body: (n) => ({ identifiers: [{ cio_id: n.cio }, { id: n.id }] }),
    allowed: [200], // answered per identifier: not_found in B
  },
  'GET /v1/customers/:ref/segments': {
    surface: 'app',
    path: (n) => `/v1/customers/${n.id}/segments`,
    allowed: [404],
  },
  'GET /v1/segments': { surface: 'app', path: () => '/v1/segments', allowed: [200] },
  'POST /v1/segments': {
    surface: 'app',
    path: () => '/v1/segments',
    body: () => ({ segment: { name: 'b-own-segment' } }),
    allowed: [200], // B's own segment
  },
  'GET /v1/segments/:id': { surface: 'app', path: (n) => `/v1/segments/${n.segmentId}`, allowed: [404] },
  'DELETE /v1/segments/:id': { surface: 'app', path: (n) => `/v1/segments/${n.segmentId}`, allowed: [404] },
  'GET /v1/segments/:id/customer_count': {
    surface: 'app',
    path: (n) => `/v1/segments/${n.segmentId}/customer_count`,
    allowed: [404],
  },
  'GET /v1/segments/:id/membership': {
    surface: 'app',
    path: (n) => `/v1/segments/${n.segmentId}/membership`,
    allowed: [404],
  },
  'GET /v1/exports': { surface: 'app', path: () => '/v1/exports', allowed: [200] },
  'POST /v1/exports/customers': {
    surface: 'app',
    path: () => '/v1/exports/customers',
    body: () => ({ filters: { attribute: { field: 'probe', operator: 'exists' } } }),
    allowed: [200], // an export of B's own people
  },
  'GET /v1/exports/:id': { surface: 'app', path: (n) => `/v1/exports/${n.exportId}`, allowed: [404] },
  'GET /v1/exports/:id/download': {
    surface: 'app',
    path: (n) => `/v1/exports/${n.exportId}/download`,
    allowed: [404],
  },
  'GET /v1/duplicates': { surface: 'app', path: () => '/v1/duplicates?by=email', allowed: [200] },
  'POST /v1/duplicates/resolve': {
    surface: 'app',
    path: () => '/v1/duplicates/resolve',
    body: () => ({ by: 'email', keep: 'oldest', action: 'delete', dry_run: true }),
    allowed: [200],
  },
  'GET /v1/suppressions': { surface: 'app', path: () => '/v1/suppressions', allowed: [200] },
  'DELETE /v1/suppressions/:type/:value': {
    surface: 'app',
    path: (n) => `/v1/suppressions/email/${encodeURIComponent(n.suppressedEmail)}`,
    allowed: [404], // A's suppression is A's: B has none to remove
  },
  'GET /v1/objects/:type/:id': {
    surface: 'app',
    path: (n) => `/v1/objects/${n.typeId}/${n.objectId}`,
    allowed: [404],
  },
  'GET /v1/objects/:type/:id/relationships': {
    surface: 'app',
    path: (n) => `/v1/objects/${n.typeId}/${n.objectId}/relationships`,
    allowed: [404],
  },
};

/** Values only A ever sent: none may appear in an answer to B, or anywhere in B's workspace. */
const privateValues = ['a-private-value', 'a-private-event', 'a-private-object', 'a-private-ref', 'a-private-rel'];

const basic = (user: string, password = '') => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
const sign = (secret: string, body: string) => createHmac('sha1', secret).update(body, 'utf8').digest('hex');

let server: TestServer;
let a: TestWorkspace;
let b: TestWorkspace;
let names: Names;
beforeAll(async () => {
  server = await startServer();
  a = await server.workspace();
  b = await server.workspace();
  const ok = (r: Reply) => expect([200, 409], JSON.stringify(r.body)).toContain(r.status);
  ok(await a.identify('xw-a', { email: 'xw-a@example.com', secret: 'a-private-value' }));
  ok(await a.track('xw-a', { name: 'a-private-event', data: { x: 'a-private-value' } }));
  ok(await a.addDevice('xw-a', { id: 'xw-token', platform: 'ios' }));
  ok(
    await a.entity({
      type: 'object',
      action: 'identify',
      identifiers: { object_type_id: '1', object_id: 'xw-acme' },
      attributes: { secret: 'a-private-object' },
      cio_relationships: [{ identifiers: { id: 'xw-a' }, relationship_attributes: { r: 'a-private-rel' } }],
    }),
  );
  // A rule C refusal, so A's integration log has an entry naming a-private-ref.
  ok(await a.identify('a-private-ref', { email: 'xw-a@example.com' }));
  // A suppressed someone, and keeps a manual segment holding xw-a and a finished export.
  ok(await a.identify('xw-gone', { email: 'xw-gone@example.com' }));
  ok(await a.request('POST', '/api/v1/customers/xw-gone/suppress', {}));
  const segment = await a.app('POST', '/v1/segments', { segment: { name: 'a-private-value segment' } });
  expect(segment.status).toBe(200);
  const segmentId = segment.body.segment.id as number;
  ok(await a.request('POST', `/api/v1/segments/${segmentId}/add_customers`, { ids: ['xw-a'] }));
  const exported = await a.app('POST', '/v1/exports/customers', { filters: { and: [] } });
  expect(exported.status, JSON.stringify(exported.body)).toBe(200);
  const exportId = exported.body.export.id as number;
  for (let i = 0; i < 200 && (await a.app('GET', `/v1/exports/${exportId}`)).body.export.status === 'pending'; i++)
    await new Promise((r) => setTimeout(r, 50));
  const person = await a.person('xw-a');
  names = {
    cio: person.identifiers.cio_id,
    id: 'xw-a',
    email: 'xw-a@example.com',
    typeId: '1',
    objectId: 'xw-acme',
    token: 'xw-token',
    suppressedEmail: 'xw-gone@example.com',
    segmentId,
    exportId,
  };
});
afterAll(async () => {
  await server?.close();
});

/** A's integration log, as A's own App API lists it. */
async function logOf(ws: TestWorkspace) {
  const r = await ws.app('GET', '/v1/activities?limit=100');
  expect(r.status).toBe(200);
  return r.body.activities as unknown[];
}

describe('cross-workspace access', () => {
  it('every route the app serves is in the table, and every table entry is a route', () => {
    const served = listRoutes(server.roster.app).map((r) => `${r.method} ${r.url}`);
    expect(served.length).toBeGreaterThan(20);
    expect(
      served.filter((k) => !(k in table)),
      'routes missing from the cross-workspace table',
    ).toEqual([]);
    expect(
      Object.keys(table).filter((k) => !served.includes(k)),
      'table entries that are not routes',
    ).toEqual([]);
  });

  it("no credentials of B, or mixed, reach A's data; A is unchanged", async () => {
    await recorded(
      { suite: 'cross-workspace', test: 'every route: mixed credentials 401, B cannot see or change A' },
      async (size) => {
        const before = await server.dump(a);
        const logBefore = await logOf(a);
        const problems: unknown[] = [];
        let requests = 0;
        const routes = listRoutes(server.roster.app);

        for (const { method, url } of routes) {
          const c = table[`${method} ${url}`]!;
          if (c.surface === 'public') continue;
          const path = c.path(names);
          const raw = c.body === undefined ? undefined : JSON.stringify(c.body(names));
          const send = async (
            label: string,
            auth: string | null,
            extra: { path?: string; signature?: string } = {},
          ) => {
            requests++;
            const res = await fetch(server.base + (extra.path ?? path), {
              method,
              headers: {
                ...(auth ? { authorization: auth } : {}),
                ...(raw !== undefined ? { 'content-type': 'application/json' } : {}),
                ...(extra.signature ? { 'x-signature': extra.signature } : {}),
              },
              body: raw,
            });
            const text = await res.text();
            return { label, status: res.status, text };
          };

          // Mixed or wrong-kind credentials: 401, whatever the surface.
          const bad: Promise<{ label: string; status: number; text: string }>[] = [];
          const A = a.creds;
          const B = b.creds;
          if (c.surface === 'track')
            bad.push(
              send("A's site id, B's track key", basic(A.site_id, B.track_api_key)),
              send("B's site id, A's track key", basic(B.site_id, A.track_api_key)),
              send("A's app key as Bearer", `Bearer ${A.app_api_key}`),
              send("A's write key as Basic", basic(A.segment_write_key)),
              send("A's site id and app key", basic(A.site_id, A.app_api_key)),
              send('no credentials', null),
            );
          if (c.surface === 'app')
            bad.push(
              send("A's track key as Bearer", `Bearer ${A.track_api_key}`),
              send("A's write key as Bearer", `Bearer ${A.segment_write_key}`),
              send("A's site id and track key as Basic", basic(A.site_id, A.track_api_key)),
              send('no credentials', null),
            );
          if (c.surface === 'segment' || c.surface === 'webhook')
            bad.push(
              send("A's track key as write key", basic(A.track_api_key)),
              send("A's app key as write key", basic(A.app_api_key)),
              send("A's site id as write key", basic(A.site_id)),
              send('no credentials', null),
            );
          if (c.surface === 'webhook')
            bad.push(
              send("B's signature for A's site id", null, {
                path: `${path}?site_id=${A.site_id}`,
                signature: sign(B.webhook_secret, raw!),
              }),
              send("A's signature for B's site id", null, {
                path: `${path}?site_id=${B.site_id}`,
                signature: sign(A.webhook_secret, raw!),
              }),
            );
          for (const r of await Promise.all(bad))
            if (r.status !== 401)
              problems.push({ route: `${method} ${url}`, case: r.label, status: r.status, body: r.text });

          // B's own, valid credentials naming A's things.
          const bAuth = c.surface === 'track' ? b.trackAuth : c.surface === 'app' ? b.appAuth : b.writeKeyAuth; // webhook: write key
          const good = [await send("B's credentials", bAuth)];
          if (c.surface === 'webhook')
            good.push(
              await send("B's signature", null, {
                path: `${path}?site_id=${B.site_id}`,
                signature: sign(B.webhook_secret, raw!),
              }),
            );
          for (const r of good) {
            // B's own integration log echoes the references B sent; every other answer must not name A's cio_id.
            const echoes = url.startsWith('/v1/activities') || url === '/v1/customers/delete'; // names what B sent
            const leaked = privateValues
              .filter((v) => r.text.includes(v))
              .concat(!echoes && c.surface === 'app' && r.text.includes(names.cio) ? ['cio_id'] : []);
            if (!c.allowed.includes(r.status) || leaked.length > 0)
              problems.push({
                route: `${method} ${url}`,
                case: r.label,
                status: r.status,
                leaked,
                body: r.text.slice(0, 300),
              });
            const found = JSON.parse(r.text) as { results?: unknown[]; ids?: unknown[] };
            if (url === '/v1/customers' && (method === 'GET' ? found.results : found.ids)?.length !== 0)
              problems.push({ route: `${method} ${url}`, problem: "B's lookup found A's person", body: r.text });
          }
        }

        Object.assign(size, { routes: routes.length, requests });
        expect(problems).toEqual([]);
        // A unchanged: every row, and its integration log.
        expect(await server.dump(a)).toEqual(before);
        expect(await logOf(a)).toEqual(logBefore);
        // Nothing of A's in B.
        const inB = JSON.stringify([await server.dump(b), await logOf(b)]);
        expect(privateValues.filter((v) => inB.includes(v))).toEqual([]);
        expect(JSON.stringify(await server.dump(b)).includes(names.cio), "A's cio_id in B's rows").toBe(false);
        Object.assign(size, { routes: routes.length, requests });
      },
    );
  });
});
