// The PostgreSQL `/api/v2/batch` load of `npm run bench` (100 identifies per request, ids from createIdPool) applied
// in process, without HTTP: parseV2Operation and Writer.submit from 16 concurrent "requests", as the route does.
// Prints ops/s and this process's CPU; with BENCH_SQL_TIMES=1 also the wall time per op of each kind of statement
// (pg's Client.query wrapped: from send to answer), which says where a batch's time goes; with BENCH_TIMELINE=1 each
// batch's steps and the gaps between them (bench/pg-timeline.mjs). Run after `npm run build`.
// Usage: node bench/pg-inproc.mjs [seconds]   (default 10, after a 3 s warm-up; ROSTER_TEST_DATABASE_URL or the
// test database, in a schema of its own that is dropped at the end)
import pg from 'pg';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import {
  benchWorkspace,
  printQueued,
  printStatementTimes,
  recordStatement,
  runLoad,
  statementTimes,
} from './inproc.mjs';
import { traceWriterStatements } from './pg-timeline.mjs';
import { attributesFor, createIdPool } from './workload.mjs';

const ROOT = new URL('..', import.meta.url).pathname;
const SECONDS = Number(process.argv[2] ?? 10);
const CONNECTIONS = 16;
const BASE = process.env.ROSTER_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

if (process.env.BENCH_SQL_TIMES === '1') {
  const original = pg.Client.prototype.query;
  pg.Client.prototype.query = function timed(config, ...rest) {
    const text = typeof config === 'string' ? config : config?.text;
    const started = process.hrtime.bigint();
    const result = original.call(this, config, ...rest);
    if (!text || typeof result?.then !== 'function') return result;
    const done = () => recordStatement(text, started);
    result.then(done, done);
    return result;
  };
}

// BENCH_TIMELINE=1: each batch's statements as a timeline (bench/pg-timeline.mjs).
const timeline = process.env.BENCH_TIMELINE === '1' ? traceWriterStatements(pg) : null;

const schema = `bench_inproc_${process.pid}`;
const admin = new pg.Client({ connectionString: BASE });
await admin.connect();
await admin.query(`create schema ${schema}`);
// BENCH_PG_OPTIONS: more server settings for the writer's sessions, e.g. auto_explain's (`-c name=value …`).
const options = `-c search_path=${schema} ${process.env.BENCH_PG_OPTIONS ?? ''}`.trim();
const url = `${BASE}${BASE.includes('?') ? '&' : '?'}options=${encodeURIComponent(options)}`;

const { openPostgresStore } = await import(join(ROOT, 'dist/store/database.js'));
const { parseV2Operation } = await import(join(ROOT, 'dist/http/track-v2/operation.js'));

const store = await openPostgresStore(url);
const { ws, writer } = await benchWorkspace(store);
const nextId = createIdPool();

function body() {
  const batch = [];
  for (let i = 0; i < 100; i++) {
    const id = nextId();
    batch.push({ type: 'person', action: 'identify', identifiers: { id }, attributes: attributesFor(id) });
  }
  return JSON.stringify({ batch });
}

async function request() {
  const items = JSON.parse(body()).batch;
  const receivedAt = Date.now();
  await Promise.all(
    items.map((item) =>
      writer.submit({ ws, surface: 'track_v2', receivedAt }, parseV2Operation(item, ws.settings.identifiers, true)),
    ),
  );
}

const run = (seconds) =>
  runLoad({ connections: CONNECTIONS, seconds, request, perRequest: 100, postgres: true }).then((r) => ({
    ops: r.items,
    wall: r.wall,
    cores: r.cpu.self,
    pgCores: r.cpu.postgres ?? NaN,
    cpu: r.cpu,
  }));

try {
  await run(3);
  statementTimes.clear();
  timeline?.start();
  const r = await run(SECONDS);
  console.log(
    `${Math.round(r.ops / r.wall)} ops/s in process · ${r.cores.toFixed(2)} cores busy (this process), ` +
      `PostgreSQL ${r.pgCores.toFixed(2)} · ` +
      `1-min load average ${loadavg()[0].toFixed(2)}`,
  );
  printQueued(r.cpu);
  printStatementTimes(r.ops, 'op');
  timeline?.print();
  if (process.env.BENCH_PG_STATS === '1') {
    // What the writes did to each table: inserts, updates and how many of those were HOT (no index entries).
    const stats = await admin.query(
      `select relname, n_tup_ins, n_tup_upd, n_tup_hot_upd, n_live_tup,
        (select count(*) from pg_index i where i.indrelid = s.relid) as indexes
       from pg_stat_user_tables s where schemaname = $1 and (n_tup_ins > 0 or n_tup_upd > 0) order by relname`,
      [schema],
    );
    console.table(stats.rows);
  }
} finally {
  await writer.close();
  await store.close();
  await admin.query(`drop schema ${schema} cascade`);
  await admin.end();
}
