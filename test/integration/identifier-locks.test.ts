/**
 * PostgreSQL: a write batch holds an advisory lock on each id and email it names (a 31-bit hash of `id:<id>` and of
 * `email:<email key>`, see people.ts lockHolders) from its prefetch until it commits, so another process about to create a person under the same id or email waits
 * instead of racing it to the unique index. Checked from a second connection while a batch holds its locks.
 */
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { prefetch } from '../../src/ingest/batch.js';
import type { CallContext, Command } from '../../src/ingest/commands.js';
import { peopleStore } from '../../src/store/people.js';
import { attachUnit, detachUnit, UnitOfWork } from '../../src/store/unit-of-work.js';
import { workspacesStore } from '../../src/store/workspaces.js';
import { testBackend } from '../helpers/backend.js';
import { useStore } from '../helpers/store.js';

describe.runIf(testBackend === 'postgres')('identifier locks (PostgreSQL)', () => {
  const t = useStore('roster-identifier-locks-');

  it('a batch naming an id and an email holds their locks until it commits, and only theirs', async () => {
    await workspacesStore.create(t.store.writer, Buffer.alloc(32), {
      name: 'locks',
      identifiers: 'email_or_id',
      allowEmailUpdateById: false,
    });
    const ws = (await workspacesStore.list(t.store.writer))[0]!;
    const ctx: CallContext = { ws, surface: 'track_v2', receivedAt: Date.now() };
    const cmd: Command = {
      kind: 'identify',
      ref: { kind: 'id', value: 'new-person' },
      payload: { removeEmail: false, updateOnly: false, bodyEmail: 'New@Example.com', changes: {} },
    };
    const other = new pg.Client({ connectionString: t.home.env.DATABASE_URL });
    await other.connect();
    // Whether the other connection could take (and at once give back) the lock on `key` in this workspace.
    const free = async (key: number) => {
      const r = await other.query<{ got: boolean }>('select pg_try_advisory_lock($1::int4, $2::int4) as got', [
        ws.pk,
        key,
      ]);
      if (r.rows[0]!.got) await other.query('select pg_advisory_unlock($1::int4, $2::int4)', [ws.pk, key]);
      return r.rows[0]!.got;
    };
    const lockKey = async (text: string) =>
      (await other.query<{ k: number }>('select (hashtextextended($1, 0) & 2147483647)::int4 as k', [text])).rows[0]!.k;
    const idKey = await lockKey('id:new-person');
    const emailKey = await lockKey('email:new@example.com');
    try {
      const during = await t.store.writer.transaction().execute(async (trx) => {
        const unit = new UnitOfWork(trx, peopleStore.writeUnit, 1);
        attachUnit(unit);
        try {
          await prefetch(trx, [{ ctx, cmd }]);
        } finally {
          detachUnit(unit);
        }
        return { id: await free(idKey), email: await free(emailKey), unrelated: await free(await lockKey('id:x')) };
      });
      expect(during).toEqual({ id: false, email: false, unrelated: true });
      expect({ id: await free(idKey), email: await free(emailKey) }).toEqual({ id: true, email: true });
    } finally {
      await other.end();
    }
  });
});
