/**
 * Before a write batch applies its commands, the writer reads what they name in one query per kind of key: people by
 * id, email and cio_id, suppressed identifiers, stored event ids, seen Segment message ids. On SQLite each query takes
 * its keys as one JSON parameter (`in (select value from json_each(?))`), so its text, and its cached prepared
 * statement, is the same whatever the number of keys; and it must search the column's index once per key, never
 * scan the workspace (an `order by pk` made SQLite read every person through people (workspace_pk, pk)).
 */
import { CompiledQuery, Kysely, SqliteDialect, type LogEvent } from 'kysely';
import BetterSqlite3 from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prefetch } from '../../src/ingest/batch.js';
import type { CallContext, Command } from '../../src/ingest/commands.js';
import { mapSegmentMessage } from '../../src/ingest/segment/mapping.js';
import { Writer } from '../../src/ingest/writer.js';
import { openStore, type Store } from '../../src/store/database.js';
import { peopleStore } from '../../src/store/people.js';
import type { Database } from '../../src/store/schema.js';
import type { Db } from '../../src/store/types.js';
import { attachUnit, detachUnit, UnitOfWork } from '../../src/store/unit-of-work.js';
import { workspacesStore, type WorkspaceRecord } from '../../src/store/workspaces.js';
import { testBackend } from '../helpers/backend.js';
import { tempRosterHome, type RosterHome } from '../helpers/roster-process.js';

let home: RosterHome;
let store: Store;
let ws: WorkspaceRecord;

beforeAll(async () => {
  home = await tempRosterHome('roster-prefetch-');
  store = await openStore({ dataDir: home.dataDir, databaseUrl: home.env.DATABASE_URL });
  await workspacesStore.create(store.writer, Buffer.alloc(32), {
    name: 'prefetch',
    identifiers: 'email_or_id',
    allowEmailUpdateById: false,
  });
  ws = (await workspacesStore.list(store.writer))[0]!;
  // Some people to find: u0 … u199, each with an email, and an event each.
  const writer = new Writer(store.writer);
  await Promise.all(
    Array.from({ length: 200 }, (_, i) =>
      writer.submit(context(), segment({ type: 'identify', userId: `u${i}`, traits: { email: `u${i}@x.io` } }, i)),
    ),
  );
  await writer.close();
});

afterAll(async () => {
  await store?.close();
  await home?.remove();
});

const context = (): CallContext => ({ ws, surface: 'segment', receivedAt: Date.now() });

function segment(message: Record<string, unknown>, n: number): Command {
  const mapped = mapSegmentMessage(
    { messageId: `m-${n}`, timestamp: new Date().toISOString(), ...message },
    { identifiers: 'email_or_id', convertTimestamps: true },
  );
  return { kind: 'segment_message', ...mapped };
}

/** `count` messages naming people half of whom exist, by id and by email. */
function batch(count: number): { ctx: CallContext; cmd: Command }[] {
  return Array.from({ length: count }, (_, i) => ({
    ctx: context(),
    cmd:
      i % 2 === 0
        ? segment({ type: 'track', userId: `u${i * 3}`, event: 'Viewed' }, 10_000 + i)
        : segment({ type: 'identify', userId: `u${i * 5}`, traits: { email: `u${i * 7}@x.io` } }, 10_000 + i),
  }));
}

/** Runs the batch's prefetch in a write transaction with a unit attached; returns the SQL it ran and the unit. */
async function prefetchLogged(db: Kysely<Database>, items: { ctx: CallContext; cmd: Command }[]) {
  const unit = await db.transaction().execute(async (trx) => {
    const u = new UnitOfWork(trx, peopleStore.writeUnit, 0);
    attachUnit(u);
    try {
      await prefetch(trx, items);
    } finally {
      detachUnit(u);
    }
    return u;
  });
  return unit;
}

describe.skipIf(testBackend === 'postgres')('SQLite: a batch prefetch', () => {
  let db: Kysely<Database>;
  const statements: string[] = [];

  beforeAll(() => {
    db = new Kysely<Database>({
      dialect: new SqliteDialect({ database: new BetterSqlite3(store.file) }),
      log: (e: LogEvent) => {
        if (e.level === 'query' && e.query.sql.startsWith('select')) statements.push(e.query.sql);
      },
    });
  });
  afterAll(async () => {
    await db?.destroy();
  });

  it('reads each kind of key in one statement whose text does not depend on how many keys there are', async () => {
    statements.length = 0;
    await prefetchLogged(db, batch(6));
    const small = [...statements];
    statements.length = 0;
    await prefetchLogged(db, batch(300));
    expect(statements).toEqual(small);
    // people by id and by email, suppressions, Segment message ids (track/page messages dedupe by event id instead).
    expect(small.filter((s) => s.includes('json_each')).length).toBeGreaterThanOrEqual(4);
    expect(small.every((s) => !/ in \(\?/.test(s))).toBe(true);
  });

  it('knows afterwards who exists and who does not, as one read per key would', async () => {
    const unit = await prefetchLogged(db, batch(40));
    for (let i = 0; i < 40; i += 2) {
      const id = `u${i * 3}`;
      const found = unit.person(ws.pk, 'id', id);
      expect(found === null ? null : found?.id).toBe(i * 3 < 200 ? id : null);
    }
    for (let i = 1; i < 40; i += 2) {
      const key = `u${i * 7}@x.io`;
      const found = unit.person(ws.pk, 'email', key);
      expect(found === null ? null : found?.emailKey).toBe(i * 7 < 200 ? key : null);
    }
  });

  it('matches ids that look like numbers exactly, as text, as `= ?` does', async () => {
    const writer = new Writer(store.writer);
    await Promise.all(
      ['123', '0123', '1e3'].map((userId, i) =>
        writer.submit(context(), segment({ type: 'identify', userId, traits: {} }, 20_000 + i)),
      ),
    );
    await writer.close();
    const names = ['123', '0123', '1e3', '1000', '12', '0123 '];
    const items = names.map((userId, i) => ({
      ctx: context(),
      cmd: segment({ type: 'track', userId, event: 'Viewed' }, 30_000 + i),
    }));
    const unit = await prefetchLogged(db, items);
    const found = names.filter((id) => unit.person(ws.pk, 'id', id)?.id === id);
    const absent = names.filter((id) => unit.person(ws.pk, 'id', id) === null);
    expect(found).toEqual(['123', '0123', '1e3']);
    expect(absent).toEqual(['1000', '12', '0123 ']);
  });

  it('searches an index once per key and never scans a table', async () => {
    statements.length = 0;
    await prefetchLogged(db, batch(20));
    const keyed = statements.filter((s) => s.includes('json_each'));
    expect(keyed.length).toBeGreaterThan(0);
    for (const text of keyed) {
      const params = [...text.matchAll(/\?/g)].map((_, i) => (text.indexOf('json_each') >= 0 && i > 0 ? '[]' : 1));
      const plan = await (db as Db).executeQuery<{ detail: string }>(
        CompiledQuery.raw(`explain query plan ${text}`, params),
      );
      const details = plan.rows.map((r) => r.detail);
      expect(
        details.filter((d) => /^SCAN (people|events|suppressions|segment_messages)\b/.test(d)),
        text,
      ).toEqual([]);
      expect(details.join('\n'), text).toMatch(/SEARCH \w+ USING (COVERING |PRIMARY KEY )?INDEX/);
      expect(details.join('\n'), text).not.toContain('people_workspace_pk');
    }
  });
});
