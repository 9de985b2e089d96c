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
import { printStatementTimes, recordStatement, runLoad, statementTimes } from './inproc.mjs';
import { createIdPool, segmentBatchMessages } from './workload.mjs';

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
const { workspacesStore } = await import(join(ROOT, 'dist/store/workspaces.js'));
const { Writer } = await import(join(ROOT, 'dist/ingest/writer.js'));
const { mapSegmentMessage } = await import(join(ROOT, 'dist/ingest/segment/mapping.js'));

const dir = mkdtempSync(join(tmpdir(), 'roster-segment-inproc-'));
const store = await openSqliteStore(dir, { backgroundCheckpoints: true });
await workspacesStore.create(store.writer, Buffer.alloc(32), {
  name: 'bench',
  identifiers: 'email_or_id',
  allowEmailUpdateById: false,
});
const [ws] = await workspacesStore.list(store.writer);
const settings = { identifiers: ws.settings.identifiers, convertTimestamps: ws.segmentConvertTimestamps };
const writer = new Writer(store.writer);
const nextId = createIdPool();
let seq = 0;

/** The body bench/run.mjs sends (built before the clock starts for each request's parse). */
function body() {
  return JSON.stringify({ batch: segmentBatchMessages(nextId, 100, () => `bench-${process.pid}-${seq++}`) });
}

async function request() {
  const messages = JSON.parse(body()).batch;
  const receivedAt = Date.now();
  await Promise.all(
    messages.map((m) => {
      const mapped = mapSegmentMessage(m, settings);
      return writer.submit(
        { ws, surface: 'segment', messageId: mapped.messageId ?? undefined, receivedAt },
        { kind: 'segment_message', ...mapped },
      );
    }),
  );
}

const run = (seconds) =>
  runLoad({ connections: CONNECTIONS, seconds, request, perRequest: 100 }).then((r) => ({
    messages: r.items,
    wall: r.wall,
    cores: r.cpu.self,
  }));

try {
  await run(3);
  statementTimes.clear();
  const r = await run(SECONDS);
  console.log(
    `${Math.round(r.messages / r.wall)} msgs/s in process · ${r.cores.toFixed(2)} cores busy (all threads) · ` +
      `1-min load average ${loadavg()[0].toFixed(2)}`,
  );
  printStatementTimes(r.messages, 'msg');
} finally {
  await writer.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
}
