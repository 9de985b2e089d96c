import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer, type TestWorkspace } from '../helpers/roster-server.js';

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server.close());

let n = 0;
const mid = () => `msg-${++n}-${Math.random().toString(36).slice(2)}`;
const t = '2026-01-02T03:04:05.000Z';
const tUnix = Math.floor(Date.parse(t) / 1000);

async function eventsOf(ws: TestWorkspace, ref: string, idType = 'id') {
  const body = await ws.activities(ref, '&limit=100', idType);
  return (body.activities as { type: string; name: string; data: Record<string, unknown> }[]).filter((a) =>
    ['event', 'page', 'screen'].includes(a.type),
  );
}

describe('Segment tracking API: answers and limits', () => {
  it('accepts a call with the write key as Basic user or in the body, and answers {"success":true}', async () => {
    const ws = await server.workspace();
    const a = await ws.segment('/v1/identify', { userId: 'u1', traits: { plan: 'pro' }, messageId: mid() });
    expect(a).toEqual({ status: 200, body: { success: true } });
    const b = await ws.segment(
      '/v1/track',
      { userId: 'u1', event: 'Clicked', writeKey: ws.creds.segment_write_key, messageId: mid() },
      null,
    );
    expect(b.status).toBe(200);
    expect((await ws.person('u1')).attributes.plan).toBe('pro');
    expect((await eventsOf(ws, 'u1')).map((e) => e.name)).toEqual(['Clicked']);
  });

  it('401 for a missing or wrong write key, and for another surface’s key; nothing is stored', async () => {
    const ws = await server.workspace();
    for (const auth of [null, `Basic ${Buffer.from('wk_wrong:').toString('base64')}`, ws.trackAuth]) {
      const r = await ws.segment('/v1/identify', { userId: 'nope', traits: {} }, auth);
      expect(r.status).toBe(401);
      expect(r.body.success).toBe(false);
    }
    expect(await ws.person('nope')).toBeNull();
  });

  it('400 invalid_request for bad JSON, a message over 32 KB, a batch over 2,500 messages', async () => {
    const ws = await server.workspace();
    const bad = await ws.send('POST', '/v1/track', { body: '{nope', auth: ws.writeKeyAuth });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ success: false, code: 'invalid_request' });
    const big = await ws.segment('/v1/identify', { userId: 'big', traits: { x: 'y'.repeat(33 * 1024) } });
    expect(big.status).toBe(400);
    const tooMany = await ws.segment('/v1/batch', {
      batch: Array.from({ length: 2501 }, (_, i) => ({ type: 'track', userId: `m${i}`, event: 'E' })),
    });
    expect(tooMany.status).toBe(400);
    const inBatch = await ws.segment('/v1/batch', {
      batch: [
        { type: 'identify', userId: 'ok' },
        { type: 'identify', userId: 'big', traits: { x: 'y'.repeat(33 * 1024) } },
      ],
    });
    expect(inBatch.status).toBe(400);
    // Batch-level context counts in each message it merges into: 20 KB of it and 15 KB of traits are over 32 KB.
    const merged = await ws.segment('/v1/batch', {
      context: { note: 'c'.repeat(20 * 1024) },
      batch: [{ type: 'identify', userId: 'ok', traits: { x: 'y'.repeat(15 * 1024) } }],
    });
    expect(merged.status).toBe(400);
    // A whole body under 32 KB holds no message over it.
    const small = await ws.segment('/v1/batch', {
      context: { note: 'c'.repeat(30 * 1024) },
      batch: [{ type: 'identify', userId: 'small', traits: { plan: 'pro' } }],
    });
    expect(small.status).toBe(200);
    expect(await ws.person('small')).not.toBeNull();
    expect(await ws.person('ok')).toBeNull();
    expect(await ws.person('m0')).toBeNull();
  });

  it('a dropped message (no identifier, bad email) still answers 200 and shows in the integration log', async () => {
    const ws = await server.workspace();
    expect((await ws.segment('/v1/identify', { traits: { plan: 'x' }, messageId: mid() })).status).toBe(200);
    expect((await ws.segment('/v1/identify', { userId: 'e1', traits: { email: 'not-an-email' } })).status).toBe(200);
    expect(await ws.person('e1')).toBeNull();
    const log = await ws.app('GET', '/v1/activities?limit=100');
    expect(log.status).toBe(200);
    const outcomes = (log.body.activities as { type: string }[]).map((a) => a.type);
    expect(outcomes).toEqual(expect.arrayContaining(['no_identifier', 'invalid_email']));
  });

  it('messageId deduplicates every call type', async () => {
    const ws = await server.workspace();
    const id = mid();
    await ws.segment('/v1/identify', { userId: 'd1', traits: { n: 1 }, messageId: id });
    await ws.segment('/v1/identify', { userId: 'd1', traits: { n: 2 }, messageId: id });
    expect((await ws.person('d1')).attributes.n).toBe('1');
    const tid = mid();
    await ws.segment('/v1/batch', { batch: [{ type: 'track', userId: 'd1', event: 'E', messageId: tid }] });
    await ws.segment('/v1/track', { userId: 'd1', event: 'E', messageId: tid });
    expect(await eventsOf(ws, 'd1')).toHaveLength(1);
  });

  it('batch-level context and integrations merge into each message', async () => {
    const ws = await server.workspace();
    await ws.segment('/v1/batch', {
      context: { device: { token: 'tok-b', type: 'ios' }, app: { version: '9.1' } },
      batch: [{ type: 'track', userId: 'cb', event: 'Application Installed', messageId: mid() }],
    });
    const p = await ws.person('cb');
    expect(p.devices).toEqual([expect.objectContaining({ id: 'tok-b', platform: 'ios' })]);
    expect(p.devices[0].attributes.app_version).toBe('9.1');
  });

  it('/v1/import is a batch alias', async () => {
    const ws = await server.workspace();
    await ws.segment('/v1/import', { batch: [{ type: 'identify', userId: 'imp', traits: { a: 1 } }] });
    expect((await ws.person('imp')).attributes.a).toBe('1');
  });

  it('429 with Retry-After when the workspace is over its rate limit', async () => {
    const limited = await startServerWithLimit(3);
    try {
      const ws = await limited.workspace();
      const answers = [];
      for (let i = 0; i < 8; i++) answers.push(await ws.segment('/v1/track', { userId: 'r', event: 'E' }));
      expect(answers.some((a) => a.status === 429)).toBe(true);
      const res = await fetch(`${limited.base}/v1/track`, {
        method: 'POST',
        headers: { authorization: ws.writeKeyAuth, 'content-type': 'application/json' },
        body: JSON.stringify({ userId: 'r', event: 'E' }),
      });
      if (res.status === 429) expect(res.headers.get('retry-after')).toBe('1');
    } finally {
      await limited.close();
    }
  });
});

