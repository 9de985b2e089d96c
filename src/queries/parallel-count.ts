import { sql, type Expression, type SqlBool } from 'kysely';
import { availableParallelism } from 'node:os';
import { canReadOffThread, rowsOffThread } from '../store/off-thread.js';
import type { Db } from '../store/types.js';

/** Workspaces spanning fewer pks than this are counted in one query: a worker costs ~60 ms to start. */
export const parallelCountSpan = 200_000;

/** `parallelAbove`: the pk span from which to count in threads; `onThreads`: told how many, when it does. */
export interface CountOptions {
  parallelAbove?: number;
  onThreads?: (threads: number) => void;
}

/**
 * How many of a workspace's people match `condition`. On SQLite a workspace spanning `parallelAbove` pks or more is
 * cut into equal pk ranges counted at once by worker threads, one per core (at most 4), each with a read-only
 * connection of its own (store/off-thread.ts): the attributes' JSON is read row by row, so a count over 1M people
 * takes a core about a second, and in the calling thread it would also hold up every other request for that long.
 * PostgreSQL counts in its own processes (and in parallel by itself), so it gets the one query.
 */
export async function countPeople(
  db: Db,
  workspacePk: number,
  condition: Expression<SqlBool>,
  opts: CountOptions = {},
): Promise<number> {
  const { parallelAbove = parallelCountSpan } = opts;
  const threads = Math.min(availableParallelism(), 4);
  if (threads > 1 && canReadOffThread(db)) {
    const span = await db
      .selectFrom('people')
      .select((eb) => [eb.fn.min<number | null>('pk').as('low'), eb.fn.max<number | null>('pk').as('high')])
      .where('workspace_pk', '=', workspacePk)
      .executeTakeFirstOrThrow();
    if (span.low !== null && span.high !== null && span.high - span.low + 1 >= parallelAbove) {
      const from = span.low - 1;
      const step = Math.ceil((span.high - from) / threads);
      opts.onThreads?.(threads);
      const counts = Array.from({ length: threads }, async (_, i) => {
        const query = countQuery(db, workspacePk, condition)
          .where('pk', '>', from + i * step)
          .where('pk', '<=', Math.min(from + (i + 1) * step, span.high!))
          .compile();
        const [row] = await rowsOffThread(db, query);
        return Number(row?.n ?? 0);
      });
      return (await Promise.all(counts)).reduce((sum, n) => sum + n, 0);
    }
  }
  const row = await countQuery(db, workspacePk, condition).executeTakeFirstOrThrow();
  return Number(row.n);
}

const countQuery = (db: Db, workspacePk: number, condition: Expression<SqlBool>) =>
  db
    .selectFrom('people')
    .select(sql<number>`count(*)`.as('n'))
    .where('workspace_pk', '=', workspacePk)
    .where(condition);
