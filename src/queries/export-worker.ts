// A worker thread of an export (export-pages.ts): it has a read connection of its own, runs the page queries the
// main thread sends, and answers each with the page's CSV lines. Reading rows and writing CSV are the whole cost of
// an export, so the calling thread and workers share them across the machine's cores.
import { parentPort, workerData } from 'node:worker_threads';
import { personCsvLines } from '../csv/people-csv-line.js';
import type { StoreLocation } from '../store/direct-access.js';
import { connect, lastPkOf } from './export-connection.js';

/** What the main thread gives a worker at its start. */
export interface ExportWorkerData {
  location: StoreLocation;
  attributeColumns: string[];
  /** PostgreSQL: the statement that gives a connection Roster's settings (planner.ts). */
  connectionSettings: string;
}

/** A page to read: its SELECT (columns as csvPagesMatching reads them, pk last). */
export interface PageRequest {
  id: number;
  sql: string;
  parameters: unknown[];
}

/**
 * The page's CSV lines (as UTF-8 bytes from a worker, transferred rather than copied: as strings they piled up in the
 * main thread's heap until a major GC, 116 MB of it with two workers), how many people they hold and the last one's
 * pk; or why it failed.
 */
export type PageResult =
  { id: number; text: string | Uint8Array; rows: number; lastPk: number | null } | { id: number; error: string };

const { location, attributeColumns, connectionSettings } = workerData as ExportWorkerData;
const port = parentPort!;
const utf8 = new TextEncoder();
const ready = connect(location, connectionSettings);
// Pages are answered one at a time, in the order asked, but each page's query is sent as it arrives: the connection
// queues it, so the database reads the next page while this thread writes the CSV of the current one (on PostgreSQL
// a quarter of each thread's time went to waiting for rows when a page was asked for only after the one before).
let queue = Promise.resolve();
// `null` ends the worker: the connection is closed once the pages asked for are answered.
port.on('message', (req: PageRequest | null) => {
  if (req === null) {
    queue = queue.then(async () => {
      await (await ready).close();
      port.close();
    });
    return;
  }
  const rows = ready.then((c) => c.run(req.sql, req.parameters));
  rows.catch(() => undefined); // met in turn below
  queue = queue.then(async () => {
    try {
      const page = await rows;
      // TextEncoder gives the bytes an ArrayBuffer of their own (a small Buffer would share Node's pool), so it can be
      // handed over whole.
      const bytes = utf8.encode(personCsvLines(page, attributeColumns));
      const result: PageResult = { id: req.id, text: bytes, rows: page.length, lastPk: lastPkOf(page) };
      port.postMessage(result, [bytes.buffer]);
    } catch (err) {
      port.postMessage({ id: req.id, error: err instanceof Error ? err.message : String(err) });
    }
  });
});
