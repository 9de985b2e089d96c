import type BetterSqlite3 from 'better-sqlite3';

/**
 * A read-only SQLite connection for a thread that scans (an export page reader, a long read off the server's
 * thread), with a small page cache: a scan reads each page once, so a big cache would only hold memory.
 */
export async function openScanReader(file: string): Promise<BetterSqlite3.Database> {
  const { default: Database } = await import('better-sqlite3');
  const db = new Database(file, { readonly: true });
  db.pragma('busy_timeout = 5000');
  db.pragma('cache_size = -2048');
  return db;
}
