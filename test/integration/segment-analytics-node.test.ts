import { Analytics } from '@segment/analytics-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { objectState, relatedIds } from '../helpers/object-state.js';
import { startServer, type TestServer, type TestWorkspace } from '../helpers/roster-server.js';

/**
 * Segment's own Node library, `@segment/analytics-node` 3.1.0, unchanged, pointed at a running Roster with
 * `host: server.base`. It sends every call through `POST /v1/batch` with `Authorization: Basic base64("<writeKey>:")`.
 * The seed paragraphs (`segment-destination-classic.txt`) are written here as a Segment user would send them, one
 * test each; the protocol details (limits, answers, dedupe) are in segment-api.test.ts.
 */

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server.close());

type Call = 'identify' | 'track' | 'page' | 'screen' | 'group' | 'alias';
type Params<C extends Call> = Parameters<Analytics[C]>[0];

/** A Segment user's client for one workspace, plus a promise-returning way to call it. */
class SegmentUser {
  readonly analytics: Analytics;
  readonly errors: unknown[] = [];

  constructor(
    readonly ws: TestWorkspace,
    extra: Partial<ConstructorParameters<typeof Analytics>[0]> = {},
  ) {
    this.analytics = new Analytics({
      writeKey: ws.creds.segment_write_key,
      host: server.base,
      flushAt: 1,
      // A failure must fail the test now, not after minutes of backoff.
      maxRetries: 0,
      ...extra,
    });
    this.analytics.on('error', (err) => this.errors.push(err));
  }

  /** Sends one call; resolves once the client got Roster's answer (analytics-node's callback runs on delivery). */
  send<C extends Call>(call: C, params: Params<C>): Promise<void> {
    return new Promise((resolve, reject) => {
      const method = this.analytics[call] as (p: Params<C>, cb: (err?: unknown) => void) => void;
      method.call(this.analytics, params, (err) => (err ? reject(err as Error) : resolve()));
    });
  }

  identify = (params: Params<'identify'>) => this.send('identify', params);
  track = (params: Params<'track'>) => this.send('track', params);
  page = (params: Params<'page'>) => this.send('page', params);
  screen = (params: Params<'screen'>) => this.send('screen', params);
  group = (params: Params<'group'>) => this.send('group', params);
  alias = (params: Params<'alias'>) => this.send('alias', params);

  async close() {
    await this.analytics.closeAndFlush();
    expect(this.errors).toEqual([]);
  }
}

async function segmentUser(opts: { identifiers?: 'email_or_id' | 'id_only' } = {}) {
  return new SegmentUser(await server.workspace(opts));
}

interface FeedEntry {
  type: string;
  name: string;
  data: Record<string, unknown>;
  timestamp: number;
}

/** The person's events (event, page, screen), oldest first. */
async function eventsOf(ws: TestWorkspace, ref: string, idType = 'id'): Promise<FeedEntry[]> {
  const body = await ws.activities(ref, '&limit=100', idType);
  return (body.activities as FeedEntry[]).filter((a) => ['event', 'page', 'screen'].includes(a.type)).reverse();
}

interface LogEntry {
  type: string;
  customer_id: string | null;
  data: { surface: string; message_id: string | null; reference: string | null; outcome: string; reason: string };
}

/** The workspace's integration log entries of one outcome, via the App API (`GET /v1/activities?type=`). */
async function integrationLog(ws: TestWorkspace, outcome: string): Promise<LogEntry[]> {
  const r = await ws.app('GET', `/v1/activities?type=${encodeURIComponent(outcome)}&limit=100`);
  expect(r.status).toBe(200);
  return r.body.activities as LogEntry[];
}

