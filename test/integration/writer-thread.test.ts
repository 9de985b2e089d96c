/**
 * On SQLite a server with a second core applies its writes in a worker thread (writer-thread.ts): the same Writer on
 * a connection of its own. What crosses between the threads (commands, outcomes with their errors, failures) must
 * arrive whole; a worker that dies must answer its callers 503 and be replaced, losing nothing it acknowledged; and
 * closing must commit everything queued.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CallContext, Command, Outcome } from '../../src/ingest/commands.js';
import { mapSegmentMessage } from '../../src/ingest/segment/mapping.js';
import { ThreadedWriter } from '../../src/ingest/writer-thread.js';
import { createRoster, type Roster } from '../../src/roster.js';
import { openStore } from '../../src/store/database.js';
import { workspacesStore, type WorkspaceRecord } from '../../src/store/workspaces.js';
import { testBackend } from '../helpers/backend.js';

const onSqliteWithTwoCores = testBackend === 'sqlite' && availableParallelism() > 1;

function identify(userId: string, n: number, traits: Record<string, unknown> = {}): Command {
  const mapped = mapSegmentMessage(
    { type: 'identify', userId, traits: { email: `${userId}@x.io`, ...traits }, messageId: `wt-${n}` },
    { identifiers: 'email_or_id', convertTimestamps: true },
  );
  return { kind: 'segment_message', ...mapped };
}

async function startRoster(dataDir: string): Promise<{ roster: Roster; ws: WorkspaceRecord }> {
  const roster = await createRoster({ dataDir });
  await workspacesStore.create(roster.store.writer, roster.masterKey, {
    name: 'thread',
    identifiers: 'email_or_id',
    allowEmailUpdateById: false,
  });
  const ws = (await workspacesStore.list(roster.store.writer))[0]!;
  return { roster, ws };
}

const personIds = async (roster: Roster, ws: WorkspaceRecord) =>
  (await roster.store.reader.selectFrom('people').select('id').where('workspace_pk', '=', ws.pk).execute()).map(
    (r) => r.id,
  );

describe.skipIf(!onSqliteWithTwoCores)('the SQLite writer thread', () => {
  let dataDir: string;
  let roster: Roster;
  let ws: WorkspaceRecord;
  const ctx = (): CallContext => ({ ws, surface: 'segment', receivedAt: Date.now() });

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'roster-writer-thread-'));
    ({ roster, ws } = await startRoster(dataDir));
  });
  afterAll(async () => {
    await roster?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('is what a server on two cores writes through, and its commits are visible to the server at once', async () => {
    expect(roster.writer).toBeInstanceOf(ThreadedWriter);
    const outcome = await roster.writer.submit(ctx(), identify('first', 1, { plan: 'pro', tags: ['a', 'b'] }));
    expect(outcome).toEqual({ status: 'ok' });
    const row = await roster.store.reader
      .selectFrom('people')
      .select(['email', 'attributes'])
      .where('workspace_pk', '=', ws.pk)
      .where('id', '=', 'first')
      .executeTakeFirstOrThrow();
    expect(row.email).toBe('first@x.io');
    expect(JSON.parse(row.attributes)).toMatchObject({ plan: 'pro', tags: ['a', 'b'] });
  });

  it('answers outcomes across threads whole: errors keep their code, message and status; drops their reason', async () => {
    const missing = await roster.writer.submit(ctx(), {
      kind: 'event',
      ref: { kind: 'cio_id', value: 'ffffffffffffffff' },
      event: { name: 'x', type: 'event', data: {} },
    });
    expect(missing.status).toBe('error');
    const error = (missing as Extract<Outcome, { status: 'error' }>).error;
    expect(error).toMatchObject({
      code: 'person_not_found',
      status: 404,
      message: 'No person matches cio_ffffffffffffffff.',
    });
    expect(error.constructor.name).toBe('RosterError');
    // The same messageId again: dropped as a duplicate.
    expect(await roster.writer.submit(ctx(), identify('first', 1))).toEqual({ status: 'dropped', reason: 'duplicate' });
  });

  it('a worker that dies answers what it had 503, loses nothing it acknowledged, and is replaced', async () => {
    const writer = roster.writer as ThreadedWriter;
    const dying = writer.thread;
    const commands = Array.from({ length: 5000 }, (_, i) => writer.submit(ctx(), identify(`d${i}`, 10_000 + i)));
    await new Promise((r) => setImmediate(r)); // they have been posted
    await dying.terminate();
    const outcomes = await Promise.all(commands);
    const unavailable = outcomes.filter((o) => o.status === 'error' && o.error.code === 'unavailable').length;
    const ok = outcomes.filter((o) => o.status === 'ok').length;
    expect(ok + unavailable).toBe(5000);
    expect(unavailable).toBeGreaterThan(0);
    // Everyone answered ok is stored (the rest may or may not be: a 503 says a retry is needed, which is safe).
    const stored = new Set(await personIds(roster, ws));
    outcomes.forEach((o, i) => o.status === 'ok' && expect(stored.has(`d${i}`), `d${i}`).toBe(true));
    expect(writer.thread).not.toBe(dying);
    expect(await writer.submit(ctx(), identify('after', 20_000))).toEqual({ status: 'ok' });
    // A retry of a message answered 503 is applied, or dropped as a duplicate when it had committed after all.
    const retried = outcomes.findIndex((o) => o.status === 'error');
    expect((await writer.submit(ctx(), identify(`d${retried}`, 10_000 + retried))).status).not.toBe('error');
    expect(await personIds(roster, ws)).toContain(`d${retried}`);
  });
});

describe.skipIf(!onSqliteWithTwoCores)('closing a server with a writer thread', () => {
  it('commits everything queued before it closed', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'roster-writer-thread-close-'));
    try {
      const { roster, ws } = await startRoster(dataDir);
      const ctx: CallContext = { ws, surface: 'segment', receivedAt: Date.now() };
      const queued = Array.from({ length: 3000 }, (_, i) => roster.writer.submit(ctx, identify(`c${i}`, i)));
      await roster.close();
      expect((await Promise.all(queued)).every((o) => o.status === 'ok')).toBe(true);
      // After close: answered 503, nothing written.
      expect(await roster.writer.submit(ctx, identify('late', 99_999))).toMatchObject({
        status: 'error',
        error: { code: 'unavailable' },
      });
      const store = await openStore({ dataDir });
      try {
        const { n } = await store.reader
          .selectFrom('people')
          .select((eb) => eb.fn.countAll().as('n'))
          .executeTakeFirstOrThrow();
        expect(Number(n)).toBe(3000);
      } finally {
        await store.close();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
