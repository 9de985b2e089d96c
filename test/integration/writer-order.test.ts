/**
 * PostgreSQL, several batches in flight in one process (ROSTER_PG_WRITERS > 1): a batch commits only after the batch
 * before it, so the calls of a process apply in the order it took them even when the earlier batch has to be re-run.
 * The failures are real PostgreSQL errors and waits, made by triggers in the test's own schema.
 */
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import type { Reference } from '../../src/domain/identifiers.js';
import type { CallContext, Command } from '../../src/ingest/commands.js';
import { Writer } from '../../src/ingest/writer.js';
import { peopleStore } from '../../src/store/people.js';
import { workspacesStore } from '../../src/store/workspaces.js';
import { testBackend } from '../helpers/backend.js';
import { useStore } from '../helpers/store.js';

describe.runIf(testBackend === 'postgres')('writer order with several batches in flight (PostgreSQL)', () => {
  const t = useStore('roster-writer-order-');

  const identify = (id: string, plan: string, ref: Reference = { kind: 'id', value: id }, email?: string): Command => ({
    kind: 'identify',
    ref,
    payload: { removeEmail: false, updateOnly: false, ...(email ? { bodyEmail: email } : {}), changes: { plan } },
  });

  async function setup(name: string, trigger: 'insert' | 'update', triggerBody: string) {
    await workspacesStore.create(t.store.writer, Buffer.alloc(32), {
      name,
      identifiers: 'email_or_id',
      allowEmailUpdateById: false,
    });
    const ws = (await workspacesStore.list(t.store.writer)).find((w) => w.name === name)!;
    const sql = new pg.Client({ connectionString: t.home.env.DATABASE_URL });
    await sql.connect();
    try {
      await sql.query(`create sequence if not exists ${name}_fired`);
      await sql.query(`create function ${name}() returns trigger language plpgsql as $$
        begin ${triggerBody} return new; end $$`);
      await sql.query(`create trigger ${name} before ${trigger} on people for each row execute function ${name}()`);
    } finally {
      await sql.end();
    }
    const ctx: CallContext = { ws, surface: 'track_v2', receivedAt: Date.now() };
    const writer = new Writer(t.store.writer, { maxBatch: 1, writers: 2 });
    const plan = async (id: string) =>
      (await peopleStore.findByRef(t.store.writer, ws.pk, { kind: 'id', value: id }))?.attributes.plan;
    return { ctx, writer, plan };
  }

  it('an earlier batch re-run after a lost race still lands before the later one naming the same person', async () => {
    // The first insert of `x` fails as a lost race does (a unique violation), after a pause in which the second batch
    // queues for x's lock; it gets the lock when the first rolls back. Committed first, its newer plan would then be
    // overwritten by the re-run.
    const { ctx, writer, plan } = await setup(
      'lost_race',
      'insert',
      `if new.id = 'x' and nextval('lost_race_fired') = 1 then
         perform pg_sleep(0.3);
         raise exception 'lost a race (test)' using errcode = 'unique_violation';
       end if;`,
    );
    const outcomes = await Promise.all([
      writer.submit(ctx, identify('x', 'old')),
      writer.submit(ctx, identify('x', 'new')),
    ]);
    await writer.close();
    expect(outcomes.map((o) => o.status)).toEqual(['ok', 'ok']);
    expect(await plan('x')).toBe('new');
  });

  it('the same holds when the later batch names that person by another identifier', async () => {
    // x exists. The first update of x (named by id) fails as a lost race does (a unique violation), after a pause in
    // which the second batch, naming x by email (no identifier lock in common), queues for x's row lock; it gets it
    // when the first rolls back. Committed first, its newer plan would then be overwritten by the re-run.
    const { ctx, writer, plan } = await setup(
      'lost_update',
      'update',
      `if new.attributes like '%"old"%' and nextval('lost_update_fired') = 1 then
         perform pg_sleep(0.3);
         raise exception 'lost a race (test)' using errcode = 'unique_violation';
       end if;`,
    );
    const email = 'x@example.com';
    const created = await writer.submit(ctx, identify('x', 'first', { kind: 'id', value: 'x' }, email));
    expect(created).toMatchObject({ status: 'ok', created: true });
    const outcomes = await Promise.all([
      writer.submit(ctx, identify('x', 'old')),
      writer.submit(ctx, identify('x', 'new', { kind: 'email', value: email, key: email })),
    ]);
    await writer.close();
    expect(outcomes.map((o) => o.status)).toEqual(['ok', 'ok']);
    expect(await plan('x')).toBe('new');
  });

  it('a later batch holding a lock the earlier one waits for gives way instead of waiting for it forever', async () => {
    // `b`'s insert takes lock 7 and its batch then waits to commit after `a`'s; `a`'s insert, a moment later, waits
    // for lock 7: a wait through the writer that PostgreSQL's deadlock detector cannot see.
    const { ctx, writer, plan } = await setup(
      'hidden_wait',
      'insert',
      `if new.id = 'a' then perform pg_sleep(0.3); perform pg_advisory_xact_lock(7); end if;
       if new.id = 'b' then perform pg_advisory_xact_lock(7); end if;`,
    );
    const started = Date.now();
    const outcomes = await Promise.all([
      writer.submit(ctx, identify('a', 'a')),
      writer.submit(ctx, identify('b', 'b')),
    ]);
    await writer.close();
    expect(outcomes.map((o) => o.status)).toEqual(['ok', 'ok']);
    expect([await plan('a'), await plan('b')]).toEqual(['a', 'b']);
    expect(Date.now() - started).toBeLessThan(5000);
  });
});
