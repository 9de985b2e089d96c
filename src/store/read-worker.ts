// A worker thread that runs one read (off-thread.ts): it opens the SQLite file read-only, runs the query, answers
// its rows and ends.
import { parentPort, workerData } from 'node:worker_threads';
import { openScanReader } from './scan-reader.js';

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
  const db = await openScanReader(file);
  try {
    port.postMessage({ rows: db.prepare(sql).all(...parameters) } satisfies ReadResult);
  } finally {
    db.close();
  }
} catch (err) {
  port.postMessage({ error: err instanceof Error ? err.message : String(err) } satisfies ReadResult);
}
