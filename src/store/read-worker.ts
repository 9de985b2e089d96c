// A worker thread that runs one read (off-thread.ts): it opens the SQLite file read-only, runs the query, answers
// its rows and ends.
import { parentPort, workerData } from 'node:worker_threads';

/** What a read worker is given: the file and the compiled query. */
export interface ReadWorkerData {
  file: string;
  sql: string;
  parameters: unknown[];
}

/** A read worker's answer: the rows (objects, as Kysely's SQLite driver gives them), or why it failed. */
export type ReadResult = { rows: unknown[] } | { error: string };

const { file, sql, parameters } = workerData as ReadWorkerData;
const port = parentPort!;
try {
  const { default: Database } = await import('better-sqlite3');
  const db = new Database(file, { readonly: true });
  try {
    db.pragma('busy_timeout = 5000');
    db.pragma('cache_size = -2048'); // a scan reads each page once: a big cache would only hold memory
    port.postMessage({ rows: db.prepare(sql).all(...parameters) } satisfies ReadResult);
  } finally {
    db.close();
  }
} catch (err) {
  port.postMessage({ error: err instanceof Error ? err.message : String(err) } satisfies ReadResult);
}
