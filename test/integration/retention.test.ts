import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { purgeAnonymousEventsKind } from '../../src/jobs/retention.js';
import { recurringKey } from '../../src/jobs/runner.js';
import { createRoster } from '../../src/roster.js';
import { eventsStore } from '../../src/store/events.js';
import { integrationLogStore } from '../../src/store/integration-log.js';
import { jobsStore } from '../../src/store/jobs.js';
import { workspacesStore } from '../../src/store/workspaces.js';
import { startServer, type Reply, type TestServer, type TestWorkspace } from '../helpers/roster-server.js';

/**
 * Anonymous-event retention (identity.md, Events): the recurring `purge_anonymous_events` job deletes events never
 * linked to a person once older (by event time) than the workspace's `anonymous_retention_days`, keeps linked and
 * young ones, and drops integration-log rows older than 30 days. Events are sent over real HTTP with past timestamps.
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

const day = 86_400;
const nowS = () => Math.floor(Date.now() / 1000);

function expectOk(r: Reply) {
  expect(r.status, JSON.stringify(r.body)).toBe(200);
}

async function pkOf(w: TestWorkspace): Promise<number> {
  return (await workspacesStore.byPublicId(server.roster.store.reader, w.creds.workspace_id))!.pk;
}

async function eventNames(w: TestWorkspace): Promise<string[]> {
  const events = (await server.dump(w)).events as { name: string }[];
  return events.map((e) => e.name).sort();
}

/** Queues a purge now and runs it (the recurring one may already have run at start). */
async function purge(): Promise<void> {
  await jobsStore.enqueue(server.roster.store.writer, { kind: purgeAnonymousEventsKind });
  await server.roster.jobs.runDueJobs();
  const pending = await jobsStore.list(server.roster.store.reader, purgeAnonymousEventsKind);
  expect(pending.filter((j) => j.dedupeKey === null && j.status !== 'done')).toEqual([]);
}

describe('purge_anonymous_events', () => {
  it('is scheduled once at start, however many servers open the data dir', async () => {
    const second = await createRoster({ dataDir: server.dataDir, jobPollMs: 3_600_000 });
    try {
      const recurring = (await jobsStore.list(server.roster.store.reader, purgeAnonymousEventsKind)).filter(
        (j) => j.dedupeKey === recurringKey(purgeAnonymousEventsKind),
      );
      expect(recurring).toHaveLength(1);
      expect(recurring[0]!.status).not.toBe('failed');
    } finally {
      await second.close();
    }
  });

  it("deletes only anonymous events older than the workspace's retention; keeps young and linked ones", async () => {
    await workspacesStore.update(server.roster.store.writer, await pkOf(ws), { anonymousRetentionDays: 10 });
    const now = nowS();
    const send = (name: string, daysAgo: number, anonymousId?: string) =>
      ws.anonymousEvent({ name, anonymous_id: anonymousId, timestamp: now - daysAgo * day });
    expectOk(await send('anon-old', 20, 'a-old'));
    expectOk(await send('anon-just-expired', 10 + 1 / 24, 'a-old'));
    expectOk(await send('anon-no-id-old', 20));
    expectOk(await send('anon-just-young', 10 - 1 / 24, 'a-young'));
    expectOk(await send('anon-young', 1, 'a-young'));
    // Linked to a person before the purge: the events are the person's now, whatever their age.
    expectOk(await send('linked-old', 20, 'a-linked'));
    expectOk(await ws.identify('ret-person', { anonymous_id: 'a-linked' }));
    expectOk(await send('linked-later-old', 20, 'a-linked'));
    expectOk(await ws.track('ret-person', { name: 'person-old', timestamp: now - 400 * day }));
    // Another workspace keeps the default 30 days.
    expectOk(await other.anonymousEvent({ name: 'other-20d', anonymous_id: 'o', timestamp: now - 20 * day }));
    expectOk(await other.anonymousEvent({ name: 'other-40d', anonymous_id: 'o', timestamp: now - 40 * day }));

    await purge();

    expect(await eventNames(ws)).toEqual(
      ['anon-just-young', 'anon-young', 'linked-later-old', 'linked-old', 'person-old'].sort(),
    );
    expect(await eventNames(other)).toEqual(['other-20d']);
  });

  it('reads the retention at each run: shortening it purges what an earlier run kept', async () => {
    const w = await server.workspace();
    const now = nowS();
    expectOk(await w.anonymousEvent({ name: 'kept-25d', anonymous_id: 'late', timestamp: now - 25 * day }));
    await purge();
    expect(await eventNames(w)).toEqual(['kept-25d']);
    await workspacesStore.update(server.roster.store.writer, await pkOf(w), { anonymousRetentionDays: 20 });
    await purge();
    expect(await eventNames(w)).toEqual([]);
  });

  it('deletes in batches: more than one batch of expired events all go', async () => {
    const w = await server.workspace();
    const pk = await pkOf(w);
    const old = Date.now() - 60 * day * 1000;
    await server.roster.store.writer.transaction().execute(async (trx) => {
      for (let i = 0; i < 2_500; i++)
        await eventsStore.insert(
          trx,
          pk,
          { anonymousId: `bulk-${i % 7}` },
          { name: 'bulk', type: 'event', data: {}, timestamp: old },
          old,
        );
    });
    expectOk(await w.anonymousEvent({ name: 'fresh', anonymous_id: 'bulk-1' }));
    await purge();
    expect(await eventNames(w)).toEqual(['fresh']);
  });

  it('drops integration-log rows older than 30 days, in every workspace', async () => {
    const w = await server.workspace();
    const pk = await pkOf(w);
    const db = server.roster.store.writer;
    const daysAgo = (n: number) => Date.now() - n * day * 1000;
    await integrationLogStore.record(
      db,
      pk,
      { surface: 'track_v1', outcome: 'person_not_found', reason: '31d' },
      daysAgo(31),
    );
    await integrationLogStore.record(
      db,
      pk,
      { surface: 'track_v1', outcome: 'person_not_found', reason: '29d' },
      daysAgo(29),
    );
    await purge();
    const left = await integrationLogStore.tail(server.roster.store.reader, pk, { limit: 10 });
    expect(left.map((r) => r.reason)).toEqual(['29d']);
  });
});

