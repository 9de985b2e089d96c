import { createHash, createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOpsServer, type OpsServer } from '../helpers/ops-server.js';
import type { TestWorkspace } from '../helpers/roster-server.js';

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

async function raw(base: string, method: string, path: string, headers: Record<string, string>, body?: unknown) {
  const res = await fetch(base + path, {
    method,
    headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, retryAfter: res.headers.get('retry-after'), body: text ? JSON.parse(text) : undefined };
}

/** Sends `n` requests one after another; they all fit in at most two one-second windows. */
async function burst<T extends { status: number }>(n: number, send: () => Promise<T>): Promise<T[]> {
  const answers: T[] = [];
  for (let i = 0; i < n; i++) answers.push(await send());
  return answers;
}

describe('keys at rest', () => {
  let server: OpsServer;
  beforeAll(async () => (server = await startOpsServer()));
  afterAll(() => server.close());

  it('stores API keys as SHA-256 digests and the webhook secret sealed, never in plaintext', async () => {
    const ws = await server.workspace();
    const db = server.roster.store.reader;
    const keys = await db.selectFrom('api_keys').select(['kind', 'key_hash']).execute();
    const stored = JSON.stringify(await db.selectFrom('workspaces').selectAll().execute()) + JSON.stringify(keys);
    for (const secret of [ws.creds.track_api_key, ws.creds.app_api_key, ws.creds.segment_write_key])
      expect(keys.map((k) => k.key_hash)).toContain(sha256(secret));
    for (const secret of [
      ws.creds.track_api_key,
      ws.creds.app_api_key,
      ws.creds.segment_write_key,
      ws.creds.webhook_secret,
    ])
      expect(stored).not.toContain(secret);
  });
});

describe('rate limits per workspace (ROSTER_RATE_LIMIT), every API', () => {
  let server: OpsServer;
  let ws: TestWorkspace;
  beforeAll(async () => {
    server = await startOpsServer({ env: { ROSTER_RATE_LIMIT: '3' } });
    ws = await server.workspace();
  });
  afterAll(() => server.close());

  it('Track API v1: 429 rate_limited in its own shape, with Retry-After', async () => {
    const answers = await burst(8, () => ws.identify('rl-v1', { a: 1 }));
    const refused = answers.filter((a) => a.status === 429);
    expect(refused.length).toBeGreaterThan(0);
    expect(refused[0]).toMatchObject({ body: { meta: { code: 'rate_limited' } } });
    const last = await burst(6, () => raw(server.base, 'GET', '/auth', { authorization: ws.trackAuth }));
    expect(last.find((a) => a.status === 429)?.retryAfter).toBe('1');
  });

  it('Track API v2', async () => {
    const answers = await burst(8, () => ws.entity({ type: 'person', action: 'identify', identifiers: { id: 'v2' } }));
    const refused = answers.find((a) => a.status === 429);
    expect(refused?.body).toEqual({ errors: [expect.objectContaining({ reason: 'rate_limited' })] });
  });

  it('App API', async () => {
    const answers = await burst(8, () => ws.app('GET', '/v1/customers?email=a%40b.co'));
    const refused = answers.find((a) => a.status === 429);
    expect(refused?.body).toEqual({ errors: [expect.objectContaining({ code: 'rate_limited', status: '429' })] });
  });

  it('Segment, with the write key in the header or in the body', async () => {
    const header = await burst(8, () => ws.segment('/v1/track', { userId: 's', event: 'E' }));
    expect(header.find((a) => a.status === 429)?.body).toMatchObject({ success: false, code: 'rate_limited' });
    const body = await burst(8, () =>
      ws.segment('/v1/track', { userId: 's', event: 'E', writeKey: ws.creds.segment_write_key }, null),
    );
    expect(body.some((a) => a.status === 429)).toBe(true);
  });

  it('Segment webhook signed with the webhook secret', async () => {
    const text = JSON.stringify({ type: 'track', userId: 'w', event: 'E' });
    const signature = createHmac('sha1', ws.creds.webhook_secret).update(text).digest('hex');
    const answers = await burst(8, () =>
      fetch(`${server.base}/segment/webhook?site_id=${ws.creds.site_id}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-signature': signature },
        body: text,
      }),
    );
    expect(answers.map((a) => a.status)).toContain(429);
  });

  it('one workspace over its limit does not hold back another', async () => {
    const other = await server.workspace();
    await burst(8, () => ws.identify('busy'));
    const r = await other.identify('calm');
    expect(r.status).toBe(200);
  });
});

describe('per-API override (ROSTER_APP_RATE_LIMIT) and per-key limit (ROSTER_KEY_RATE_LIMIT)', () => {
  it('an API with its own number is limited; the others follow ROSTER_RATE_LIMIT (none here)', async () => {
    const server = await startOpsServer({ env: { ROSTER_APP_RATE_LIMIT: '2' } });
    try {
      const ws = await server.workspace();
      const app = await burst(6, () => ws.app('GET', '/v1/customers?email=a%40b.co'));
      expect(app.map((a) => a.status)).toContain(429);
      const track = await burst(6, () => ws.identify('free'));
      expect(track.every((a) => a.status === 200)).toBe(true);
    } finally {
      await server.close();
    }
  });

  it('each credential has its own budget: a rotated key in its grace period and the new key', async () => {
    const server = await startOpsServer({ env: { ROSTER_KEY_RATE_LIMIT: '3' } });
    try {
      const ws = await server.workspace();
      const { workspacesStore } = await import('../../src/store/workspaces.js');
      const record = (await workspacesStore.byPublicId(server.roster.store.writer, ws.creds.workspace_id))!;
      const fresh = await workspacesStore.rotateKeys(server.roster.store.writer, server.roster.masterKey, record, 60);
      const newAuth = `Basic ${Buffer.from(`${fresh.site_id}:${fresh.track_api_key}`).toString('base64')}`;
      for (let attempt = 0; attempt < 5; attempt++) {
        const old = await burst(6, () => raw(server.base, 'GET', '/auth', { authorization: ws.trackAuth }));
        if (!old.some((a) => a.status === 429)) continue;
        // In the same second the old key is spent, the new key still answers.
        const other = await raw(server.base, 'GET', '/auth', { authorization: newAuth });
        expect(other.status).toBe(200);
        return;
      }
      throw new Error('the old key was never limited');
    } finally {
      await server.close();
    }
  });
});

describe('failed authentications per client address (ROSTER_AUTH_FAILURE_LIMIT)', () => {
  let server: OpsServer;
  let ws: TestWorkspace;
  beforeAll(async () => {
    server = await startOpsServer({ env: { ROSTER_AUTH_FAILURE_LIMIT: '5', ROSTER_TRUST_PROXY: 'true' } });
    ws = await server.workspace();
  });
  afterAll(() => server.close());

  const from = (address: string, authorization: string) => ({ 'x-forwarded-for': address, authorization });
  const badTrack = `Basic ${Buffer.from('nope:wrong').toString('base64')}`;

  it('after 5 failures, even good credentials from that address get 429 before they are checked', async () => {
    for (let i = 0; i < 5; i++) {
      const r = await raw(server.base, 'GET', '/auth', from('10.9.0.1', badTrack));
      expect(r.status).toBe(401);
    }
    const track = await raw(server.base, 'GET', '/auth', from('10.9.0.1', ws.trackAuth));
    expect(track.status).toBe(429);
    expect(track.body).toMatchObject({ meta: { code: 'rate_limited' } });
    expect(Number(track.retryAfter)).toBeGreaterThan(0);
    expect(Number(track.retryAfter)).toBeLessThanOrEqual(60);

    const app = await raw(server.base, 'GET', '/v1/customers?email=a%40b.co', from('10.9.0.1', ws.appAuth));
    expect(app.status).toBe(429);
    const segment = await raw(server.base, 'POST', '/v1/track', from('10.9.0.1', ws.writeKeyAuth), {
      userId: 'x',
      event: 'E',
    });
    expect(segment).toMatchObject({ status: 429, body: { code: 'rate_limited' } });
  });

  it('another address is not affected', async () => {
    const r = await raw(server.base, 'GET', '/auth', from('10.9.0.2', ws.trackAuth));
    expect(r.status).toBe(200);
  });

  it('failures on every API count: bad App API keys, bad write keys and bad signatures', async () => {
    const address = '10.9.0.3';
    await raw(server.base, 'GET', '/v1/customers?email=a%40b.co', from(address, 'Bearer app_wrong'));
    await raw(server.base, 'POST', '/v1/track', from(address, `Basic ${Buffer.from('wk_wrong:').toString('base64')}`), {
      userId: 'x',
      event: 'E',
    });
    await raw(
      server.base,
      'POST',
      `/segment/webhook?site_id=${ws.creds.site_id}`,
      {
        'x-forwarded-for': address,
        'x-signature': 'ab'.repeat(20),
      },
      { type: 'track', userId: 'x', event: 'E' },
    );
    await raw(server.base, 'GET', '/auth', from(address, ''));
    const fifth = await raw(server.base, 'GET', '/auth', from(address, badTrack));
    expect(fifth.status).toBe(401);
    const sixth = await raw(server.base, 'GET', '/auth', from(address, ws.trackAuth));
    expect(sixth.status).toBe(429);
  });

  it('successful requests do not count', async () => {
    for (let i = 0; i < 8; i++)
      expect((await raw(server.base, 'GET', '/auth', from('10.9.0.4', ws.trackAuth))).status).toBe(200);
  });
});

describe('per-workspace settings (roster workspace set --rate-limit / --key-rate-limit)', () => {
  const settle = () => new Promise((r) => setTimeout(r, 2100)); // the auth cache keeps a workspace for 2 s

  async function recordOf(server: OpsServer, ws: TestWorkspace) {
    const { workspacesStore } = await import('../../src/store/workspaces.js');
    const record = (await workspacesStore.byPublicId(server.roster.store.writer, ws.creds.workspace_id))!;
    return {
      set: (changes: { rateLimit?: number | null; keyRateLimit?: number | null }) =>
        workspacesStore.update(server.roster.store.writer, record.pk, changes),
    };
  }

  it("a workspace's own limit applies to it alone, and `default` (null) returns it to the server's", async () => {
    const server = await startOpsServer();
    try {
      const limited = await server.workspace();
      const free = await server.workspace();
      const settings = await recordOf(server, limited);
      await settings.set({ rateLimit: 2 });
      const answers = await burst(6, () => limited.identify('ws-limited'));
      expect(answers.map((a) => a.status)).toContain(429);
      expect((await burst(6, () => free.identify('ws-free'))).every((a) => a.status === 200)).toBe(true);
      await settings.set({ rateLimit: null });
      await settle();
      expect((await burst(6, () => limited.identify('ws-limited'))).every((a) => a.status === 200)).toBe(true);
    } finally {
      await server.close();
    }
  });

  it('0 lifts the limit for one workspace where the server has one; a per-key limit can be set the same way', async () => {
    const server = await startOpsServer({ env: { ROSTER_RATE_LIMIT: '2' } });
    try {
      const vip = await server.workspace();
      const settings = await recordOf(server, vip);
      await settings.set({ rateLimit: 0 });
      expect(
        (await burst(8, () => vip.app('GET', '/v1/customers?email=a%40b.co'))).every((a) => a.status === 200),
      ).toBe(true);
      await settings.set({ keyRateLimit: 2 });
      await settle();
      const answers = await burst(8, () => vip.app('GET', '/v1/customers?email=a%40b.co'));
      expect(answers.map((a) => a.status)).toContain(429);
    } finally {
      await server.close();
    }
  });

  it('the CLI sets, shows and resets them', async () => {
    const { tempRosterHome, rosterCli } = await import('../helpers/roster-process.js');
    const home = await tempRosterHome('roster-limits-');
    try {
      const created = JSON.parse(
        await rosterCli(home.dataDir, ['workspace', 'create', '--name', 'L', '--json'], home.env),
      );
      const id = created.workspace_id as string;
      await rosterCli(home.dataDir, ['workspace', 'set', id, '--rate-limit', '50', '--key-rate-limit', '0'], home.env);
      let [row] = JSON.parse(await rosterCli(home.dataDir, ['workspace', 'list', '--json'], home.env));
      expect(row).toMatchObject({ rate_limit: 50, key_rate_limit: 0 });
      await rosterCli(home.dataDir, ['workspace', 'set', id, '--rate-limit', 'default'], home.env);
      [row] = JSON.parse(await rosterCli(home.dataDir, ['workspace', 'list', '--json'], home.env));
      expect(row).toMatchObject({ rate_limit: null, key_rate_limit: 0 });
      await expect(
        rosterCli(home.dataDir, ['workspace', 'set', id, '--rate-limit', 'lots'], home.env),
      ).rejects.toMatchObject({ stderr: expect.stringContaining('requests per second') });
    } finally {
      await home.remove();
    }
  });
});
