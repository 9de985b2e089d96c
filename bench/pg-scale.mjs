// PostgreSQL at scale: seeds a fresh schema with PG_SCALE_EVENTS events (default 10,000,000) spread over the last
// twelve months, a fifth as many activities, 100,000 people and 500,000 integration-log rows, then measures the
// reads that must stay fast (and the purge and the writer's event insert) with EXPLAIN (ANALYZE) and ~200 timed
// runs each. Prints a markdown table and writes it to bench/results/<YYYY-MM-DD>-pg-scale.md.
//
// Usage: node bench/pg-scale.mjs [database-url]   (default postgres://postgres@127.0.0.1:5432/test)
// Env: PG_SCALE_EVENTS (events to seed), PG_SCALE_RUNS (runs per measurement, 200), PG_SCALE_KEEP=1 keeps the
// schema (its name is printed) instead of dropping it, PG_SCALE_SCHEMA=<name> measures a kept schema again without
// seeding (give the PG_SCALE_EVENTS it was seeded with). Not part of `npm run bench`: seeding takes minutes.
//
// The rows are a fixture written by SQL directly (generate_series, a statement per 500,000 rows); the measured
// queries are Roster's own, captured from the built store and query modules (dist/) through a Kysely log hook.
import { execSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';

const root = new URL('..', import.meta.url).pathname;
execSync('node scripts/bootstrap.mjs', { cwd: root, stdio: 'inherit' });
const { openPostgresStore } = await import('../dist/store/database.js');
const { ensureMonthlyPartitions } = await import('../dist/store/partitions.js');
const { eventsStore } = await import('../dist/store/events.js');
const { bulkInsert } = await import('../dist/store/bulk.js');
const { eventTable } = await import('../dist/store/unit-of-work.js');
const { personActivities } = await import('../dist/queries/activity-feed.js');
const { workspaceActivities } = await import('../dist/queries/integration-log.js');

const baseUrl = process.argv[2] ?? 'postgres://postgres@127.0.0.1:5432/test';
const EVENTS = Number(process.env.PG_SCALE_EVENTS ?? 10_000_000);
const RUNS = Number(process.env.PG_SCALE_RUNS ?? 200);
const PEOPLE = 100_000;
const ACTIVITIES = Math.round(EVENTS / 5);
const LOG_ROWS = 500_000;
const CHUNK = 500_000;
const dayMs = 86_400_000;
const now = Date.now();
const span = 365 * dayMs;
let seedSeconds = 0;
const PURGE_NOTE =
  'The purge batches run back to back with no vacuum in between, as in a first run over a backlog: each batch ' +
  'walks past the rows the earlier ones deleted (dead until vacuumed), so later batches are slower. In steady ' +
  'state the hourly job deletes an hour of expired events and autovacuum clears them between runs.';
let fresh = 0;

const reuse = process.env.PG_SCALE_SCHEMA;
const schema = reuse ?? `roster_scale_${process.pid}`;
const admin = new pg.Client(baseUrl);
await admin.connect();
if (!reuse) await admin.query(`create schema ${schema}`);
const url = new URL(baseUrl);
url.searchParams.set('options', `-c search_path=${schema}`);

const log = (msg) => console.log(`[pg-scale ${((performance.now() - t0) / 1000).toFixed(0)}s] ${msg}`);
const t0 = performance.now();
let store;
try {
  store = await openPostgresStore(url.toString());
  if (!reuse) {
    // A year of history: each month gets its partition before its rows arrive (as `roster copy` does).
    await ensureMonthlyPartitions(store.writer, { now, from: now - span });
    const seed = new pg.Client(url.toString());
    await seed.connect();
    await seed.query(`set synchronous_commit = off; set maintenance_work_mem = '256MB'`);
    await seedRows(seed);
    await seed.end();
  }

  // Every query goes through this handle; the log hook keeps the last SQL and parameters for EXPLAIN.
  let captured = [];
  const db = new Kysely({
    dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: url.toString(), max: 2 }) }),
    log: (e) => e.level === 'query' && captured.push(e.query),
  });
  const explainer = new pg.Client(url.toString());
  await explainer.connect();

  const rand = (n) => 1 + Math.floor(Math.random() * n);
  const person = (pk) => ({ pk, workspacePk: 1, id: `p${pk}`, email: null, cioId: `c${pk}` });
  const measurements = [
    {
      name: 'Person activity timeline, first page (GET /v1/customers/{ref}/activities, limit 50)',
      run: () => personActivities(db, person(rand(PEOPLE)), { limit: 50 }),
    },
    {
      name: 'Person activity timeline, events only (type=event)',
      run: () => personActivities(db, person(rand(PEOPLE)), { limit: 50, type: 'event' }),
    },
    {
      name: 'Event lookup by event id (dedupe check, a stored id)',
      run: () => eventsStore.exists(db, 1, `ev-${2 * rand(EVENTS / 2 - 1)}`),
    },
    {
      name: 'Event lookup by event id (an id never seen)',
      run: () => eventsStore.exists(db, 1, `new-${Math.random()}`),
    },
    {
      name: 'Workspace activity listing (GET /v1/activities, limit 50)',
      run: () => workspaceActivities(db, 1, { limit: 50 }),
    },
    {
      name: 'Workspace activity listing, outcome filter (type=duplicate)',
      run: () => workspaceActivities(db, 1, { limit: 50, type: 'duplicate' }),
    },
    {
      name: 'Workspace activity listing, a small workspace (100 rows, older than the big one’s)',
      run: () => workspaceActivities(db, 2, { limit: 50 }),
    },
    {
      name: 'Anonymous purge batch (1000 events older than 30 days, ids freed)',
      run: () => eventsStore.purgeAnonymousBefore(db, 1, now - 30 * dayMs, 1000),
    },
    {
      name: "Writer's event insert, 250 rows with ids (event_ids + events, one statement)",
      run: () => bulkInsert(db, eventTable, freshEvents(250)),
    },
  ];

  // Other work on the machine shows in the p99s: the load before measuring goes in the report.
  const load = loadavg()[0].toFixed(1);
  const rows = [];
  for (const m of measurements) {
    // Warm-up, and the query text of one run for its plan.
    for (let i = 0; i < 5; i++) await m.run();
    captured = [];
    await m.run();
    const plans = [];
    for (const q of captured) plans.push(await explain(explainer, q));
    const times = [];
    for (let i = 0; i < RUNS; i++) {
      const start = performance.now();
      await m.run();
      times.push(performance.now() - start);
    }
    times.sort((a, b) => a - b);
    const pct = (p) => times[Math.min(times.length - 1, Math.floor((p / 100) * times.length))];
    const row = { name: m.name, p50: pct(50), p99: pct(99), plan: plans.map(describePlan).join(' + ') };
    rows.push(row);
    log(`${m.name}: p50 ${row.p50.toFixed(2)} ms, p99 ${row.p99.toFixed(2)} ms; ${row.plan}`);
  }
  await explainer.end();
  await db.destroy();

  const counts = await admin.query(`select
    (select count(*) from ${schema}.events)::int as events, (select count(*) from ${schema}.activities)::int as acts,
    (select count(*) from ${schema}.event_ids)::int as ids,
    (select count(*) from pg_inherits where inhparent = '${schema}.events'::regclass)::int as parts,
    pg_size_pretty(pg_total_relation_size('${schema}.event_ids')) as ids_size`);
  const c = counts.rows[0];
  const report = [
    `# PostgreSQL at scale, ${new Date(now).toISOString().slice(0, 10)}`,
    '',
    `Seeded: ${EVENTS.toLocaleString('en')} events (${c.parts} partitions of events, monthly over a year + DEFAULT), ` +
      `${ACTIVITIES.toLocaleString('en')} activities, ${PEOPLE.toLocaleString('en')} people, ` +
      `${LOG_ROWS.toLocaleString('en')} integration-log rows in workspace 1 (100 in a second one); event_ids ${c.ids.toLocaleString('en')} ` +
      `rows (${c.ids_size}). ${reuse ? 'Measured again on a kept schema' : `Seeding took ${seedSeconds.toFixed(0)} s`}. ` +
      `PostgreSQL ${(await admin.query('show server_version')).rows[0].server_version}, ` +
      `shared_buffers ${(await admin.query('show shared_buffers')).rows[0].shared_buffers}, 2 cores shared ` +
      `(1-minute load average ${load} before measuring).`,
    '',
    `Each row: ${RUNS} runs after 5 warm-up runs, timed in the client (round trip included), one at a time; the plan`,
    'is EXPLAIN (ANALYZE) of the SQL one run sent (Roster compiled it; a `+` separates the statements of one call).',
    '',
    '| query | p50 ms | p99 ms | plan (index usage) |',
    '|---|---:|---:|---|',
    ...rows.map((r) => `| ${r.name} | ${r.p50.toFixed(2)} | ${r.p99.toFixed(2)} | ${r.plan} |`),
    '',
    PURGE_NOTE,
    '',
  ].join('\n');
  console.log(`\n${report}`);
  mkdirSync(new URL('results/', import.meta.url), { recursive: true });
  const file = new URL(`results/${new Date(now).toISOString().slice(0, 10)}-pg-scale.md`, import.meta.url);
  writeFileSync(file, report);
  log(`written to ${file.pathname}`);
} finally {
  await store?.close();
  if (process.env.PG_SCALE_KEEP || reuse) console.log(`kept schema ${schema}`);
  else await admin.query(`drop schema ${schema} cascade`);
  await admin.end();
}

