import { spawn } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { objectState, relatedIds } from '../helpers/object-state.js';
import { startServer, type TestServer, type TestWorkspace } from '../helpers/roster-server.js';

/**
 * Segment's real destination code, npm `@segment/action-destinations` 3.497.0 with `@segment/actions-core` 3.170.0,
 * run against a live Roster:
 * - Customer.io (Actions), `dist/destinations/customerio`, every preset with its default mapping, through
 *   `onEvent`, `onBatch` and `onDelete`. Its hosts (https://track.customer.io, https://track-eu.customer.io) are
 *   hard-coded, so the runner's nock forwards every request it makes, unchanged, to Roster on 127.0.0.1.
 * - Webhooks (Actions), `dist/destinations/webhook`, action `send`, with its URL set to Roster's `/segment/webhook`.
 *
 * The package is heavy (~100 MB), so it lives in `compat/segment-actions/` with its own lockfile, installed here on
 * demand (`npm ci`), and runs in a child process (`compat/segment-actions/run.cjs`). Nothing leaves 127.0.0.1.
 */

const compatDir = fileURLToPath(new URL('../../compat/segment-actions/', import.meta.url));
const runner = join(compatDir, 'run.cjs');
const mtime = (p: string) => (existsSync(p) ? statSync(p).mtimeMs : 0);

/** Installs the compat folder from its lockfile when node_modules is missing or older than the lockfile. */
async function ensureCompatInstalled(): Promise<void> {
  const installed = join(compatDir, 'node_modules', '.package-lock.json');
  if (mtime(installed) >= mtime(join(compatDir, 'package-lock.json'))) return;
  await new Promise<void>((resolve, reject) => {
    const child = spawn('npm', ['ci', '--prefix', compatDir, '--no-audit', '--no-fund'], {
      stdio: 'inherit',
      shell: process.platform === 'win32',
    });
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`npm ci in ${compatDir}: exit ${code}`))));
  });
}

type Json = Record<string, unknown>;

interface Op {
  destination: 'customerio' | 'webhook';
  call: 'onEvent' | 'onBatch' | 'onDelete' | 'testAuthentication';
  settings: Json;
  event?: Json;
  events?: Json[];
  actions?: string[];
  mapping?: Json;
}

interface OpResult {
  ok: boolean;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the destination's own result shapes
  result?: any;
  error?: { name: string; message: string; status: number | null };
}

/** A request the Customer.io destination made, as forwarded to Roster, with Roster's answer. */
interface Forwarded {
  op: number;
  method: string;
  url: string;
  headers: Record<string, string>;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- request bodies are the destination's JSON
  body: any;
  status: number;
  response: string;
}

interface RunOutput {
  results: OpResult[];
  requests: Forwarded[];
}

/** Runs the ops, in order, through the real destination code in a child process. */
function runDestination(ops: Op[]): Promise<RunOutput> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [runner], { cwd: compatDir, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`run.cjs exit ${code}: ${err}`));
      try {
        resolve(JSON.parse(out) as RunOutput);
      } catch {
        reject(new Error(`run.cjs printed no JSON: ${out}\n${err}`));
      }
    });
    child.stdin.end(JSON.stringify({ roster: server.base, ops }));
  });
}

let server: TestServer;
beforeAll(async () => {
  await ensureCompatInstalled();
  server = await startServer();
}, 600_000);
afterAll(() => server?.close());

let n = 0;
const mid = () => `ajs-next-${process.pid}-${++n}`;
// Recent on purpose: unlinked anonymous events older than the workspace's retention (30 days) are purged.
const tUnix = Math.floor(Date.now() / 1000) - 3600;
const t = new Date(tUnix * 1000).toISOString();

/** A Segment message as Segment's pipeline hands it to a destination. */
function segmentEvent(fields: Json): Json {
  return {
    messageId: mid(),
    timestamp: t,
    originalTimestamp: t,
    sentAt: t,
    receivedAt: t,
    channel: 'server',
    context: { library: { name: '@segment/analytics-node', version: '3.1.0' } },
    integrations: {},
    ...fields,
  };
}

const cioSettings = (ws: TestWorkspace, extra: Json = {}) => ({
  siteId: ws.creds.site_id,
  apiKey: ws.creds.track_api_key,
  ...extra,
});

const onEvent = (ws: TestWorkspace, event: Json, extra: Partial<Op> = {}): Op => ({
  destination: 'customerio',
  call: 'onEvent',
  settings: cioSettings(ws),
  event: segmentEvent(event),
  ...extra,
});