describe('roster workspace set --anonymous-retention-days (store)', () => {
  it('stores the setting the purge reads', async () => {
    const w = await server.workspace();
    const pk = await pkOf(w);
    expect((await workspacesStore.byPk(server.roster.store.reader, pk))!.settings.anonymousRetentionDays).toBe(30);
    await workspacesStore.update(server.roster.store.writer, pk, { anonymousRetentionDays: 7 });
    expect((await workspacesStore.byPk(server.roster.store.reader, pk))!.settings.anonymousRetentionDays).toBe(7);
  });
});

describe('Segment messageId retention', () => {
  it('remembers a messageId through the 7-day window, then forgets it', async () => {
    const { purgeExpired } = await import('../../src/jobs/retention.js');
    const w = await server.workspace();
    const send = (n: number) =>
      w.segment('/v1/identify', { userId: 'dedupe-window', traits: { n }, messageId: 'm-window' });
    expectOk(await send(1));
    await purgeExpired(server.roster.store.writer, Date.now() + 7 * day * 1000);
    expectOk(await send(2));
    expect((await w.person('dedupe-window')).attributes.n).toBe('1');
    const counts = await purgeExpired(server.roster.store.writer, Date.now() + 9 * day * 1000);
    expect(counts.segmentMessageIds).toBeGreaterThanOrEqual(1);
    expectOk(await send(3));
    expect((await w.person('dedupe-window')).attributes.n).toBe('3');
  });
});

describe('pending anonymous relationships', () => {
  it('are purged with the anonymous events once older than the retention', async () => {
    const { purgeExpired } = await import('../../src/jobs/retention.js');
    const w = await server.workspace();
    await w.segment('/v1/group', { anonymousId: 'anon-pending', groupId: 'acme', traits: { plan: 'x' } });
    const pending = () => (server.dump(w) as Promise<Record<string, unknown[]>>).then((d) => d.pending_relationships);
    expect(await pending()).toHaveLength(1);
    const young = await purgeExpired(server.roster.store.writer, Date.now() + 29 * day * 1000);
    expect(young.pendingRelationships).toBe(0);
    const old = await purgeExpired(server.roster.store.writer, Date.now() + 31 * day * 1000);
    expect(old.pendingRelationships).toBe(1);
    expect(await pending()).toHaveLength(0);
  });
});