describe('@segment/analytics-node 3.1.0 sends to Roster', () => {
  it('identify, track, page, screen, group and alias arrive through /v1/batch and leave people, events, objects and links', async () => {
    const ws = await server.workspace();
    const requests: { url: string; headers: Record<string, string>; body: { batch: { type: string }[] } }[] = [];
    const user = new SegmentUser(ws, {
      flushAt: 20,
      // The client's own transport (global fetch), observed on the way out.
      httpClient: (url, init) => {
        requests.push({ url, headers: init.headers, body: JSON.parse(init.body) });
        return fetch(url, init);
      },
    });
    const a = user.analytics;
    a.track({ anonymousId: 'anon-all', event: 'Viewed Pricing', properties: { plan: 'pro' } });
    a.identify({
      userId: 'u-all',
      anonymousId: 'anon-all',
      traits: { email: 'all@example.com', name: 'All Types', createdAt: '2026-01-02T03:04:05.000Z' },
    });
    a.track({ userId: 'u-all', event: 'Order Completed', properties: { total: 9.5, currency: 'EUR' } });
    a.page({ userId: 'u-all', name: 'Home', properties: { url: 'https://example.com/', title: 'Home' } });
    a.screen({ userId: 'u-all', name: 'Settings', properties: { tab: 'profile' } });
    a.group({ userId: 'u-all', groupId: 'acme', traits: { name: 'Acme Inc', plan: 'enterprise' } });
    a.alias({ userId: 'u-all', previousId: 'device-42' });
    a.track({ anonymousId: 'device-42', event: 'Opened App' });
    await user.close();

    // One request, to /v1/batch, Basic write-key auth, every call type in order.
    expect(requests).toHaveLength(1);
    expect(requests[0]!.url).toBe(`${server.base}/v1/batch`);
    expect(requests[0]!.headers.Authorization ?? requests[0]!.headers.authorization).toBe(ws.writeKeyAuth);
    expect(requests[0]!.body.batch.map((m) => m.type)).toEqual([
      'track',
      'identify',
      'track',
      'page',
      'screen',
      'group',
      'alias',
      'track',
    ]);

    const p = await ws.person('u-all');
    expect(p.identifiers).toMatchObject({ id: 'u-all', email: 'all@example.com' });
    expect(p.attributes).toMatchObject({ name: 'All Types', created_at: String(Date.UTC(2026, 0, 2, 3, 4, 5) / 1000) });
    const events = await eventsOf(ws, 'u-all');
    expect(events.map((e) => `${e.type}:${e.name}`)).toEqual([
      'event:Viewed Pricing', // anonymous, joined by identify's anonymousId
      'event:Order Completed',
      'page:https://example.com/',
      'screen:Settings',
      'event:Opened App', // anonymous id linked by alias
    ]);
    expect(events[1]!.data).toMatchObject({ total: 9.5, currency: 'EUR' });
    expect(events[2]!.data).toMatchObject({ title: 'Home' });

    const acme = await objectState(ws, '1', 'acme');
    expect(acme?.attributes).toMatchObject({ name: 'Acme Inc', plan: 'enterprise' });
    expect(await relatedIds(ws, '1', 'acme')).toEqual(['u-all']);
  });
});

