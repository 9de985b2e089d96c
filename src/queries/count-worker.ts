// A worker thread of a parallel count (parallel-count.ts): it opens the SQLite file read-only, runs one count over
// its pk range, answers the number and ends.
import { parentPort, workerData } from 'node:worker_threads';

/** What a count worker is given: the file, and the COUNT query of its pk range (one row, one column). */
export interface CountWorkerData {
  file: string;
  sql: string;
  parameters: unknown[];
}

/** A worker's answer: the count, or why it failed. */
export type CountResult = { count: number } | { error: string };

const { file, sql, parameters } = workerData as CountWorkerData;
const port = parentPort!;
try {
  const { default: Database } = await import('better-sqlite3');
  const db = new Database(file, { readonly: true });
  try {
    db.pragma('busy_timeout = 5000');
    db.pragma('cache_size = -2048'); // each page is read once: a big cache would only hold memory
    const value = db
      .prepare(sql)
      .pluck()
      .get(...parameters);
    port.postMessage({ count: Number(value) } satisfies CountResult);
  } finally {
    db.close();
  }
} catch (err) {
  port.postMessage({ error: err instanceof Error ? err.message : String(err) } satisfies CountResult);
}