/** Events, activities, people and log rows, a statement per CHUNK rows, with the secondary indexes built after. */
async function seedRows(c) {
  const started = performance.now();
  // Secondary indexes are dropped for the load and built again from their own definitions afterwards.
  const indexes = (
    await c.query(`select indexrelid::regclass::text as name, pg_get_indexdef(indexrelid) as def from pg_index
      where indrelid in ('events'::regclass, 'activities'::regclass) and not indisprimary`)
  ).rows;
  for (const i of indexes) await c.query(`drop index ${i.name}`);
  await c.query(`insert into people (workspace_pk, cio_id, id, email, email_norm, email_key, attributes,
    attribute_ts, unsubscribed, created_at_s, updated_at)
    select 1, 'c' || g, 'p' || g, 'p' || g || '@example.com', 'p' || g || '@example.com', 'p' || g || '@example.com',
      '{"plan":"basic"}', '{}', 0, ${Math.floor(now / 1000)}, ${now} from generate_series(1, ${PEOPLE}) g`);
  log(`people: ${PEOPLE}`);
  // One event in ten is anonymous (no person); every other event carries an id (ev-<n>, n even).
  for (let lo = 1; lo <= EVENTS; lo += CHUNK) {
    const hi = Math.min(EVENTS, lo + CHUNK - 1);
    await c.query(`with rows as (select g, ${now - span} + (g::bigint * ${span}) / ${EVENTS} as received_at
        from generate_series(${lo}, ${hi}) g),
      ids as (insert into event_ids (workspace_pk, event_id) select 1, 'ev-' || g from rows where g % 2 = 0)
      insert into events (workspace_pk, person_pk, anonymous_id, event_id, type, name, data, ts, received_at, merged)
      select 1, case when g % 10 = 0 then null else 1 + (g::bigint * 7919) % ${PEOPLE} end,
        case when g % 10 = 0 then 'anon-' || (g::bigint * 31) % 200000 end,
        case when g % 2 = 0 then 'ev-' || g end,
        'event', (array['viewed','bought','clicked','signed_up'])[1 + g % 4], '{"sku":"a-1","price":12.5}',
        received_at - (g % 3600) * 1000, received_at, 0
      from rows order by g`);
    log(`events: ${hi.toLocaleString('en')}`);
  }
  for (let lo = 1; lo <= ACTIVITIES; lo += CHUNK) {
    const hi = Math.min(ACTIVITIES, lo + CHUNK - 1);
    await c.query(`insert into activities (workspace_pk, person_pk, type, name, data, ts)
      select 1, 1 + (g::bigint * 7919) % ${PEOPLE}, 'attribute_change', null, '{"changes":{"plan":["basic","pro"]}}',
        ${now - span} + (g::bigint * ${span}) / ${ACTIVITIES} from generate_series(${lo}, ${hi}) g order by g`);
    log(`activities: ${hi.toLocaleString('en')}`);
  }
  // A second, small workspace whose 100 log rows are older than all of the first one's.
  await c.query(`insert into integration_log (workspace_pk, ts, surface, message_id, reference, outcome, reason)
    select 2, ${now - 31 * dayMs} + g, 'track_v1', null, 'q' || g, 'duplicate', 'seeded' from generate_series(1, 100) g`);
  await c.query(`insert into integration_log (workspace_pk, ts, surface, message_id, reference, outcome, reason)
    select 1, ${now - 30 * dayMs} + (g::bigint * ${30 * dayMs}) / ${LOG_ROWS}, 'track_v1', null, 'p' || g % ${PEOPLE},
      (array['duplicate','identifier_in_use','person_not_found','suppressed'])[1 + g % 4], 'seeded'
    from generate_series(1, ${LOG_ROWS}) g`);
  log(`integration log: ${LOG_ROWS}`);
  for (const i of indexes) {
    // A partitioned index's definition says ON ONLY (the parent alone): build it on every partition.
    await c.query(i.def.replace(' ON ONLY ', ' ON '));
    log(`index ${i.name} built`);
  }
  await c.query('vacuum analyze events, activities, event_ids, people, integration_log');
  seedSeconds = (performance.now() - started) / 1000;
  log(`seeded and vacuumed in ${seedSeconds.toFixed(0)} s`);
}