/** Runs the ops and checks every one succeeded and every request Roster got was answered 2xx. */
async function runOk(ops: Op[]): Promise<RunOutput> {
  const out = await runDestination(ops);
  expect(out.results.map((r) => r.error ?? 'ok')).toEqual(ops.map(() => 'ok'));
  expect(out.requests.filter((r) => r.status >= 300)).toEqual([]);
  return out;
}

/** How many partner actions ran for one onEvent op (each reports "Action Executed"). */
function executed(r: OpResult): number {
  return (r.result as { output?: string }[]).filter((x) => x.output === 'Action Executed').length;
}

interface FeedEntry {
  type: string;
  name: string;
  data: Record<string, unknown>;
  timestamp: number;
}

async function eventsOf(ws: TestWorkspace, ref: string, idType = 'id'): Promise<FeedEntry[]> {
  const body = await ws.activities(ref, '&limit=100', idType);
  return (body.activities as FeedEntry[]).filter((a) => ['event', 'page', 'screen'].includes(a.type)).reverse();
}

async function integrationLog(ws: TestWorkspace, outcome: string) {
  const r = await ws.app('GET', `/v1/activities?type=${encodeURIComponent(outcome)}&limit=100`);
  expect(r.status).toBe(200);
  return r.body.activities as { type: string; customer_id: string | null; data: Record<string, unknown> }[];
}

describe('Customer.io (Actions) destination: settings and transport', () => {
  it('testAuthentication calls GET /auth with Basic site_id:api_key; a wrong key fails with 401', async () => {
    const ws = await server.workspace();
    const out = await runDestination([
      { destination: 'customerio', call: 'testAuthentication', settings: cioSettings(ws) },
      { destination: 'customerio', call: 'testAuthentication', settings: cioSettings(ws, { apiKey: 'wrong' }) },
    ]);
    expect(out.results[0]!.ok).toBe(true);
    expect(out.results[1]!.ok).toBe(false);
    expect(out.requests.map((r) => [r.method, r.url, r.status])).toEqual([
      ['GET', 'https://track.customer.io/auth', 200],
      ['GET', 'https://track.customer.io/auth', 401],
    ]);
    expect(out.requests[0]!.headers.authorization).toBe(ws.trackAuth);
  });

  it('the EU region sends to track-eu.customer.io, which reaches Roster the same way', async () => {
    const ws = await server.workspace();
    const settings = cioSettings(ws, { accountRegion: 'EU 🇪🇺' });
    const out = await runOk([
      onEvent(ws, { type: 'identify', userId: 'eu-1', traits: { city: 'Dublin' } }, { settings }),
    ]);
    expect(out.requests.map((r) => r.url)).toEqual(['https://track-eu.customer.io/api/v2/entity']);
    expect((await ws.person('eu-1')).attributes.city).toBe('Dublin');
  });
});

