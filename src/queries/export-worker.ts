// A worker thread of an export (export-pages.ts): it has a read connection of its own, runs the page queries the
// main thread sends, and answers each with the page's CSV lines. Reading rows and writing CSV are the whole cost of
// an export, so two of these use both cores of a small machine.
import type BetterSqlite3 from 'better-sqlite3';
import { parentPort, workerData } from 'node:worker_threads';
import type pg from 'pg';
import { personCsvLine, type PersonCsvSource } from '../csv/people-csv.js';
import type { StoreLocation } from '../store/direct-access.js';

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

/** The page's CSV lines, how many people they hold and the last one's pk; or why it failed. */
export type PageResult =
  { id: number; text: string; rows: number; lastPk: number | null } | { id: number; error: string };

interface Connection {
  run(sql: string, parameters: unknown[]): Promise<PersonCsvSource[]>;
  close(): Promise<void>;
}

// Each worker loads only its database's driver: every module it imports costs memory once per worker.
async function connect(location: StoreLocation, settings: string): Promise<Connection> {
  if (location.dialect === 'sqlite') {
    const { default: Database } = await import('better-sqlite3');
    const db = new Database(location.file, { readonly: true });
    db.pragma('busy_timeout = 5000');
    db.pragma('cache_size = -2048'); // each page is read once: a big cache would only hold memory
    const statements = new Map<string, BetterSqlite3.Statement<unknown[], unknown[]>>();
    return {
      run(sql, parameters) {
        let stmt = statements.get(sql);
        if (stmt === undefined) {
          stmt = (db.prepare(sql) as BetterSqlite3.Statement<unknown[], unknown[]>).raw(true);
          statements.set(sql, stmt);
        }
        return Promise.resolve(stmt.all(...parameters) as unknown as PersonCsvSource[]);
      },
      close() {
        db.close();
        return Promise.resolve();
      },
    };
  }
  const { NulSafeClient } = await import('../store/pg-client.js');
  const client: pg.Client = new NulSafeClient({ connectionString: location.url });
  await client.connect();
  await client.query(settings);
  return {
    run: async (text, values) =>
      (await client.query<unknown[]>({ text, values, rowMode: 'array' })).rows as unknown as PersonCsvSource[],
    close: () => client.end(),
  };
}

const { location, attributeColumns, connectionSettings } = workerData as ExportWorkerData;
const port = parentPort!;
const ready = connect(location, connectionSettings);
// One page at a time, in the order asked: the main thread keeps this worker's queue short.
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
  queue = queue.then(async () => {
    try {
      const rows = await (await ready).run(req.sql, req.parameters);
      let text = '';
      for (const row of rows) text += personCsvLine(row, attributeColumns);
      const last = rows.at(-1);
      port.postMessage({ id: req.id, text, rows: rows.length, lastPk: last ? Number(last[7]) : null });
    } catch (err) {
      port.postMessage({ id: req.id, error: err instanceof Error ? err.message : String(err) });
    }
  });
});
