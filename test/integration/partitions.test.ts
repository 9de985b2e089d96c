import { Migrator, sql, type Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { maintainPartitionsKind } from '../../src/jobs/partitions.js';
import { recurringKey } from '../../src/jobs/runner.js';
import { createRoster, type Roster } from '../../src/roster.js';
import { copyStore } from '../../src/store/copy.js';
import { openPostgresStore, openSqliteStore } from '../../src/store/database.js';
import { eventsStore } from '../../src/store/events.js';
import { jobsStore } from '../../src/store/jobs.js';
import { migrateToLatest, migrations } from '../../src/store/migrations/index.js';
import {
  ensureMonthlyPartitions,
  listPartitions,
  monthStart,
  monthsAhead,
  partitionName,
} from '../../src/store/partitions.js';
import type { Db } from '../../src/store/types.js';
import { workspacesStore } from '../../src/store/workspaces.js';
import { freshPostgresSchema, testBackend } from '../helpers/backend.js';
import { startServer, TestWorkspace, type Reply, type TestServer } from '../helpers/roster-server.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * scaling.md, Partitions: on PostgreSQL `events` (by received_at) and `activities` (by ts) are partitioned by month,
 * with a DEFAULT partition, and event ids are unique in `event_ids`. Event-id deduplication behaves exactly as on
 * SQLite, whichever path stores the event (one call, a batch, two servers on one database), and deleting a person or
 * purging anonymous events frees their ids on both. The partition parts need PostgreSQL: on SQLite they are skipped
 * (SQLite has no partitions), the deduplication parts run on both.
 */

const onPg = testBackend === 'postgres';
const pgOnly = it.skipIf(!onPg);

let server: TestServer;
let ws: TestWorkspace;
let wsPk: number;
let seq = 0;
const uid = (p: string) => `${p}-${process.pid}-${++seq}`;

beforeAll(async () => {
  server = await startServer();
  ws = await server.workspace();
  wsPk = (await workspacesStore.byPublicId(server.roster.store.reader, ws.creds.workspace_id))!.pk;
});

afterAll(async () => {
  await server?.close();
});

function expectOk(r: Reply) {
  expect(r.status, JSON.stringify(r.body)).toBe(200);
}

const db = (): Db => server.roster.store.reader;

/** How many events of the workspace carry the id. */
async function stored(eventId: string): Promise<number> {
  const r = await db()
    .selectFrom('events')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('workspace_pk', '=', wsPk)
    .where('event_id', '=', eventId)
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

/** PostgreSQL: event_ids holds exactly the ids of the stored events (nothing orphaned, nothing missing). */
async function expectEventIdsConsistent(): Promise<void> {
  if (!onPg) return;
  const r = await sql<{ orphans: number; missing: number }>`select
    (select count(*)::int from event_ids i where not exists (select 1 from events e
      where e.workspace_pk = i.workspace_pk and e.event_id = i.event_id)) as orphans,
    (select count(*)::int from events e where e.event_id is not null and not exists (select 1 from event_ids i
      where i.workspace_pk = e.workspace_pk and i.event_id = e.event_id)) as missing`.execute(db());
  expect(r.rows[0]).toEqual({ orphans: 0, missing: 0 });
}

/** The partition each of the rows is stored in. */
async function partitionsOf(table: 'events' | 'activities', where: ReturnType<typeof sql>): Promise<string[]> {
  const r = await sql<{ part: string }>`select tableoid::regclass::text as part from ${sql.table(table)}
    where ${where}`.execute(db());
  return [...new Set(r.rows.map((row) => row.part))];
}

describe('partitions (PostgreSQL)', () => {
  pgOnly('after migration, events and activities have this month, the next three and a DEFAULT partition', async () => {
    const now = Date.now();
    const months = Array.from({ length: monthsAhead + 1 }, (_, i) => monthStart(now, i));
    for (const table of ['events', 'activities']) {
      const parts = await listPartitions(db(), table);
      expect(parts).toEqual(
        expect.arrayContaining([...months.map((m) => partitionName(table, m)), `${table}_default`]),
      );
    }
  });

  pgOnly(
    'events land in the partition of the month they were received, activities of the month they happened',
    async () => {
      const id = uid('p');
      expectOk(await ws.identify(id, { plan: 'a' }));
      expectOk(await ws.track(id, { name: 'bought', id: uid('e'), timestamp: 1_000_000 }));
      const month = partitionName('events', monthStart(Date.now()));
      // The event happened in 1970, but was received now: partitions follow received_at.
      expect(await partitionsOf('events', sql`name = 'bought' and workspace_pk = ${wsPk}`)).toEqual([month]);
      expect(await partitionsOf('activities', sql`workspace_pk = ${wsPk}`)).toEqual([
        partitionName('activities', monthStart(Date.now())),
      ]);
    },
  );

  pgOnly('the maintenance job creates future months once, and moves DEFAULT rows of a month it creates', async () => {
    const now = Date.now();
    const later = monthStart(now, 6) + 86_400_000;
    // A row received six months from now: no partition for it yet, so it waits in DEFAULT.
    const eventId = uid('future');
    expect(
      await eventsStore.insert(
        server.roster.store.writer,
        wsPk,
        { anonymousId: 'a-future' },
        { name: 'future', type: 'event', eventId, data: {} },
        later,
      ),
    ).toBe(true);
    expect(await partitionsOf('events', sql`event_id = ${eventId}`)).toEqual(['events_default']);

    // The recurring job is queued once; run one now, pretending it is four months later.
    const queued = await jobsStore.list(db(), maintainPartitionsKind);
    expect(queued.filter((j) => j.dedupeKey === recurringKey(maintainPartitionsKind))).toHaveLength(1);
    await jobsStore.enqueue(server.roster.store.writer, { kind: maintainPartitionsKind, runAt: now });
    const at = monthStart(now, 4) + 1000;
    await server.roster.jobs.runDueJobs({ now: at });
    for (let i = 0; i <= monthsAhead; i++) {
      const parts = await listPartitions(db(), 'events');
      expect(parts).toContain(partitionName('events', monthStart(at, i)));
    }
    expect(await partitionsOf('events', sql`event_id = ${eventId}`)).toEqual([
      partitionName('events', monthStart(later)),
    ]);
    // Still one event, its id still taken.
    expect(await stored(eventId)).toBe(1);
    expect(
      await eventsStore.insert(
        server.roster.store.writer,
        wsPk,
        { anonymousId: 'a-future' },
        { name: 'future', type: 'event', eventId, data: {} },
        now,
      ),
    ).toBe(false);

    // Idempotent: running again creates nothing.
    const before = await listPartitions(db(), 'events');
    const again = await ensureMonthlyPartitions(server.roster.store.writer, { now: at });
    expect(again).toEqual({ created: [], moved: 0 });
    expect(await listPartitions(db(), 'events')).toEqual(before);
  });

  pgOnly('two maintenance runs at once create each partition once', async () => {
    const at = monthStart(Date.now(), 12);
    const second = await openPostgresStore(server.databaseUrl!, { migrate: false });
    try {
      const [a, b] = await Promise.all([
        ensureMonthlyPartitions(server.roster.store.writer, { now: at }),
        ensureMonthlyPartitions(second.writer, { now: at }),
      ]);
      const created = [...a.created, ...b.created].sort();
      expect(new Set(created).size).toBe(created.length);
      expect(created).toContain(partitionName('events', at));
    } finally {
      await second.close();
    }
  });
});

describe('event ids stay unique per workspace, forever (both backends)', () => {
  it('a repeated id is dropped: in one call after another, and twice in one batch', async () => {
    const id = uid('p');
    const eventId = uid('e');
    expectOk(await ws.track(id, { name: 'once', id: eventId }));
    expectOk(await ws.track(id, { name: 'once', id: eventId }));
    const twice = { type: 'person', action: 'event', identifiers: { id }, name: 'batched', id: uid('e') };
    expectOk(await ws.batch([twice, twice]));
    const anon = uid('e');
    expectOk(await ws.anonymousEvent({ name: 'anon', anonymous_id: uid('a'), id: anon }));
    expectOk(await ws.anonymousEvent({ name: 'anon', anonymous_id: uid('a'), id: anon }));
    expect(await stored(eventId)).toBe(1);
    expect(await stored(twice.id)).toBe(1);
    expect(await stored(anon)).toBe(1);
    // Another workspace may use the same id.
    const other = await server.workspace();
    expectOk(await other.track(id, { name: 'once', id: eventId }));
    expect(await stored(eventId)).toBe(1);
    await expectEventIdsConsistent();
  });

  it('sent at once to two servers on one database, each id is stored once', async () => {
    const second: Roster = await createRoster({
      dataDir: server.dataDir,
      databaseUrl: server.databaseUrl,
      jobPollMs: 3_600_000,
    });
    try {
      const base = await second.app.listen({ port: 0, host: '127.0.0.1' });
      const there = new TestWorkspace(base, ws.creds);
      const ids = Array.from({ length: 40 }, () => uid('race'));
      const person = uid('p');
      expectOk(await ws.identify(person, {}));
      const calls = ids.flatMap((eventId, i) => [
        ws.track(person, { name: 'race', id: eventId }),
        there.track(person, { name: 'race', id: eventId }),
        i % 2 === 0
          ? there.anonymousEvent({ name: 'race', anonymous_id: 'race-anon', id: eventId })
          : ws.anonymousEvent({ name: 'race', anonymous_id: 'race-anon', id: eventId }),
      ]);
      for (const r of await Promise.all(calls)) expectOk(r);
      for (const eventId of ids) expect(await stored(eventId), eventId).toBe(1);
      await expectEventIdsConsistent();
    } finally {
      await second.close();
    }
  });

  it("deleting a person frees their events' ids; a merge keeps them taken", async () => {
    const gone = uid('p');
    const eventId = uid('e');
    expectOk(await ws.track(gone, { name: 'before-delete', id: eventId }));
    expectOk(await ws.delete(gone));
    expect(await stored(eventId)).toBe(0);
    await expectEventIdsConsistent();
    expectOk(await ws.track(gone, { name: 'after-delete', id: eventId }));
    expect(await stored(eventId)).toBe(1);

    const primary = uid('p');
    const secondary = uid('p');
    const merged = uid('e');
    expectOk(await ws.identify(primary, {}));
    expectOk(await ws.track(secondary, { name: 'merged-away', id: merged }));
    expectOk(await ws.merge({ id: primary }, { id: secondary }));
    expectOk(await ws.track(primary, { name: 'merged-away', id: merged }));
    expect(await stored(merged)).toBe(1);
    await expectEventIdsConsistent();
  });

  it("the retention purge frees the purged events' ids", async () => {
    const eventId = uid('e');
    const longAgo = Math.floor(Date.now() / 1000) - 400 * 86_400;
    expectOk(await ws.anonymousEvent({ name: 'expired', anonymous_id: uid('a'), id: eventId, timestamp: longAgo }));
    expect(await stored(eventId)).toBe(1);
    const purged = await eventsStore.purgeAnonymousBefore(
      server.roster.store.writer,
      wsPk,
      Date.now() - 86_400_000,
      1000,
    );
    expect(purged).toBeGreaterThanOrEqual(1);
    expect(await stored(eventId)).toBe(0);
    await expectEventIdsConsistent();
    expectOk(await ws.anonymousEvent({ name: 'expired', anonymous_id: uid('a'), id: eventId }));
    expect(await stored(eventId)).toBe(1);
  });
});

describe('migration 0013 and roster copy (PostgreSQL)', () => {
  pgOnly('moves existing rows into monthly partitions, fills event_ids and keeps pk sequences going', async () => {
    const schema = await freshPostgresSchema();
    try {
      const store = await openPostgresStore(schema.url, { migrate: false });
      try {
        const raw = store.writer as unknown as Kysely<unknown>;
        const before = Object.fromEntries(Object.entries(migrations).filter(([name]) => name < '0013'));
        const migrator = new Migrator({
          db: raw,
          provider: { getMigrations: async () => before },
          allowUnorderedMigrations: true,
          migrationTableSchema: (await sql<{ s: string }>`select current_schema() as s`.execute(raw)).rows[0]!.s,
        });
        expect((await migrator.migrateToLatest()).error).toBeUndefined();
        const now = Date.now();
        const lastYear = monthStart(now, -12) + 5000;
        await sql`insert into events (workspace_pk, person_pk, event_id, type, name, data, ts, received_at)
          values (1, 1, 'old', 'event', 'x', '{}', 1, ${lastYear}), (1, 1, 'new', 'event', 'x', '{}', 1, ${now}),
            (1, 1, null, 'event', 'x', '{}', 1, ${now})`.execute(raw);
        await sql`insert into activities (workspace_pk, person_pk, type, data, ts)
          values (1, 1, 'merged', '{}', ${lastYear}), (1, 1, 'merged', '{}', ${now})`.execute(raw);

        expect(await migrateToLatest(raw)).toEqual(Object.keys(migrations).filter((name) => name >= '0013'));
        const parts = await sql<{ event_id: string | null; part: string; pk: number }>`select event_id,
          tableoid::regclass::text as part, pk from events order by pk`.execute(raw);
        expect(parts.rows).toEqual([
          { event_id: 'old', part: partitionName('events', monthStart(lastYear)), pk: 1 },
          { event_id: 'new', part: partitionName('events', monthStart(now)), pk: 2 },
          { event_id: null, part: partitionName('events', monthStart(now)), pk: 3 },
        ]);
        const acts = await sql<{ part: string }>`select tableoid::regclass::text as part from activities
          order by pk`.execute(raw);
        expect(acts.rows.map((r) => r.part)).toEqual([
          partitionName('activities', monthStart(lastYear)),
          partitionName('activities', monthStart(now)),
        ]);
        // Every month in between got its partition too.
        expect(await listPartitions(raw, 'events')).toContain(partitionName('events', monthStart(now, -6)));
        const ids = await sql<{ event_id: string }>`select event_id from event_ids order by event_id`.execute(raw);
        expect(ids.rows.map((r) => r.event_id)).toEqual(['new', 'old']);

        const db = store.writer;
        const e = { name: 'x', type: 'event' as const, data: {} };
        expect(await eventsStore.insert(db, 1, { personPk: 1 }, { ...e, eventId: 'old' }, now)).toBe(false);
        expect(await eventsStore.insert(db, 1, { personPk: 1 }, { ...e, eventId: 'fresh' }, now)).toBe(true);
        const pk = await sql<{ pk: number }>`select max(pk) as pk from events`.execute(raw);
        expect(pk.rows[0]!.pk).toBe(4);
      } finally {
        await store.close();
      }
    } finally {
      await schema.drop();
    }
  });

  pgOnly("roster copy puts each month's rows in its partition and their ids in event_ids", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'roster-part-copy-'));
    const schema = await freshPostgresSchema();
    try {
      const source = await openSqliteStore(dir);
      const target = await openPostgresStore(schema.url);
      try {
        const lastYear = monthStart(Date.now(), -12) + 5000;
        const e = { name: 'x', type: 'event' as const, data: {} };
        expect(await eventsStore.insert(source.writer, 7, { personPk: 3 }, { ...e, eventId: 'copied' }, lastYear)).toBe(
          true,
        );
        await copyStore(source, target, { batchSize: 100 });
        const parts = await sql<{ part: string }>`select tableoid::regclass::text as part from events`.execute(
          target.reader,
        );
        expect(parts.rows).toEqual([{ part: partitionName('events', monthStart(lastYear)) }]);
        expect(
          await eventsStore.insert(target.writer, 7, { personPk: 3 }, { ...e, eventId: 'copied' }, Date.now()),
        ).toBe(false);
      } finally {
        await source.close();
        await target.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await schema.drop();
    }
  });
});
