import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOpsServer, type OpsServer } from '../helpers/ops-server.js';
import type { TestWorkspace } from '../helpers/roster-server.js';

/** Makes one call of every kind that carries credentials or personal data. */
async function exercise(server: OpsServer, ws: TestWorkspace) {
  const person = { id: 'person-id-7731', email: 'secret.person@example.com', attr: 'attr-value-q9z' };
  expect((await ws.identify(person.id, { email: person.email, plan: person.attr })).status).toBe(200);
  expect((await ws.track(person.id, { name: 'purchase', data: { sku: 'sku-secret-55' } })).status).toBe(200);
  expect((await ws.entity({ type: 'person', action: 'identify', identifiers: { id: 'v2-id-4410' } })).status).toBe(200);
  expect(
    (await ws.segment('/v1/identify', { userId: 'seg-id-8812', traits: { email: 'seg@example.com' } })).status,
  ).toBe(200);
  expect(
    (await ws.segment('/v1/track', { userId: 'seg-id-8812', event: 'E', writeKey: ws.creds.segment_write_key }, null))
      .status,
  ).toBe(200);
  const text = JSON.stringify({ type: 'identify', userId: 'hook-id-3301' });
  const signature = createHmac('sha1', ws.creds.webhook_secret).update(text).digest('hex');
  const hook = await fetch(`${server.base}/segment/webhook?site_id=${ws.creds.site_id}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-signature': signature },
    body: text,
  });
  expect(hook.status).toBe(200);
  expect((await ws.person(person.id)).attributes.plan).toBe(person.attr);
  expect(await ws.byEmail(person.email)).toHaveLength(1);
  // A refused call (rule C) and a failed authentication are logged too, if at all, without data.
  await ws.identify('someone-else-2290', { email: person.email });
  await ws.request('GET', '/auth', undefined, `Basic ${Buffer.from('site:bad-key-7781').toString('base64')}`);
  return { person, signature };
}

const credentialsOf = (ws: TestWorkspace, signature: string) => [
  ws.creds.track_api_key,
  ws.creds.app_api_key,
  ws.creds.segment_write_key,
  ws.creds.webhook_secret,
  signature,
  ws.trackAuth.slice(6),
  'bad-key-7781',
];

describe('logs at info level', () => {
  let server: OpsServer;
  let ws: TestWorkspace;
  let exercised: Awaited<ReturnType<typeof exercise>>;
  beforeAll(async () => {
    server = await startOpsServer({ logLevel: 'info' });
    ws = await server.workspace();
    exercised = await exercise(server, ws);
  });
  afterAll(() => server.close());

  it('are JSON lines with a request id, the route pattern and the status', () => {
    const lines = server.logLines();
    const incoming = lines.find((l) => l.msg === 'incoming request' && (l.req as { route?: string }).route);
    expect(incoming).toMatchObject({ level: 30, reqId: expect.any(String), req: { method: 'PUT' } });
    expect(lines.some((l) => (l.req as { route?: string } | undefined)?.route === '/api/v1/customers/:ref')).toBe(true);
    expect(
      lines.some((l) => l.msg === 'request completed' && (l.res as { statusCode: number }).statusCode === 409),
    ).toBe(true);
  });

  it('hold no personal data: no ids, emails, attribute values or bodies', () => {
    const text = server.logText();
    for (const secret of [
      exercised.person.id,
      exercised.person.email,
      exercised.person.attr,
      'secret.person',
      'sku-secret-55',
      'v2-id-4410',
      'seg-id-8812',
      'seg@example.com',
      'hook-id-3301',
      'someone-else-2290',
    ])
      expect(text).not.toContain(secret);
  });

  it('hold no credentials', () => {
    const text = server.logText();
    for (const secret of credentialsOf(ws, exercised.signature)) expect(text).not.toContain(secret);
  });

  it('leave out health checks and metric scrapes', async () => {
    for (const path of ['/healthz', '/readyz', '/metrics'])
      expect((await fetch(server.base + path, { headers: { 'x-request-id': `probe${path}` } })).status).toBe(200);
    await fetch(`${server.base}/auth`, { headers: { 'x-request-id': 'probe-after' } });
    const ids = server.logLines().map((l) => l.reqId);
    expect(ids).toContain('probe-after');
    expect(ids.filter((id) => String(id).startsWith('probe/'))).toEqual([]);
  });
});

describe('logs at trace level (everything Roster logs)', () => {
  let server: OpsServer;
  let ws: TestWorkspace;
  let signature: string;
  beforeAll(async () => {
    server = await startOpsServer({ logLevel: 'trace' });
    ws = await server.workspace();
    ({ signature } = await exercise(server, ws));
  });
  afterAll(() => server.close());

  it('still hold no credentials', () => {
    const text = server.logText();
    expect(text).toContain('/api/v1/customers/person-id-7731');
    for (const secret of credentialsOf(ws, signature)) expect(text).not.toContain(secret);
  });

  it('log the URL at trace, with signature-like query values removed', async () => {
    await fetch(`${server.base}/v1/customers?email=trace%40example.com&sig=leaked-sig-1&api_key=leaked-key-2`, {
      headers: { authorization: ws.appAuth },
    });
    const text = server.logText();
    expect(text).toContain('sig=[redacted]');
    expect(text).toContain('api_key=[redacted]');
    expect(text).not.toMatch(/leaked-(sig|key)/);
  });

  it('redact credentials that code logs by mistake: headers, keys, secrets', () => {
    server.roster.app.log.info(
      {
        req: { headers: { authorization: 'Bearer leak-1', 'x-signature': 'leak-2' } },
        headers: { authorization: 'Basic leak-3' },
        creds: { track_api_key: 'leak-4', webhook_secret: 'leak-5' },
        body: { writeKey: 'leak-6' },
      },
      'oops',
    );
    const line = server.logLines().find((l) => l.msg === 'oops')!;
    expect(JSON.stringify(line)).not.toMatch(/leak-/);
    expect(JSON.stringify(line)).toContain('[redacted]');
  });
});

describe('request ids', () => {
  let server: OpsServer;
  let ws: TestWorkspace;
  beforeAll(async () => {
    server = await startOpsServer({ logLevel: 'info' });
    ws = await server.workspace();
  });
  afterAll(() => server.close());

  it('an incoming X-Request-Id is echoed and logged', async () => {
    const res = await fetch(`${server.base}/auth`, {
      headers: { authorization: ws.trackAuth, 'x-request-id': 'trace-abc-123' },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-request-id')).toBe('trace-abc-123');
    const mine = server.logLines().filter((l) => l.reqId === 'trace-abc-123');
    expect(mine.map((l) => l.msg)).toEqual(['incoming request', 'request completed']);
  });

  it('without one (or with an unusable one) a fresh id is made, also for errors and unknown routes', async () => {
    const a = await fetch(`${server.base}/auth`);
    const b = await fetch(`${server.base}/no/such/route`, { headers: { 'x-request-id': 'x'.repeat(500) } });
    const c = await fetch(`${server.base}/healthz`, { headers: { 'x-request-id': 'bad id\twith spaces' } });
    const ids = [a, b, c].map((r) => r.headers.get('x-request-id'));
    expect(a.status).toBe(401);
    expect(b.status).toBe(404);
    const bad = await fetch(`${server.base}/api/v1/customers/%E0%A4%A`, { headers: { 'x-request-id': 'bad-url-1' } });
    expect(bad.status).toBe(400);
    expect(bad.headers.get('x-request-id')).toBe('bad-url-1');
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-z]+$/);
    expect(new Set(ids).size).toBe(3);
  });
});
