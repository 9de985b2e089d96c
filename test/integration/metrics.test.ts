import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOpsServer, type OpsServer } from '../helpers/ops-server.js';
import type { TestWorkspace } from '../helpers/roster-server.js';

/** One sample's value from Prometheus' text format, or undefined when the series is absent. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*)(\{([^}]*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const got = Object.fromEntries([...(m[3] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => got[k] === v)) return Number(m[4]);
  }
  return undefined;
}

async function scrape(base: string, auth?: string) {
  const res = await fetch(`${base}/metrics`, { headers: auth ? { authorization: auth } : {} });
  return { status: res.status, type: res.headers.get('content-type'), text: await res.text() };
}

describe('GET /metrics (open: no ROSTER_METRICS_TOKEN)', () => {
  let server: OpsServer;
  let ws: TestWorkspace;
  beforeAll(async () => {
    server = await startOpsServer({ env: { ROSTER_METRICS_RECOUNT_S: '0' } });
    ws = await server.workspace();
  });
  afterAll(() => server.close());

  it('answers in Prometheus text format with process metrics', async () => {
    const r = await scrape(server.base);
    expect(r.status).toBe(200);
    expect(r.type).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(r.text).toContain('# TYPE roster_http_requests_total counter');
    expect(r.text).toContain('process_cpu_user_seconds_total');
  });

  it('counts requests by surface and status', async () => {
    await ws.identify('m1', { email: 'm1@example.com' });
    await ws.identify('m1', { email: 'm1@example.com' });
    await ws.entity({ type: 'person', action: 'identify', identifiers: { id: 'm2' } });
    await ws.segment('/v1/track', { userId: 'm1', event: 'E' });
    await ws.app('GET', '/v1/customers?email=m1%40example.com');
    await ws.request('GET', '/auth', undefined, 'Basic bm86bm8=');
    await ws.request('GET', '/nowhere');
    const t = (await scrape(server.base)).text;
    expect(sample(t, 'roster_http_requests_total', { surface: 'track_v1', status: '200' })).toBe(2);
    expect(sample(t, 'roster_http_requests_total', { surface: 'track_v1', status: '401' })).toBe(1);
    expect(sample(t, 'roster_http_requests_total', { surface: 'track_v2', status: '200' })).toBe(1);
    expect(sample(t, 'roster_http_requests_total', { surface: 'segment', status: '200' })).toBe(1);
    expect(sample(t, 'roster_http_requests_total', { surface: 'app', status: '200' })).toBe(1);
    expect(sample(t, 'roster_http_requests_total', { surface: 'unmatched', status: '404' })).toBe(1);
  });

  it('ingest batch sizes and commit latency, from the group commit', async () => {
    await Promise.all(Array.from({ length: 20 }, (_, i) => ws.identify(`batch-${i}`)));
    const t = (await scrape(server.base)).text;
    const batches = sample(t, 'roster_ingest_batch_size_count')!;
    const commands = sample(t, 'roster_ingest_batch_size_sum')!;
    expect(batches).toBeGreaterThan(0);
    expect(commands).toBeGreaterThanOrEqual(24);
    expect(sample(t, 'roster_ingest_batch_seconds_count')).toBe(batches);
    expect(sample(t, 'roster_ingest_batch_seconds_bucket', { le: '+Inf' })).toBe(batches);
  });

  it('people and events per workspace, integration-log outcomes and the job queue', async () => {
    const other = await server.workspace();
    await other.identify('o1', { email: 'o1@example.com' });
    await other.identify('o2', { email: 'o1@example.com' }); // rule C: identifier_in_use
    await other.track('o1', { name: 'a' });
    await other.track('o1', { name: 'b', id: '01HZZZZZZZZZZZZZZZZZZZZZZZ' });
    await other.track('o1', { name: 'b', id: '01HZZZZZZZZZZZZZZZZZZZZZZZ' }); // duplicate
    const t = (await scrape(server.base)).text;
    expect(sample(t, 'roster_people', { workspace: other.creds.workspace_id })).toBe(2);
    expect(sample(t, 'roster_events', { workspace: other.creds.workspace_id })).toBe(2);
    expect(sample(t, 'roster_integration_log_outcomes_total', { outcome: 'identifier_in_use' })).toBe(1);
    expect(sample(t, 'roster_integration_log_outcomes_total', { outcome: 'duplicate' })).toBe(1);
    // The recurring retention jobs are queued from start.
    expect(sample(t, 'roster_jobs', { status: 'queued' })).toBeGreaterThan(0);
    expect(sample(t, 'roster_jobs', { status: 'running' })).toBe(0);
  });

  it('deleted people leave the count at the next full recount', async () => {
    const third = await server.workspace();
    await third.identify('gone');
    await third.identify('stays');
    expect(sample((await scrape(server.base)).text, 'roster_people', { workspace: third.creds.workspace_id })).toBe(2);
    await third.delete('gone');
    let seen: number | undefined;
    for (let i = 0; i < 50 && seen !== 1; i++) {
      await new Promise((r) => setTimeout(r, 1100));
      seen = sample((await scrape(server.base)).text, 'roster_people', { workspace: third.creds.workspace_id });
    }
    expect(seen).toBe(1);
  });
});

describe('GET /metrics with ROSTER_METRICS_TOKEN', () => {
  let server: OpsServer;
  beforeAll(async () => (server = await startOpsServer({ env: { ROSTER_METRICS_TOKEN: 'scrape-token-123' } })));
  afterAll(() => server.close());

  it('401 without the token or with a wrong one, 200 with it', async () => {
    expect((await scrape(server.base)).status).toBe(401);
    expect((await scrape(server.base, 'Bearer wrong')).status).toBe(401);
    expect((await scrape(server.base, 'Basic c2NyYXBlLXRva2VuLTEyMw==')).status).toBe(401);
    const ok = await scrape(server.base, 'Bearer scrape-token-123');
    expect(ok.status).toBe(200);
    expect(ok.text).toContain('roster_people');
  });
});