describe('Customer.io (Actions) destination: every action through onEvent with its default mapping', () => {
  it('createUpdatePerson (identify): traits become attributes, ISO dates unix seconds, anonymous history joins', async () => {
    const ws = await server.workspace();
    const out = await runOk([
      onEvent(ws, { type: 'track', anonymousId: 'anon-p1', event: 'Viewed Pricing', properties: { plan: 'pro' } }),
      onEvent(ws, {
        type: 'identify',
        userId: 'p1',
        anonymousId: 'anon-p1',
        traits: { email: 'p1@example.com', name: 'P One', createdAt: '2023-05-06T07:08:09.000Z', trial_ends: t },
      }),
    ]);
    const identify = out.requests.find((r) => r.body?.action === 'identify')!;
    expect(identify.url).toBe('https://track.customer.io/api/v2/entity');
    expect(identify.headers.authorization).toBe(ws.trackAuth);
    expect(identify.body).toMatchObject({ type: 'person', identifiers: { id: 'p1' }, timestamp: tUnix });
    expect(executed(out.results[1]!)).toBe(1);

    const p = await ws.person('p1');
    expect(p.identifiers).toMatchObject({ id: 'p1', email: 'p1@example.com' });
    expect(p.attributes).toMatchObject({
      name: 'P One',
      created_at: String(Date.parse('2023-05-06T07:08:09.000Z') / 1000),
      trial_ends: String(tUnix),
    });
    expect((await eventsOf(ws, 'p1')).map((e) => e.name)).toEqual(['Viewed Pricing']);
  });

  it('createUpdatePerson without userId identifies by traits.email (a lead); a later userId converts it', async () => {
    const ws = await server.workspace();
    await runOk([onEvent(ws, { type: 'identify', anonymousId: 'a-lead', traits: { email: 'lead@example.com' } })]);
    const lead = await ws.person('lead@example.com', 'email');
    expect(lead.identifiers.id).toBeNull();
    await runOk([onEvent(ws, { type: 'identify', userId: 'cust-1', traits: { email: 'lead@example.com' } })]);
    expect((await ws.person('cust-1')).identifiers.cio_id).toBe(lead.identifiers.cio_id);
  });

  it('createUpdatePerson when the id already belongs to someone else: Roster answers 409 (rule C), the destination reports it, the rest is applied', async () => {
    const ws = await server.workspace();
    await runOk([
      onEvent(ws, { type: 'identify', userId: '', traits: { email: 'lead2@example.com' } }),
      onEvent(ws, { type: 'identify', userId: 'taken', traits: { email: 'other@example.com' } }),
    ]);
    const out = await runDestination([
      onEvent(ws, { type: 'identify', userId: 'taken', traits: { email: 'lead2@example.com', plan: 'gold' } }),
    ]);
    expect(out.results[0]!.error?.status).toBe(409);
    expect(out.requests[0]!.status).toBe(409);
    expect(JSON.parse(out.requests[0]!.response).errors[0]).toMatchObject({
      reason: 'identifier_in_use',
      field: 'email',
    });
    const p = await ws.person('taken');
    expect(p.identifiers.email).toBe('other@example.com');
    expect(p.attributes.plan).toBe('gold');
    expect(await integrationLog(ws, 'identifier_in_use')).toHaveLength(1);
  });

  it('createUpdatePerson with traits.objectId relates the person to that object (cio_relationships)', async () => {
    const ws = await server.workspace();
    const out = await runOk([
      onEvent(ws, {
        type: 'identify',
        userId: 'member-1',
        traits: { email: 'm1@example.com', objectId: 'team-7', relationshipAttributes: { role: 'admin' } },
      }),
    ]);
    expect(out.requests[0]!.body.cio_relationships).toEqual([
      { identifiers: { object_type_id: '1', object_id: 'team-7' }, relationship_attributes: { role: 'admin' } },
    ]);
    const team = await objectState(ws, '1', 'team-7');
    expect(team?.relationships).toEqual([
      {
        identifiers: expect.objectContaining({ id: 'member-1' }),
        relationship_attributes: expect.objectContaining({ role: 'admin' }),
      },
    ]);
  });

  it('trackEvent: name = event, data = properties, id = messageId (a redelivery is stored once); anonymous events by anonymous_id', async () => {
    const ws = await server.workspace();
    const order = segmentEvent({
      type: 'track',
      userId: 'buyer',
      event: 'Order Completed',
      properties: { total: 42.5, currency: 'EUR', shipped_at: t },
    });
    const anon = onEvent(ws, {
      type: 'track',
      anonymousId: 'anon-t',
      event: 'Added to Cart',
      properties: { sku: 'A1' },
    });
    const out = await runOk([
      { ...onEvent(ws, {}), event: order },
      { ...onEvent(ws, {}), event: order }, // Segment retried: same messageId
      anon,
    ]);
    expect(out.requests[0]!.body).toMatchObject({
      type: 'person',
      action: 'event',
      name: 'Order Completed',
      id: order.messageId,
      identifiers: { id: 'buyer' },
    });
    expect(out.requests[2]!.body.identifiers).toEqual({ anonymous_id: 'anon-t' });

    const events = await eventsOf(ws, 'buyer');
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ type: 'event', name: 'Order Completed', timestamp: tUnix });
    expect(events[0]!.data).toMatchObject({ total: 42.5, currency: 'EUR', shipped_at: tUnix });

    await runOk([onEvent(ws, { type: 'identify', userId: 'shopper', anonymousId: 'anon-t', traits: {} })]);
    expect((await eventsOf(ws, 'shopper')).map((e) => e.name)).toEqual(['Added to Cart']);
  });

  it('trackPageView and trackScreenView: a page named by its URL, a screen by its name', async () => {
    const ws = await server.workspace();
    const out = await runOk([
      onEvent(ws, {
        type: 'page',
        userId: 'viewer',
        name: 'Pricing',
        properties: { url: 'https://example.com/pricing', title: 'Pricing' },
      }),
      onEvent(ws, { type: 'screen', userId: 'viewer', name: 'Settings', properties: { tab: 'profile' } }),
    ]);
    expect(out.requests.map((r) => r.body.action)).toEqual(['page', 'screen']);
    const events = await eventsOf(ws, 'viewer');
    expect(events.map((e) => `${e.type}:${e.name}`)).toEqual(['page:https://example.com/pricing', 'screen:Settings']);
    expect(events[0]!.data).toMatchObject({ title: 'Pricing' });
    expect(events[1]!.data).toMatchObject({ tab: 'profile' });
  });

  it('createUpdateDevice (Application Installed/Opened, Device Created or Updated) and deleteDevice (Application Uninstalled, Device Deleted)', async () => {
    const ws = await server.workspace();
    const device = (token: string, type: string) => ({ device: { token, type }, app: { version: '1.2' } });
    const installed = await runOk([
      onEvent(ws, { type: 'identify', userId: 'mobile', traits: {} }),
      onEvent(ws, {
        type: 'track',
        userId: 'mobile',
        event: 'Application Installed',
        context: device('tok-ios', 'ios'),
        properties: { build: '77' },
      }),
    ]);
    expect(installed.requests[1]!.body).toMatchObject({
      action: 'add_device',
      device: { token: 'tok-ios', platform: 'ios', last_used: tUnix, attributes: { app_version: '1.2', build: '77' } },
    });
    let p = await ws.person('mobile');
    expect(p.devices).toEqual([
      expect.objectContaining({
        id: 'tok-ios',
        platform: 'ios',
        last_used: tUnix,
        attributes: { app_version: '1.2', build: '77' },
      }),
    ]);

    const more = await runOk([
      onEvent(ws, { type: 'track', userId: 'mobile', event: 'Application Opened', context: device('tok-ios', 'ios') }),
      onEvent(ws, {
        type: 'track',
        userId: 'mobile',
        event: 'Device Created or Updated',
        context: device('tok-and', 'android'),
      }),
    ]);
    expect(more.requests.map((r) => r.body.action)).toEqual(['add_device', 'add_device']);
    p = await ws.person('mobile');
    expect(p.devices.map((d: { id: string; platform: string }) => `${d.id}:${d.platform}`).sort()).toEqual([
      'tok-and:android',
      'tok-ios:ios',
    ]);

    await runOk([
      onEvent(ws, {
        type: 'track',
        userId: 'mobile',
        event: 'Application Uninstalled',
        context: device('tok-ios', 'ios'),
      }),
      onEvent(ws, { type: 'track', userId: 'mobile', event: 'Device Deleted', context: device('tok-and', 'android') }),
    ]);
    p = await ws.person('mobile');
    expect(p.devices).toEqual([]);
    // The device presets take these events; trackEvent's preset excludes them, so no event is recorded.
    expect(await eventsOf(ws, 'mobile')).toEqual([]);
  });

  it('deletePerson (User Deleted) deletes; suppressPerson (User Suppressed) deletes and blocks; unsuppressPerson frees', async () => {
    const ws = await server.workspace();
    await runOk([
      onEvent(ws, { type: 'identify', userId: 'bye', traits: { email: 'bye@example.com' } }),
      onEvent(ws, { type: 'identify', userId: 'quiet', traits: { email: 'quiet@example.com' } }),
    ]);
    const out = await runOk([
      onEvent(ws, { type: 'track', userId: 'bye', event: 'User Deleted' }),
      onEvent(ws, { type: 'track', userId: 'quiet', event: 'User Suppressed' }),
      onEvent(ws, { type: 'identify', userId: 'quiet', traits: { email: 'quiet@example.com' } }),
    ]);
    expect(out.requests.map((r) => r.body.action)).toEqual(['delete', 'suppress', 'identify']);
    expect(await ws.person('bye')).toBeNull();
    expect(await ws.person('quiet')).toBeNull();
    expect(await ws.byEmail('quiet@example.com')).toEqual([]);
    expect((await integrationLog(ws, 'suppressed')).length).toBeGreaterThan(0);

    await runOk([
      onEvent(ws, { type: 'track', userId: 'quiet', event: 'User Unsuppressed' }),
      onEvent(ws, { type: 'identify', userId: 'quiet', traits: { back: true } }),
    ]);
    expect((await ws.person('quiet')).attributes.back).toBe('true');
  });

  it('mergePeople (alias): previousId is merged into userId', async () => {
    const ws = await server.workspace();
    await runOk([
      onEvent(ws, { type: 'identify', userId: 'old-u1', traits: { legacy: 'yes', email: 'old-u1@example.com' } }),
      onEvent(ws, { type: 'track', userId: 'old-u1', event: 'Old Event' }),
      onEvent(ws, { type: 'identify', userId: 'u1', traits: { plan: 'pro' } }),
    ]);
    const out = await runOk([onEvent(ws, { type: 'alias', userId: 'u1', previousId: 'old-u1' })]);
    expect(out.requests[0]!.body).toEqual({
      type: 'person',
      action: 'merge',
      primary: { id: 'u1' },
      secondary: { id: 'old-u1' },
    });
    expect(await ws.person('old-u1')).toBeNull();
    const p = await ws.person('u1');
    expect(p.identifiers.email).toBe('old-u1@example.com');
    expect(p.attributes).toMatchObject({ plan: 'pro', legacy: 'yes' });
    expect((await eventsOf(ws, 'u1')).map((e) => e.name)).toEqual(['Old Event']);
    expect(await ws.activitiesOfType('u1', 'merged')).toHaveLength(1);
  });

  it('createUpdateObject (group): objectAttributes on the object, relationshipAttributes on the link; anonymous groups join on identify', async () => {
    const ws = await server.workspace();
    const out = await runOk([
      onEvent(ws, { type: 'identify', userId: 'owner', traits: {} }),
      onEvent(ws, {
        type: 'group',
        userId: 'owner',
        anonymousId: 'anon-owner',
        groupId: 'acme',
        traits: {
          name: 'not sent: only objectAttributes are',
          objectTypeId: '2',
          createdAt: '2020-01-01T00:00:00.000Z',
          objectAttributes: { plan: 'enterprise', since: '2021-01-01T00:00:00.000Z' },
          relationshipAttributes: { role: 'owner' },
        },
      }),
      onEvent(ws, { type: 'group', anonymousId: 'anon-g', groupId: 'acme', traits: { objectTypeId: '2' } }),
    ]);
    expect(out.requests[1]!.body).toMatchObject({
      type: 'object',
      action: 'identify',
      identifiers: { object_id: 'acme', object_type_id: '2' },
    });
    expect(out.requests[2]!.body).toMatchObject({
      action: 'identify_anonymous',
      cio_relationships: [{ identifiers: { anonymous_id: 'anon-g' } }],
    });

    const acme = await objectState(ws, '2', 'acme');
    expect(acme).not.toBeNull();
    expect(acme!.attributes.plan).toBe('enterprise');
    expect(Number(acme!.attributes.since)).toBe(Date.UTC(2021, 0, 1) / 1000); // ISO date → unix seconds
    expect(acme!.attributes.name).toBeUndefined();
    // The destination also copies anonymousId into the object's attributes; it names the person, not the object.
    expect(out.requests[1]!.body.attributes.anonymous_id).toBe('anon-owner');
    expect(acme!.attributes.anonymous_id).toBeUndefined();
    expect(acme!.created_at).toBe(Date.UTC(2020, 0, 1) / 1000);
    expect(acme!.relationships).toEqual([
      {
        identifiers: expect.objectContaining({ id: 'owner' }),
        relationship_attributes: expect.objectContaining({ role: 'owner' }),
      },
    ]);

    await runOk([onEvent(ws, { type: 'identify', userId: 'visitor', anonymousId: 'anon-g', traits: {} })]);
    expect((await relatedIds(ws, '2', 'acme')).sort()).toEqual(['owner', 'visitor']);
  });

  it('deleteRelationship (Relationship Deleted) unlinks a person; deleteObject (Object Deleted) removes the object', async () => {
    const ws = await server.workspace();
    await runOk([
      onEvent(ws, { type: 'group', userId: 'a', groupId: 'g1', traits: { objectAttributes: { n: 1 } } }),
      onEvent(ws, { type: 'group', userId: 'b', groupId: 'g1', traits: {} }),
    ]);
    expect((await relatedIds(ws, '1', 'g1')).sort()).toEqual(['a', 'b']);

    const out = await runOk([
      onEvent(ws, { type: 'track', userId: 'a', event: 'Relationship Deleted', properties: { objectId: 'g1' } }),
    ]);
    expect(out.requests[0]!.body).toMatchObject({
      type: 'object',
      action: 'delete_relationships',
      identifiers: { object_id: 'g1', object_type_id: '1' },
      cio_relationships: [{ identifiers: { id: 'a' } }],
    });
    expect(await relatedIds(ws, '1', 'g1')).toEqual(['b']);
    expect(await ws.person('a')).not.toBeNull();

    await runOk([onEvent(ws, { type: 'track', userId: 'b', event: 'Object Deleted', properties: { objectId: 'g1' } })]);
    expect(await objectState(ws, '1', 'g1')).toBeNull();
    expect(await ws.person('b')).not.toBeNull();
  });

  it('reportDeliveryEvent (Report Delivery Event) POSTs /api/v1/metrics, which Roster accepts and records', async () => {
    const ws = await server.workspace();
    const out = await runOk([
      onEvent(ws, {
        type: 'track',
        userId: 'reader',
        event: 'Report Delivery Event',
        properties: {
          deliveryId: 'dlv-1',
          metric: 'clicked',
          recipient: 'reader@example.com',
          href: 'https://example.com/offer',
          actionName: 'cta',
          actionValue: 'buy',
        },
      }),
    ]);
    expect(out.requests.map((r) => [r.method, r.url, r.status])).toEqual([
      ['POST', 'https://track.customer.io/api/v1/metrics', 200],
    ]);
    expect(out.requests[0]!.body).toEqual({
      delivery_id: 'dlv-1',
      metric: 'clicked',
      timestamp: tUnix,
      recipient: 'reader@example.com',
      href: 'https://example.com/offer',
      metadata: { action_name: 'cta', action_value: 'buy' },
    });
    expect(JSON.parse(out.requests[0]!.response)).toEqual({});
    const log = await integrationLog(ws, 'delivery_metric');
    expect(log).toHaveLength(1);
    expect(log[0]!.data).toMatchObject({ surface: 'track_v1', message_id: 'dlv-1', reference: 'reader@example.com' });
    expect(log[0]!.data.reason).toContain('clicked');
    // Not an event, and no person is made from a metric.
    expect(await ws.person('reader')).toBeNull();
  });

  it('POST /api/v1/metrics refuses a body the destination would never send (400), with the track key only', async () => {
    const ws = await server.workspace();
    for (const body of [
      { metric: 'opened' },
      { delivery_id: 'd1', metric: 'read' },
      { delivery_id: 'd1', metric: 'opened', timestamp: 'yesterday' },
      { delivery_id: 'd1', metric: 'opened', metadata: ['x'] },
    ]) {
      const r = await ws.request('POST', '/api/v1/metrics', body);
      expect(r.status).toBe(400);
    }
    expect(
      (await ws.request('POST', '/api/v1/metrics', { delivery_id: 'd1', metric: 'opened' }, ws.appAuth)).status,
    ).toBe(401);
    expect(await integrationLog(ws, 'delivery_metric')).toEqual([]);
    expect(
      await ws.request('POST', '/api/v1/metrics', { delivery_id: 'd2', metric: 'bounced', reason: 'mailbox full' }),
    ).toEqual({
      status: 200,
      body: {},
    });
    expect((await integrationLog(ws, 'delivery_metric'))[0]!.data.reason).toContain('mailbox full');
  });
});