async function startServerWithLimit(perSecond: number): Promise<TestServer> {
  const before = process.env.ROSTER_SEGMENT_RATE_LIMIT;
  process.env.ROSTER_SEGMENT_RATE_LIMIT = String(perSecond);
  try {
    return await startServer();
  } finally {
    if (before === undefined) delete process.env.ROSTER_SEGMENT_RATE_LIMIT;
    else process.env.ROSTER_SEGMENT_RATE_LIMIT = before;
  }
}

describe('Segment mapping (segment-mapping.md), one row each', () => {
  it('identify with userId: traits become attributes, createdAt → created_at, ISO dates → unix seconds', async () => {
    const ws = await server.workspace();
    await ws.segment('/v1/identify', {
      userId: 'userId123',
      traits: { email: 'john.doe@example.com', createdAt: t, trial_ends: t, phone: '555-123-4567' },
      timestamp: t,
    });
    const p = await ws.person('userId123');
    expect(p.identifiers.email).toBe('john.doe@example.com');
    expect(p.attributes.created_at).toBe(String(tUnix));
    expect(p.attributes.trial_ends).toBe(String(tUnix));
    expect(p.attributes.phone).toBe('555-123-4567');
  });

  it('identify with empty userId and an email trait makes a lead; a later userId converts it', async () => {
    const ws = await server.workspace();
    await ws.segment('/v1/identify', { userId: '', traits: { email: 'person@example.com', first_name: 'person' } });
    const lead = await ws.person('person@example.com', 'email');
    expect(lead.identifiers.id).toBeNull();
    await ws.segment('/v1/identify', {
      userId: 'userId123',
      traits: { email: 'person@example.com', account_created: 1 },
    });
    const customer = await ws.person('userId123');
    expect(customer.identifiers.cio_id).toBe(lead.identifiers.cio_id);
    expect(customer.attributes.first_name).toBe('person');
  });

  it('identify with cio_ reference changes id and email', async () => {
    const ws = await server.workspace();
    await ws.segment('/v1/identify', { userId: 'old', traits: { email: 'old@example.com' } });
    const cio = (await ws.person('old')).identifiers.cio_id;
    await ws.segment('/v1/identify', { userId: `cio_${cio}`, traits: { id: 'new-id', email: 'new@example.com' } });
    const p = await ws.person('new-id');
    expect(p.identifiers).toEqual({ id: 'new-id', email: 'new@example.com', cio_id: cio });
  });

  it('identify with unsubscribed: true unsubscribes', async () => {
    const ws = await server.workspace();
    await ws.segment('/v1/identify', { userId: 'uns', traits: { email: 'uns@example.com', unsubscribed: true } });
    expect((await ws.person('uns')).unsubscribed).toBe(true);
  });

  it('timestamp conversion follows segment_convert_timestamps', async () => {
    const ws = await server.workspace();
    const { workspacesStore } = await import('../../src/store/workspaces.js');
    const rec = await workspacesStore.byPublicId(server.roster.store.writer, ws.creds.workspace_id);
    await workspacesStore.update(server.roster.store.writer, rec!.pk, { segmentConvertTimestamps: false });
    await new Promise((r) => setTimeout(r, 2100)); // the auth cache holds settings for 2 s
    await ws.segment('/v1/identify', { userId: 'nc', traits: { trial_ends: t } });
    expect((await ws.person('nc')).attributes.trial_ends).toBe(t);
  });

  it('anonymous track, page and screen join the profile when identify carries the anonymousId', async () => {
    const ws = await server.workspace();
    await ws.segment('/v1/batch', {
      batch: [
        {
          type: 'track',
          anonymousId: 'anon-1',
          event: 'Viewed Pricing',
          properties: { plan: 'pro' },
          messageId: mid(),
        },
        { type: 'page', anonymousId: 'anon-1', name: 'Home', properties: { url: 'https://ex.com/' }, messageId: mid() },
        { type: 'screen', anonymousId: 'anon-1', name: 'Settings', messageId: mid() },
      ],
    });
    await ws.segment('/v1/identify', { userId: 'joined', anonymousId: 'anon-1', traits: { email: 'j@example.com' } });
    await ws.segment('/v1/track', { anonymousId: 'anon-1', event: 'After Link', messageId: mid() });
    const events = await eventsOf(ws, 'joined');
    expect(events.map((e) => `${e.type}:${e.name}`).sort()).toEqual(
      ['event:After Link', 'event:Viewed Pricing', 'page:https://ex.com/', 'screen:Settings'].sort(),
    );
  });

  it('page is named by properties.url, else context.page.url, else name', async () => {
    const ws = await server.workspace();
    await ws.segment('/v1/page', { userId: 'pg', name: 'N', properties: { url: 'https://a/' }, messageId: mid() });
    await ws.segment('/v1/page', {
      userId: 'pg',
      name: 'N',
      context: { page: { url: 'https://b/' } },
      messageId: mid(),
    });
    await ws.segment('/v1/page', { userId: 'pg', name: 'Only Name', messageId: mid() });
    expect((await eventsOf(ws, 'pg')).map((e) => e.name).sort()).toEqual(
      ['https://a/', 'https://b/', 'Only Name'].sort(),
    );
  });

  it('track: event named `event`, data = properties, id = messageId', async () => {
    const ws = await server.workspace();
    const id = mid();
    await ws.segment('/v1/track', {
      userId: 'tr',
      event: 'Order Completed',
      properties: { total: 9.5, at: t },
      messageId: id,
      timestamp: t,
    });
    const [e] = await eventsOf(ws, 'tr');
    expect(e).toMatchObject({ type: 'event', name: 'Order Completed', timestamp: tUnix });
    expect(e!.data).toMatchObject({ total: 9.5, at: tUnix });
  });

  it('Application Installed/Opened add a device and record the event; Application Uninstalled removes it', async () => {
    const ws = await server.workspace();
    const ctx = { device: { token: 'tok-1', type: 'android' }, app: { version: '1.2' } };
    await ws.segment('/v1/track', { userId: 'dev', event: 'Application Installed', context: ctx, messageId: mid() });
    expect((await ws.person('dev')).devices.map((d: { id: string }) => d.id)).toEqual(['tok-1']);
    expect((await eventsOf(ws, 'dev')).map((e) => e.name)).toEqual(['Application Installed']);
    await ws.segment('/v1/track', { userId: 'dev', event: 'Application Uninstalled', context: ctx, messageId: mid() });
    expect((await ws.person('dev')).devices).toEqual([]);
  });

  it('User Deleted, User Suppressed and User Unsuppressed delete, suppress and unsuppress', async () => {
    const ws = await server.workspace();
    await ws.segment('/v1/identify', { userId: 'gone', traits: { email: 'gone@example.com' } });
    await ws.segment('/v1/track', { userId: 'gone', event: 'User Deleted', messageId: mid() });
    expect(await ws.person('gone')).toBeNull();

    await ws.segment('/v1/identify', { userId: 'sup', traits: { email: 'sup@example.com' } });
    await ws.segment('/v1/track', { userId: 'sup', event: 'User Suppressed', messageId: mid() });
    await ws.segment('/v1/identify', { userId: 'sup', traits: { email: 'sup@example.com' }, messageId: mid() });
    expect(await ws.person('sup')).toBeNull();
    await ws.segment('/v1/track', { userId: 'sup', event: 'User Unsuppressed', messageId: mid() });
    await ws.segment('/v1/identify', { userId: 'sup', traits: {}, messageId: mid() });
    expect(await ws.person('sup')).not.toBeNull();
  });

  it('a Segment deletion regulation (type "delete") deletes the person', async () => {
    const ws = await server.workspace();
    await ws.segment('/v1/identify', { userId: '507f191e81', traits: { a: 1 } });
    await ws.segment('/segment/webhook', {
      type: 'delete',
      channel: 'server',
      userId: '507f191e81',
      context: null,
      integrations: null,
      messageId: 'delete-reg-6543321::job-2-P0OJ3CTID1',
    });
    expect(await ws.person('507f191e81')).toBeNull();
  });

  it('alias: previousId naming a person merges them into userId', async () => {
    const ws = await server.workspace();
    await ws.segment('/v1/identify', { userId: 'old-u1', traits: { legacy: true, unsubscribed: true } });
    await ws.segment('/v1/track', { userId: 'old-u1', event: 'Old Event', messageId: mid() });
    await ws.segment('/v1/identify', { userId: 'u1', traits: { plan: 'pro' } });
    await ws.segment('/v1/alias', { userId: 'u1', previousId: 'old-u1' });
    expect(await ws.person('old-u1')).toBeNull();
    const p = await ws.person('u1');
    expect(p.attributes).toMatchObject({ plan: 'pro', legacy: 'true' });
    expect(p.unsubscribed).toBe(true);
    expect((await eventsOf(ws, 'u1')).map((e) => e.name)).toEqual(['Old Event']);
  });

  it('alias: previousId naming a person when userId names no one gives that person the id', async () => {
    const ws = await server.workspace();
    await ws.segment('/v1/identify', { userId: 'before', traits: { x: 1 } });
    const cio = (await ws.person('before')).identifiers.cio_id;
    await ws.segment('/v1/alias', { userId: 'after', previousId: 'before' });
    expect((await ws.person('after')).identifiers.cio_id).toBe(cio);
    expect(await ws.person('before')).toBeNull();
  });

  it('alias: previousId naming no one is linked as an anonymous id of userId', async () => {
    const ws = await server.workspace();
    await ws.segment('/v1/track', { anonymousId: 'anon-x', event: 'Before Signup', messageId: mid() });
    await ws.segment('/v1/alias', { userId: 'signed', previousId: 'anon-x' });
    expect((await eventsOf(ws, 'signed')).map((e) => e.name)).toEqual(['Before Signup']);
  });

  it('identify with neither userId nor email is dropped', async () => {
    const ws = await server.workspace();
    await ws.segment('/v1/identify', { anonymousId: 'only-anon', traits: { plan: 'x' } });
    expect(await ws.byEmail('x@example.com')).toEqual([]);
  });
});

