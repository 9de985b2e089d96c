// The Segment `/v1/batch` mix of `npm run bench` (100 messages: 60% track, 30% identify, 10% page) applied in
// process, without HTTP: JSON.parse, mapSegmentMessage and Writer.submit from 8 concurrent "requests", as the
// server's route does. Prints messages/s, the process's CPU (all threads), and with BENCH_SQL_TIMES=1 the wall time
// spent in each SQLite statement per message (better-sqlite3's run/all/get wrapped), which says what SQLite costs
// by statement. Run after `npm run build` (it imports dist/).
// Usage: node bench/segment-inproc.mjs [seconds]   (default 10, after a 3 s warm-up)
import BetterSqlite3 from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  benchWorkspace,
  printQueued,
  printStatementTimes,
  recordStatement,
  runLoad,
  segmentRequest,
  statementTimes,
} from './inproc.mjs';

const ROOT = new URL('..', import.meta.url).pathname;
const SECONDS = Number(process.argv[2] ?? 10);
const CONNECTIONS = 8;

if (process.env.BENCH_SQL_TIMES === '1') {
  const probe = new BetterSqlite3(':memory:');
  const proto = Object.getPrototypeOf(probe.prepare('select 1'));
  probe.close();
  for (const method of ['run', 'all', 'get']) {
    const original = proto[method];
    proto[method] = function timed(...args) {
      const started = process.hrtime.bigint();
      try {
        return original.apply(this, args);
      } finally {
        recordStatement(this.source, started);
      }
    };
  }
}

const { openSqliteStore } = await import(join(ROOT, 'dist/store/database.js'));

const dir = mkdtempSync(join(tmpdir(), 'roster-segment-inproc-'));
const store = await openSqliteStore(dir, { backgroundCheckpoints: true });
const { ws, writer } = await benchWorkspace(store);
const request = await segmentRequest(ws, writer);

const run = (seconds) =>
  runLoad({ connections: CONNECTIONS, seconds, request, perRequest: 100 }).then((r) => ({
    messages: r.items,
    wall: r.wall,
    cores: r.cpu.self,
    cpu: r.cpu,
  }));

try {
  await run(3);
  statementTimes.clear();
  const r = await run(SECONDS);
  console.log(
    `${Math.round(r.messages / r.wall)} msgs/s in process · ${r.cores.toFixed(2)} cores busy (all threads) · ` +
      `1-min load average ${loadavg()[0].toFixed(2)}`,
  );
  printQueued(r.cpu);
  printStatementTimes(r.messages, 'msg');
} finally {
  await writer.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
}
