// Ceiling C: raw `pg` upserts into Roster's own `people` table on PostgreSQL (made by its migrations), with the same
// ids and attributes as the batch load: one multi-row `INSERT … ON CONFLICT (workspace_pk, id) WHERE id IS NOT NULL
// DO UPDATE` of N rows per statement (its own transaction), over 1 and over 4 connections, each on an empty table.
// It has no HTTP, validation, identity rules, suppression check, read-before-write or activity row, so it is the
// most PostgreSQL stores on this machine through node-postgres, not what Roster could reach by removing overhead.
//
// Usage: node bench/pg-ceiling.mjs <database-url> <warmup-seconds> <seconds> <rows-per-statement> [connections,…]
// The URL should name a schema of its own (`?options=-c%20search_path%3D<schema>`): Roster's migrations run in it,
// and its table `people` is emptied before each connection count. Prints one JSON line:
// {"rowsPerSecond", "connections", "cpu", "activity", "tries": [{"connections", "rows", "seconds", "retries",
// "rowsPerSecond", "cpu", "activity"}]}, the best try's figures first. cpu: cores busy while measuring, this process
// and PostgreSQL (bench/cpu.mjs); activity: what the backends did, when the URL names an application_name.
import pg from 'pg';
import { startCpuWatch } from './cpu.mjs';
import { startPgActivity } from './pg-activity.mjs';
import { attributesFor, createIdPool } from './workload.mjs';

const [url, warmupS, measureS, rowsArg, connectionsArg = '1,4'] = process.argv.slice(2);
const ROWS = Number(rowsArg);
const CONNECTION_CHOICES = connectionsArg.split(',').map(Number);
// Bounds every statement, so a stuck lock ends the run instead of hanging it.
const STATEMENT_TIMEOUT_MS = 10_000;
// Parameters per row: cio_id, id, email (also email_norm and email_key), attributes, attribute_ts, created_at_s,
// updated_at.
const PARAMS_PER_ROW = 7;

if (!url || !(ROWS > 0) || CONNECTION_CHOICES.some((n) => !(n > 0)))
  throw new Error('usage: node bench/pg-ceiling.mjs <database-url> <warmup-s> <seconds> <rows> [connections,…]');
if (new URL(url).hostname !== '127.0.0.1') throw new Error('the ceiling only connects to 127.0.0.1');
// Set by the bench in the URL: what this script's backends do is then sampled (bench/pg-activity.mjs).
const APPLICATION_NAME = new URL(url).searchParams.get('application_name');

async function connect() {
  const client = new pg.Client({
    connectionString: url,
    statement_timeout: STATEMENT_TIMEOUT_MS,
    query_timeout: STATEMENT_TIMEOUT_MS + 2_000,
  });
  await client.connect();
  return client;
}

/**
 * Roster's own `people` table, made by Roster's migrations (dist/, built by `npm run bench`) in the URL's schema, so
 * it has every column, index, collation and storage setting Roster's has and cannot drift from it.
 */
async function migrate() {
  const { openPostgresStore } = await import(new URL('../dist/store/database.js', import.meta.url).href);
  await (await openPostgresStore(url)).close();
}

// One statement, prepared once per connection (node-postgres names it): the rows are parameters. As in Roster's
// default email_or_id workspaces the email is also the email key; the update leaves the email columns alone.
const upsertSql = (() => {
  const rows = [];
  for (let r = 0; r < ROWS; r++) {
    const p = Array.from({ length: PARAMS_PER_ROW }, (_, c) => `$${r * PARAMS_PER_ROW + c + 1}`);
    rows.push(`(1, ${p[0]}, ${p[1]}, ${p[2]}, ${p[2]}, ${p[2]}, ${p[3]}, ${p[4]}, ${p[5]}, ${p[6]})`);
  }
  return `INSERT INTO people (workspace_pk, cio_id, id, email, email_norm, email_key, attributes, attribute_ts,
                      created_at_s, updated_at)
    VALUES ${rows.join(', ')}
    ON CONFLICT (workspace_pk, id) WHERE id IS NOT NULL DO UPDATE SET
      attributes = excluded.attributes, attribute_ts = excluded.attribute_ts, updated_at = excluded.updated_at`;
})();

/**
 * One statement's parameters, built the way a server would (attributes serialised per row). PostgreSQL refuses
 * to update a row twice in one statement, so an id drawn twice is drawn again; rows go in id order, so concurrent
 * statements lock the rows they share in the same order.
 */
function makeParams(nextId, state) {
  const now = Date.now();
  const byId = new Map();
  while (byId.size < ROWS) {
    const id = nextId();
    if (byId.has(id)) continue;
    const attrs = attributesFor(id);
    const ts = Object.fromEntries(Object.keys(attrs).map((k) => [k, now]));
    // Unique per attempt; an update keeps the stored cio_id, as Roster does.
    const cioId = `c${state.seq++}`;
    byId.set(id, [cioId, id, attrs.email, JSON.stringify(attrs), JSON.stringify(ts), Math.floor(now / 1000), now]);
  }
  const params = [];
  for (const id of [...byId.keys()].sort()) params.push(...byId.get(id));
  return params;
}

// A deadlock, or a unique key on another index taken by a concurrent insert: the statement is simply re-run.
const retryable = (err) => err?.code === '40P01' || err?.code === '23505' || err?.code === '40001';

/** Every connection upserts until the deadline; returns rows written, seconds spent and retries. */
async function runFor(seconds, clients, nextId, state) {
  const started = performance.now();
  const deadline = started + seconds * 1000;
  let rows = 0;
  let retries = 0;
  await Promise.all(
    clients.map(async (client) => {
      while (performance.now() < deadline) {
        try {
          await client.query({ name: 'upsert', text: upsertSql, values: makeParams(nextId, state) });
          rows += ROWS;
        } catch (err) {
          if (!retryable(err)) throw err;
          retries++;
        }
      }
    }),
  );
  return { rows, seconds: (performance.now() - started) / 1000, retries };
}

async function tryConnections(count) {
  const clients = [];
  try {
    for (let i = 0; i < count; i++) clients.push(await connect());
    // Empty, with its key sequence restarted, for each connection count.
    await clients[0].query('TRUNCATE people RESTART IDENTITY');
    const nextId = createIdPool();
    const state = { seq: 0 };
    await runFor(Number(warmupS), clients, nextId, state);
    const activityDone = APPLICATION_NAME ? await startPgActivity(url, APPLICATION_NAME) : null;
    const cpuDone = startCpuWatch({ postgres: true });
    let cpu;
    let activity;
    const measured = await runFor(Number(measureS), clients, nextId, state).finally(async () => {
      cpu = cpuDone();
      activity = await activityDone?.();
    });
    return { connections: count, ...measured, rowsPerSecond: measured.rows / measured.seconds, cpu, activity };
  } finally {
    await Promise.all(clients.map((c) => c.end().catch(() => {})));
  }
}

await migrate();
const tries = [];
for (const count of CONNECTION_CHOICES) tries.push(await tryConnections(count));
const best = tries.reduce((a, b) => (b.rowsPerSecond > a.rowsPerSecond ? b : a));
const { rowsPerSecond, connections, cpu, activity } = best;
console.log(JSON.stringify({ rowsPerSecond, connections, cpu, activity, tries }));