describe('the seed paragraphs, sent through analytics-node', () => {
  it('Identifying people: identify("userId123", {email}) adds the person, a second identify updates them', async () => {
    const user = await segmentUser();
    await user.identify({ userId: 'userId123', traits: { email: 'john.doe@example.com' } });
    const created = await user.ws.person('userId123');
    expect(created.identifiers).toMatchObject({ id: 'userId123', email: 'john.doe@example.com' });
    await user.identify({ userId: 'userId123', traits: { email: 'john.doe@example.com', plan: 'premium' } });
    const updated = await user.ws.person('userId123');
    expect(updated.identifiers.cio_id).toBe(created.identifiers.cio_id);
    expect(updated.attributes.plan).toBe('premium');
    expect(await user.ws.byEmail('john.doe@example.com')).toHaveLength(1);
    await user.close();
  });

  it('Converting leads to customers: identify("", {email}) makes a lead; identify("userId123", {email}) gives it the id', async () => {
    const user = await segmentUser();
    await user.identify({
      userId: '',
      traits: { email: 'person@example.com', first_name: 'person', interested_in: 'baseball' },
    });
    const lead = await user.ws.person('person@example.com', 'email');
    expect(lead.identifiers.id).toBeNull();
    expect(lead.attributes).toMatchObject({ first_name: 'person', interested_in: 'baseball' });

    await user.identify({ userId: 'userId123', traits: { email: 'person@example.com', account_created: 1629224941 } });
    const customer = await user.ws.person('userId123');
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
    expect(await user.ws.byEmail('person@example.com')).toHaveLength(1);
    await user.close();
  });

  it('Converting leads: when the id already belongs to someone else, that person is updated, the lead keeps its email, and the refusal is in the integration log', async () => {
    const user = await segmentUser();
    await user.identify({ userId: '', traits: { email: 'lead@example.com', source: 'webinar' } });
    await user.identify({ userId: 'userId123', traits: { email: 'customer@example.com' } });
    const lead = await user.ws.person('lead@example.com', 'email');
    const existing = await user.ws.person('userId123');

    // "If the ID and email already exist, you'll receive an error." Segment's convention still answers 200.
    await user.identify({ userId: 'userId123', traits: { email: 'lead@example.com', account_created: 1629224941 } });

    const after = await user.ws.person('userId123');
    expect(after.identifiers).toEqual(existing.identifiers); // the id's person, email unchanged
    expect(after.attributes.account_created).toBe('1629224941'); // the rest of the call applied (rule C)
    const leadAfter = await user.ws.person('lead@example.com', 'email');
    expect(leadAfter.identifiers).toEqual(lead.identifiers); // the lead did not take the id
    expect(leadAfter.attributes.account_created).toBeUndefined();

    const log = await integrationLog(user.ws, 'identifier_in_use');
    expect(log).toHaveLength(1);
    expect(log[0]!.data).toMatchObject({ surface: 'segment', outcome: 'identifier_in_use' });
    expect(log[0]!.data.reason).toContain('email');
    expect(log[0]!.data.message_id).toMatch(/^node-next-/);

    // "…as long as this person does not already have an id value": the email's person has an id already, so the new
    // id is a new person without that email, and the refused email is logged too.
    await user.identify({ userId: 'userId999', traits: { email: 'customer@example.com', plan: 'trial' } });
    const created = await user.ws.person('userId999');
    expect(created.identifiers.email).toBeNull();
    expect(created.attributes.plan).toBe('trial');
    expect((await user.ws.person('userId123')).identifiers.email).toBe('customer@example.com');
    expect(await integrationLog(user.ws, 'identifier_in_use')).toHaveLength(2);
    await user.close();
  });

  it('Update email and ID: identify("cio_<cio_id>", {email, id}) changes both identifiers', async () => {
    const user = await segmentUser();
    await user.identify({ userId: 'old-id-value', traits: { email: 'old.email@example.com', plan: 'basic' } });
    const cio = (await user.ws.person('old-id-value')).identifiers.cio_id as string;

    await user.identify({ userId: `cio_${cio}`, traits: { email: 'new.email@example.com', id: 'new-id-value' } });

    const p = await user.ws.person('new-id-value');
    expect(p.identifiers).toEqual({ id: 'new-id-value', email: 'new.email@example.com', cio_id: cio });
    expect(p.attributes.plan).toBe('basic');
    expect(await user.ws.person('old-id-value')).toBeNull();
    expect(await user.ws.byEmail('old.email@example.com')).toEqual([]);

    // Without cio_: a different email for an existing id is refused (the workspace does not allow email updates by id).
    await user.identify({ userId: 'new-id-value', traits: { email: 'third@example.com' } });
    expect((await user.ws.person('new-id-value')).identifiers.email).toBe('new.email@example.com');
    expect(await integrationLog(user.ws, 'identifier_change_requires_cio_id')).toHaveLength(1);
    await user.close();
  });

  it('Unsubscribing users: identify with unsubscribed: true unsubscribes the person', async () => {
    const user = await segmentUser();
    await user.identify({ userId: 'userId123', traits: { email: 'john.doe@example.com' } });
    expect((await user.ws.person('userId123')).unsubscribed).toBe(false);
    await user.identify({ userId: 'userId123', traits: { email: 'john.doe@example.com', unsubscribed: true } });
    const p = await user.ws.person('userId123');
    expect(p.unsubscribed).toBe(true);
    expect(p.attributes.unsubscribed).toBe('true');
    await user.close();
  });

  it('Workspaces that only support ID: userId is the id, email is an ordinary attribute, an email-only identify is dropped', async () => {
    const user = await segmentUser({ identifiers: 'id_only' });
    await user.identify({ userId: 'userId123', traits: { first_name: 'No Email' } });
    expect((await user.ws.person('userId123')).identifiers.email).toBeNull();

    // "You must provide the email address as a trait labeled email" to send emails: stored, not an identifier.
    await user.identify({ userId: 'userId123', traits: { email: 'shared@example.com' } });
    await user.identify({ userId: 'userId456', traits: { email: 'shared@example.com' } });
    expect((await user.ws.person('userId123')).attributes.email).toBe('shared@example.com');
    expect((await user.ws.person('userId456')).attributes.email).toBe('shared@example.com');
    expect((await user.ws.byEmail('shared@example.com')).map((p) => p.id).sort()).toEqual(['userId123', 'userId456']);

    // An email-shaped userId is an id here ("pass email as the userId").
    await user.identify({ userId: 'someone@example.com', traits: { plan: 'x' } });
    expect((await user.ws.person('someone@example.com')).identifiers.id).toBe('someone@example.com');

    // No userId: nothing can name the person, so the call is dropped and logged.
    await user.identify({ userId: '', traits: { email: 'lead@example.com' } });
    expect(await user.ws.byEmail('lead@example.com')).toEqual([]);
    expect(await integrationLog(user.ws, 'no_identifier')).toHaveLength(1);
    await user.close();
  });

  it('Segment Suppression and Deletion: a deletion removes the person; Segment suppression is not synchronized, so a later identify creates a new person', async () => {
    const user = await segmentUser();
    await user.identify({ userId: 'doomed', traits: { email: 'doomed@example.com' } });
    await user.track({ userId: 'doomed', event: 'Signed Up' });
    const before = await user.ws.person('doomed');

    // What Segment forwards for a SUPPRESS_WITH_DELETE / DELETE_ONLY regulation (partners/spec.md "Delete").
    const regulation = await user.ws.segment('/segment/webhook', {
      type: 'delete',
      channel: 'server',
      userId: 'doomed',
      context: null,
      integrations: null,
      messageId: 'delete-reg-6543321::job-2-P0OJ3CTID1',
      projectId: 'P0OJ3CTID1',
      timestamp: '2020-05-09T23:54:49.209Z',
    });
    expect(regulation).toEqual({ status: 200, body: { success: true } });
    expect(await user.ws.person('doomed')).toBeNull();
    expect(await user.ws.byEmail('doomed@example.com')).toEqual([]);

    // Suppressions are not synchronized: the same user coming back is a new person with a new cio_id, no old events.
    await user.identify({ userId: 'doomed', traits: { email: 'doomed@example.com' } });
    const after = await user.ws.person('doomed');
    expect(after.identifiers.cio_id).not.toBe(before.identifiers.cio_id);
    expect(await eventsOf(user.ws, 'doomed')).toEqual([]);

    // The same deletion sent from code, as the Actions destination's "User Deleted" event.
    await user.track({ userId: 'doomed', event: 'User Deleted' });
    expect(await user.ws.person('doomed')).toBeNull();
    await user.close();
  });

  it('Alias and anonymous events: anonymous history joins the profile on identify and on alias; alias of a known person merges', async () => {
    const user = await segmentUser();
    // Browsing before signing up.
    await user.page({ anonymousId: 'browser-1', name: 'Pricing', properties: { url: 'https://example.com/pricing' } });
    await user.track({ anonymousId: 'browser-1', event: 'Started Trial' });
    // Sign-up: identify carries the anonymousId.
    await user.identify({ userId: 'signed-up', anonymousId: 'browser-1', traits: { email: 'signed@example.com' } });
    // A second device, then alias ties it to the user.
    await user.track({ anonymousId: 'phone-1', event: 'Opened App' });
    await user.alias({ userId: 'signed-up', previousId: 'phone-1' });
    // Later anonymous events from either device go straight to the person.
    await user.track({ anonymousId: 'phone-1', event: 'Tapped Banner' });

    expect((await eventsOf(user.ws, 'signed-up')).map((e) => `${e.type}:${e.name}`)).toEqual([
      'page:https://example.com/pricing',
      'event:Started Trial',
      'event:Opened App',
      'event:Tapped Banner',
    ]);

    // An old account aliased into the new one: merged, old account gone, its events and attributes kept.
    await user.identify({ userId: 'legacy-42', traits: { legacy_plan: 'gold' } });
    await user.track({ userId: 'legacy-42', event: 'Legacy Purchase' });
    await user.alias({ userId: 'signed-up', previousId: 'legacy-42' });
    expect(await user.ws.person('legacy-42')).toBeNull();
    const p = await user.ws.person('signed-up');
    expect(p.attributes.legacy_plan).toBe('gold');
    expect((await eventsOf(user.ws, 'signed-up')).map((e) => e.name)).toContain('Legacy Purchase');
    expect(await user.ws.activitiesOfType('signed-up', 'merged')).toHaveLength(1);
    await user.close();
  });

  it('Prevent new users from causing duplicates: identify by email as the userId first, then by id after sign-up: one person', async () => {
    const user = await segmentUser();
    // 1. "Pass email as the userId in Segment's identify call."
    await user.identify({ userId: 'prospect@example.com', traits: { source: 'newsletter' } });
    await user.track({ userId: 'prospect@example.com', event: 'Downloaded Whitepaper' });
    const lead = await user.ws.person('prospect@example.com', 'email');
    expect(lead.identifiers).toMatchObject({ id: null, email: 'prospect@example.com' });

    // 2. "Update a person's ID using an identify call after they sign up."
    await user.identify({ userId: 'user-777', traits: { email: 'prospect@example.com', plan: 'starter' } });
    await user.track({ userId: 'user-777', event: 'Completed Onboarding' });

    const people = await user.ws.byEmail('prospect@example.com');
    expect(people).toEqual([{ id: 'user-777', email: 'prospect@example.com', cio_id: lead.identifiers.cio_id }]);
    expect((await user.ws.person('user-777')).attributes).toMatchObject({ source: 'newsletter', plan: 'starter' });
    expect((await eventsOf(user.ws, 'user-777')).map((e) => e.name)).toEqual([
      'Downloaded Whitepaper',
      'Completed Onboarding',
    ]);
    await user.close();
  });
});
