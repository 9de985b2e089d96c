import { statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
});