describe('Customer.io (Actions) destination: onBatch and onDelete', () => {
  it('onBatch sends identify and track events as /api/v2/batch requests; every event is applied', async () => {
    const ws = await server.workspace();
    const events = [
      segmentEvent({ type: 'identify', userId: 'b1', traits: { email: 'b1@example.com', tier: 1 } }),
      segmentEvent({ type: 'identify', userId: 'b2', traits: { email: 'b2@example.com', tier: 2 } }),
      segmentEvent({ type: 'identify', userId: '', traits: { email: 'b3@example.com', tier: 3 } }),
      segmentEvent({ type: 'track', userId: 'b1', event: 'Batched', properties: { i: 1 } }),
      segmentEvent({ type: 'track', userId: 'b2', event: 'Batched', properties: { i: 2 } }),
      segmentEvent({ type: 'track', anonymousId: 'anon-b', event: 'Batched', properties: { i: 3 } }),
    ];
    const out = await runOk([
      {
        destination: 'customerio',
        call: 'onBatch',
        settings: cioSettings(ws),
        events,
        actions: ['createUpdatePerson', 'trackEvent'],
      },
    ]);
    expect(out.requests.map((r) => [r.url, r.body.batch.length])).toEqual(
      expect.arrayContaining([
        ['https://track.customer.io/api/v2/batch', 3],
        ['https://track.customer.io/api/v2/batch', 3],
      ]),
    );
    expect(out.requests).toHaveLength(2);
    // One multistatus per subscription; each event is 200 where it was subscribed.
    const statuses = (out.results[0]!.result as { multistatus: { status: number }[] }[]).map((r) =>
      r.multistatus.map((m) => m.status),
    );
    expect(statuses).toEqual([
      [200, 200, 200, 400, 400, 400],
      [400, 400, 400, 200, 200, 200],
    ]);

    expect((await ws.person('b1')).attributes.tier).toBe('1');
    expect((await ws.person('b2')).identifiers.email).toBe('b2@example.com');
    expect((await ws.person('b3@example.com', 'email')).attributes.tier).toBe('3');
    expect((await eventsOf(ws, 'b1')).map((e) => e.data.i)).toEqual([1]);
    expect((await eventsOf(ws, 'b2')).map((e) => e.data.i)).toEqual([2]);
    await runOk([onEvent(ws, { type: 'identify', userId: 'b4', anonymousId: 'anon-b', traits: {} })]);
    expect((await eventsOf(ws, 'b4')).map((e) => e.data.i)).toEqual([3]);
  });

  it('onBatch runs every other batchable action through /api/v2/batch too', async () => {
    const ws = await server.workspace();
    await runOk([
      onEvent(ws, { type: 'identify', userId: 'x1', traits: {} }),
      onEvent(ws, { type: 'identify', userId: 'x2', traits: { old: true } }),
    ]);
    const events = [
      segmentEvent({ type: 'page', userId: 'x1', properties: { url: 'https://example.com/a' } }),
      segmentEvent({ type: 'screen', userId: 'x1', name: 'Home' }),
      segmentEvent({
        type: 'track',
        userId: 'x1',
        event: 'Application Opened',
        context: { device: { token: 'tok-x', type: 'ios' } },
      }),
      segmentEvent({ type: 'group', userId: 'x1', groupId: 'gx', traits: { objectAttributes: { size: 3 } } }),
      segmentEvent({ type: 'alias', userId: 'x1', previousId: 'x2' }),
    ];
    const out = await runOk([{ destination: 'customerio', call: 'onBatch', settings: cioSettings(ws), events }]);
    expect(out.requests.every((r) => r.url === 'https://track.customer.io/api/v2/batch')).toBe(true);
    expect(out.requests.map((r) => r.body.batch[0].action).sort()).toEqual(
      ['add_device', 'identify', 'merge', 'page', 'screen'].sort(),
    );
    const p = await ws.person('x1');
    expect(p.devices.map((d: { id: string }) => d.id)).toEqual(['tok-x']);
    expect(p.attributes.old).toBe('true');
    expect(await ws.person('x2')).toBeNull();
    expect((await eventsOf(ws, 'x1')).map((e) => `${e.type}:${e.name}`)).toEqual([
      'page:https://example.com/a',
      'screen:Home',
    ]);
    expect(await relatedIds(ws, '1', 'gx')).toEqual(['x1']);
  });

  it('onDelete (a Segment deletion regulation) sends DELETE /api/v1/customers/{userId}: by id, by email, and for someone unknown', async () => {
    const ws = await server.workspace();
    await runOk([
      onEvent(ws, { type: 'identify', userId: 'gdpr-1', traits: { email: 'gdpr1@example.com' } }),
      onEvent(ws, { type: 'identify', userId: '', traits: { email: 'gdpr2@example.com' } }),
    ]);
    const regulation = (userId: string): Op => ({
      destination: 'customerio',
      call: 'onDelete',
      settings: cioSettings(ws),
      event: {
        type: 'delete',
        channel: 'server',
        userId,
        context: null,
        integrations: null,
        messageId: `delete-reg-${userId}::job-2-P0OJ3CTID1`,
        projectId: 'P0OJ3CTID1',
      },
    });
    const out = await runOk([regulation('gdpr-1'), regulation('gdpr2@example.com'), regulation('never-seen')]);
    expect(out.requests.map((r) => `${r.method} ${r.url} ${r.status}`)).toEqual([
      'DELETE https://track.customer.io/api/v1/customers/gdpr-1 200',
      'DELETE https://track.customer.io/api/v1/customers/gdpr2@example.com 200',
      'DELETE https://track.customer.io/api/v1/customers/never-seen 200',
    ]);
    expect(await ws.person('gdpr-1')).toBeNull();
    expect(await ws.byEmail('gdpr2@example.com')).toEqual([]);
  });
});

