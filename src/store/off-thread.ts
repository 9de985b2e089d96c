import type { CompiledQuery } from 'kysely';
import { existsSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { locationOf } from './direct-access.js';
import type { ReadResult, ReadWorkerData } from './read-worker.js';
import type { Db } from './types.js';

// The worker as compiled: dist/store/read-worker.js, the same path from src/store (tests) and dist/store.
const workerFile = new URL('../../dist/store/read-worker.js', import.meta.url);

/** Whether `db` is a SQLite store whose long reads can run in a worker thread (rowsOffThread). */
export const canReadOffThread = (db: Db): boolean => locationOf(db)?.dialect === 'sqlite' && existsSync(workerFile);

/**
 * A long read (a scan of a workspace) as rows. better-sqlite3 answers in the calling thread, so on SQLite a scan
 * of 1M people would hold up the server's every other request for a second or more: there it runs in a worker
 * thread of its own with a read-only connection (~60 ms to start). PostgreSQL, and a handle that is not a store's
 * (a transaction), run it as usual.
 */
export function rowsOffThread<Row>(db: Db, query: CompiledQuery<Row>): Promise<Row[]> {
  const location = locationOf(db);
  if (location?.dialect !== 'sqlite' || !canReadOffThread(db)) return db.executeQuery(query).then((r) => r.rows);
  const data: ReadWorkerData = { file: location.file, sql: query.sql, parameters: [...query.parameters] };
  return new Promise<Row[]>((resolve, reject) => {
    const worker = new Worker(workerFile, { workerData: data });
    worker.once('message', (r: ReadResult) => ('error' in r ? reject(new Error(r.error)) : resolve(r.rows as Row[])));
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`read worker exited with ${code}`))); // after an answer: no-op
  });
}