/** Rows for the writer's event statement, in eventTable's column order, half of them anonymous. */
function freshEvents(n) {
  return Array.from({ length: n }, (_, i) => {
    fresh++;
    const anonymous = i % 2 === 1;
    return [
      1,
      anonymous ? null : 1 + ((fresh * 7919) % PEOPLE),
      anonymous ? `anon-new-${fresh}` : null,
      `bench-${process.pid}-${fresh}`,
      'event',
      'viewed',
      '{}',
      Date.now(),
      Date.now(),
      0,
    ];
  });
}

/** EXPLAIN (ANALYZE, FORMAT JSON) of a compiled query, inside a transaction rolled back (the purge deletes). */
async function explain(client, q) {
  await client.query('begin');
  try {
    const r = await client.query(`explain (analyze, buffers, format json) ${q.sql}`, [...q.parameters]);
    return r.rows[0]['QUERY PLAN'][0];
  } finally {
    await client.query('rollback');
  }
}

/**
 * A plan in a line: each index scanned (partition indexes counted under their parent's name, `×n` partitions),
 * sequential scans by table, partitions pruned, execution time.
 */
function describePlan(plan) {
  const index = new Map();
  const seq = new Map();
  let removed = 0;
  let sorts = 0;
  const walk = (node) => {
    if (node['Subplans Removed']) removed += node['Subplans Removed'];
    if (node['Node Type'] === 'Sort' || node['Node Type'] === 'Incremental Sort') sorts++;
    if (node['Index Name']) {
      const kind = node['Node Type'] === 'Index Only Scan' ? 'index-only ' : '';
      const name = `${kind}${generic(node['Index Name'])}`;
      index.set(name, (index.get(name) ?? 0) + 1);
    } else if (node['Node Type'] === 'Seq Scan') {
      // An empty partition (a future month, DEFAULT) is read by a seq scan of nothing: counted apart.
      const empty = node['Actual Rows'] === 0 && !node['Rows Removed by Filter'];
      const name = empty ? 'empty partitions' : `**seq scan ${generic(node['Relation Name'])}**`;
      seq.set(name, (seq.get(name) ?? 0) + 1);
    }
    for (const child of node.Plans ?? []) walk(child);
  };
  walk(plan.Plan);
  const parts = [
    ...[...index].map(([n, k]) => `${n}${k > 1 ? ` ×${k}` : ''}`),
    ...[...seq].map(([n, k]) => `${n}${k > 1 ? ` ×${k}` : ''}`),
  ];
  if (sorts) parts.push(`sort`);
  if (removed) parts.push(`${removed} partitions pruned`);
  parts.push(`planned in ${plan['Planning Time'].toFixed(2)} ms, ran in ${plan['Execution Time'].toFixed(2)} ms`);
  return parts.join(', ');
}

/** `events_2026_05_workspace_pk_person_pk_ts_idx` → `events_*_workspace_pk_person_pk_ts_idx`. */
function generic(name) {
  return name.replace(/_(\d{4}_\d{2}|default)(?=_|$)/, '_*');
}