describe('Segment Webhooks destination: /segment/webhook', () => {
  const sign = (secret: string, text: string) => createHmac('sha1', secret).update(text).digest('hex');

  it('takes one message or an array, with the write key in Authorization', async () => {
    const ws = await server.workspace();
    const one = await ws.segment('/segment/webhook', { type: 'identify', userId: 'w1', traits: { a: 1 } });
    expect(one).toEqual({ status: 200, body: { success: true } });
    const many = await ws.segment('/segment/webhook', [
      { type: 'identify', userId: 'w2', traits: {} },
      { type: 'track', userId: 'w2', event: 'E', messageId: mid() },
    ]);
    expect(many.status).toBe(200);
    expect(await ws.person('w1')).not.toBeNull();
    expect(await eventsOf(ws, 'w2')).toHaveLength(1);
  });

  it('accepts X-Signature over the body, and over the first event of an array (Webhooks Actions quirk)', async () => {
    const ws = await server.workspace();
    const secret = ws.creds.webhook_secret;
    const single = JSON.stringify({ type: 'identify', userId: 's1', traits: {} });
    const path = `/segment/webhook?site_id=${ws.creds.site_id}`;
    const a = await ws.send('POST', path, { body: single, auth: null });
    expect(a.status).toBe(401);
    const res = await fetch(ws.base + path, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-signature': sign(secret, single) },
      body: single,
    });
    expect(res.status).toBe(200);
    const batch = [
      { type: 'identify', userId: 's2', traits: {} },
      { type: 'identify', userId: 's3', traits: {} },
    ];
    const quirk = await fetch(ws.base + path, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-signature': sign(secret, JSON.stringify(batch[0])) },
      body: JSON.stringify(batch),
    });
    expect(quirk.status).toBe(200);
    expect(await ws.person('s1')).not.toBeNull();
    expect(await ws.person('s3')).not.toBeNull();
  });

  it('a wrong signature, or a right one for another site, gets 401 and stores nothing', async () => {
    const ws = await server.workspace();
    const other = await server.workspace();
    const body = JSON.stringify({ type: 'identify', userId: 'x1', traits: {} });
    for (const [site, secret] of [
      [ws.creds.site_id, 'whsec_wrong'],
      [ws.creds.site_id, other.creds.webhook_secret],
    ]) {
      const res = await fetch(`${ws.base}/segment/webhook?site_id=${site}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-signature': sign(secret!, body) },
        body,
      });
      expect(res.status).toBe(401);
    }
    expect(await ws.person('x1')).toBeNull();
  });
});