describe('Webhooks (Actions) destination `send` with its URL set to Roster', () => {
  const webhookOp = (ws: TestWorkspace, opts: { secret?: string; headers?: Json; url?: string }): Omit<Op, 'call'> => ({
    destination: 'webhook',
    settings: opts.secret === undefined ? {} : { sharedSecret: opts.secret },
    mapping: {
      url: opts.url ?? `${server.base}/segment/webhook?site_id=${ws.creds.site_id}`,
      ...(opts.headers ? { headers: opts.headers } : {}),
    },
  });

  it('signed with the shared secret (X-Signature), one message and a batch: people and events are stored', async () => {
    const ws = await server.workspace();
    const op = webhookOp(ws, { secret: ws.creds.webhook_secret });
    const out = await runDestination([
      {
        ...op,
        call: 'onEvent',
        event: segmentEvent({ type: 'identify', userId: 'wh-1', traits: { email: 'wh1@example.com' } }),
      },
      {
        ...op,
        call: 'onBatch',
        events: [
          segmentEvent({ type: 'identify', userId: 'wh-2', traits: { plan: 'team' } }),
          segmentEvent({ type: 'track', userId: 'wh-2', event: 'Signed Up', properties: { via: 'webhook' } }),
          segmentEvent({ type: 'page', userId: 'wh-1', properties: { url: 'https://example.com/docs' } }),
        ],
      },
    ]);
    expect(out.results.map((r) => r.ok)).toEqual([true, true]);
    const batch = out.results[1]!.result as { multistatus: { status: number }[] }[];
    expect(batch[0]!.multistatus.map((m) => m.status)).toEqual([200, 200, 200]);

    expect((await ws.person('wh-1')).identifiers.email).toBe('wh1@example.com');
    expect((await ws.person('wh-2')).attributes.plan).toBe('team');
    expect((await eventsOf(ws, 'wh-2')).map((e) => [e.name, e.data.via])).toEqual([['Signed Up', 'webhook']]);
    expect((await eventsOf(ws, 'wh-1')).map((e) => `${e.type}:${e.name}`)).toEqual(['page:https://example.com/docs']);
  });

  it('with the write key in an Authorization header, one message and a batch', async () => {
    const ws = await server.workspace();
    const op = webhookOp(ws, { url: `${server.base}/segment/webhook`, headers: { Authorization: ws.writeKeyAuth } });
    const out = await runDestination([
      { ...op, call: 'onEvent', event: segmentEvent({ type: 'identify', userId: 'wa-1', traits: { a: 1 } }) },
      {
        ...op,
        call: 'onBatch',
        events: [
          segmentEvent({ type: 'track', userId: 'wa-1', event: 'Upgraded' }),
          segmentEvent({ type: 'screen', userId: 'wa-2', name: 'Checkout' }),
        ],
      },
    ]);
    expect(out.results.map((r) => r.ok)).toEqual([true, true]);
    expect((out.results[1]!.result as { multistatus: { status: number }[] }[])[0]!.multistatus).toEqual([
      expect.objectContaining({ status: 200 }),
      expect.objectContaining({ status: 200 }),
    ]);
    expect((await ws.person('wa-1')).attributes.a).toBe('1');
    expect((await eventsOf(ws, 'wa-1')).map((e) => e.name)).toEqual(['Upgraded']);
    expect((await eventsOf(ws, 'wa-2')).map((e) => `${e.type}:${e.name}`)).toEqual(['screen:Checkout']);
  });

  it('a wrong shared secret gets 401, for one message and a batch, and nothing is stored', async () => {
    const ws = await server.workspace();
    const op = webhookOp(ws, { secret: 'whsec_not-the-right-one' });
    const out = await runDestination([
      { ...op, call: 'onEvent', event: segmentEvent({ type: 'identify', userId: 'nope-1', traits: {} }) },
      {
        ...op,
        call: 'onBatch',
        events: [
          segmentEvent({ type: 'identify', userId: 'nope-2', traits: {} }),
          segmentEvent({ type: 'track', userId: 'nope-2', event: 'E' }),
        ],
      },
    ]);
    expect(out.results[0]).toMatchObject({ ok: false, error: { status: 401 } });
    const batch = out.results[1]!;
    const statuses = batch.ok
      ? (batch.result as { multistatus: { status: number }[] }[])[0]!.multistatus.map((m) => m.status)
      : [batch.error?.status];
    expect(statuses.every((s) => s === 401)).toBe(true);
    expect(await ws.person('nope-1')).toBeNull();
    expect(await ws.person('nope-2')).toBeNull();
  });
});
