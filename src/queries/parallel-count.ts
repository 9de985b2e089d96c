import { sql, type Expression, type SqlBool } from 'kysely';
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { locationOf } from '../store/direct-access.js';
import { onPostgres, type Db } from '../store/types.js';
import type { CountResult, CountWorkerData } from './count-worker.js';

// The worker as compiled: dist/queries/count-worker.js, the same path from src/queries (tests) and dist/queries.
const workerFile = new URL('../../dist/queries/count-worker.js', import.meta.url);

/** Workspaces spanning fewer pks than this are counted in one query: a worker costs ~40 ms to start. */
export const parallelCountSpan = 200_000;

/**
 * How many of a workspace's people match `condition`. On SQLite a workspace spanning `parallelAbove` pks or more is
 * cut into equal pk ranges counted at once by worker threads, one per core (at most 4), each with a read-only
 * connection of its own: the attributes' JSON is read row by row, so a count over 1M people takes a core about a
 * second, and in the calling thread it would also hold up every other request for that long. PostgreSQL counts
 * in its own processes (and in parallel by itself), so it gets the one query.
 */
export async function countPeople(
  db: Db,
  workspacePk: number,
  condition: Expression<SqlBool>,
  opts: CountOptions = {},
): Promise<number> {
  const { parallelAbove = parallelCountSpan } = opts;
  const location = locationOf(db);
  const threads = Math.min(availableParallelism(), 4);
  if (!onPostgres(db) && location?.dialect === 'sqlite' && threads > 1 && existsSync(workerFile)) {
    const span = await db
      .selectFrom('people')
      .select((eb) => [eb.fn.min<number | null>('pk').as('low'), eb.fn.max<number | null>('pk').as('high')])
      .where('workspace_pk', '=', workspacePk)
      .executeTakeFirstOrThrow();
    if (span.low !== null && span.high !== null && span.high - span.low + 1 >= parallelAbove) {
      const from = span.low - 1;
      const step = Math.ceil((span.high - from) / threads);
      opts.onThreads?.(threads);
      const counts = Array.from({ length: threads }, (_, i) => {
        const query = countQuery(db, workspacePk, condition)
          .where('pk', '>', from + i * step)
          .where('pk', '<=', Math.min(from + (i + 1) * step, span.high!))
          .compile();
        return inWorker({ file: location.file, sql: query.sql, parameters: [...query.parameters] });
      });
      return (await Promise.all(counts)).reduce((sum, n) => sum + n, 0);
    }
  }
  const row = await countQuery(db, workspacePk, condition).executeTakeFirstOrThrow();
  return Number(row.n);
}

/** `parallelAbove`: the pk span from which to count in threads; `onThreads`: told how many, when it does. */
export interface CountOptions {
  parallelAbove?: number;
  onThreads?: (threads: number) => void;
}

const countQuery = (db: Db, workspacePk: number, condition: Expression<SqlBool>) =>
  db
    .selectFrom('people')
    .select(sql<number>`count(*)`.as('n'))
    .where('workspace_pk', '=', workspacePk)
    .where(condition);

function inWorker(data: CountWorkerData): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const worker = new Worker(workerFile, { workerData: data });
    worker.once('message', (r: CountResult) => ('error' in r ? reject(new Error(r.error)) : resolve(r.count)));
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`count worker exited with ${code}`))); // after an answer: no-op
  });
}
