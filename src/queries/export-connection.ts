import type BetterSqlite3 from 'better-sqlite3';
import type pg from 'pg';
import type { PersonCsvSource } from '../csv/people-csv-line.js';
import type { StoreLocation } from '../store/direct-access.js';
import { openScanReader } from '../store/scan-reader.js';

/**
 * A read connection of an export's own, in whichever thread reads pages (export-pages.ts, export-worker.ts): on
 * SQLite a scan reader (scan-reader.ts; through the store's reader, a 1M export filled its 32 MB cache for nothing).
 */
export interface ExportConnection {
  run(sql: string, parameters: unknown[]): Promise<PersonCsvSource[]>;
  close(): Promise<void>;
}

// Each worker loads only its database's driver: every module it imports costs memory once per worker.
export async function connect(location: StoreLocation, settings: string): Promise<ExportConnection> {
  if (location.dialect === 'sqlite') {
    const db = await openScanReader(location.file);
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

/** The pk of a page's last person (pk is a page query's 8th column), or null for an empty page. */
export const lastPkOf = (rows: readonly PersonCsvSource[]): number | null =>
  rows.length > 0 ? Number(rows[rows.length - 1]![7]) : null;
