import BetterSqlite3 from 'better-sqlite3';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCheckpointer } from '../../src/store/checkpointer.js';
import { testBackend } from '../helpers/backend.js';
import { startServer, type TestServer } from '../helpers/roster-server.js';

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server.close());

// SQLite's write-ahead log only: PostgreSQL checkpoints itself.
describe.runIf(testBackend === 'sqlite')('background WAL checkpoints', () => {
  it('move committed pages into the database file without the writer checkpointing', async () => {
    const ws = await server.workspace();
    const file = join(server.dataDir, 'roster.sqlite');
    const before = statSync(file).size;
    const batch = Array.from({ length: 100 }, (_, i) => ({
      type: 'person',
      action: 'identify',
      identifiers: { id: `cp-${i}` },
      attributes: { note: 'x'.repeat(500) },
    }));
    for (let round = 0; round < 20; round++)
      expect(
        (await ws.batch(batch.map((op) => ({ ...op, identifiers: { id: `${op.identifiers.id}-${round}` } })))).status,
      ).toBe(200);
    // The writer has wal_autocheckpoint off; only the worker (every second) can grow the main file.
    const deadline = Date.now() + 5000;
    while (statSync(file).size <= before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(statSync(file).size).toBeGreaterThan(before);
  });

  it('start the WAL over past restartFrames, so it stays small under steady writes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'roster-wal-'));
    const file = join(dir, 'wal.sqlite');
    const db = new BetterSqlite3(file);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('busy_timeout = 5000');
    db.pragma('wal_autocheckpoint = 0');
    db.exec('create table t (k integer primary key, v text)');
    // Every 20 ms; past 256 frames (1 MB) the WAL is to start over.
    const checkpointer = startCheckpointer(file, 20, 256);
    const insert = db.prepare('insert into t (v) values (?)');
    const write = db.transaction(() => {
      for (let i = 0; i < 25; i++) insert.run('x'.repeat(4000));
    });
    let largest = 0;
    try {
      // 300 transactions of ~100 KB: ~30 MB through the WAL in all.
      for (let round = 0; round < 300; round++) {
        write();
        largest = Math.max(largest, statSync(`${file}-wal`).size);
        await new Promise((r) => setTimeout(r, 2));
      }
      expect(db.prepare('select count(*) as n from t').get()).toEqual({ n: 7500 });
    } finally {
      await checkpointer.stop();
      db.close();
      rmSync(dir, { recursive: true, force: true });
    }
    expect(largest).toBeGreaterThan(0);
    expect(largest).toBeLessThan(12 * 1024 * 1024);
  });
});
