import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { canReadOffThread, rowsOffThread } from '../../src/store/off-thread.js';
import { useStore } from '../helpers/store.js';

/**
 * rowsOffThread: a long read answers the same rows as running it on the handle, and on SQLite it runs in a worker
 * thread, so this thread keeps serving (timers fire) while it does; PostgreSQL never blocks this thread anyway.
 */

const t = useStore('roster-off-thread-');

describe('rowsOffThread', () => {
  it('answers the rows the handle answers, with parameters', async () => {
    const query = sql<{ n: number; label: string }>`select ${7} + 1 as n, ${'x'} || 'y' as label`.compile(
      t.store.reader,
    );
    const off = await rowsOffThread(t.store.reader, query);
    const here = (await t.store.reader.executeQuery(query)).rows;
    expect(off.map((r) => ({ n: Number(r.n), label: r.label }))).toEqual([{ n: 8, label: 'xy' }]);
    expect(off.map((r) => ({ n: Number(r.n), label: r.label }))).toEqual(
      here.map((r) => ({ n: Number(r.n), label: r.label })),
    );
  });

  it('a long read leaves this thread free: timers fire while it runs', async () => {
    expect(canReadOffThread(t.store.reader)).toBe(t.store.dialect === 'sqlite');
    const query = sql<{ n: number }>`with recursive c(x) as (select 1 union all select x + 1 from c where x < 3000000)
      select count(*) as n from c`.compile(t.store.reader);
    let ticks = 0;
    const timer = setInterval(() => ticks++, 10);
    const started = performance.now();
    const [row] = await rowsOffThread(t.store.reader, query).finally(() => clearInterval(timer));
    const ms = performance.now() - started;
    expect(Number(row!.n)).toBe(3_000_000);
    // Had it run in this thread, no timer could have fired until it was done.
    expect(ticks).toBeGreaterThanOrEqual(Math.floor(ms / 10 / 4));
    expect(ticks).toBeGreaterThan(3);
  });
});
