// `npm run bench`: measures Roster's write path against its ceilings in one run, on SQLite and on PostgreSQL,
// and writes bench/results/<date>.md. See bench/README.md for what each row means.
// BENCH_ONLY=sqlite or BENCH_ONLY=postgres runs just that half (written to <date>-<half>.md).
// BENCH_ONLY=people runs only the people rows (bench/people.mjs: seeding 1M people, the dedupe scan, email lookups).
// BENCH_MESSAGE_IDS=sequential, node or uuid gives the Segment row's messageIds in that form (workload.mjs
// createMessageIds; unset is sequential; when set, written to <date>[-<half>]-ids-<form>.md).
//
// Every server under test is a child process on 127.0.0.1 with a fresh data dir (and, on PostgreSQL, a fresh
// schema in the local `test` database, dropped at the end); the load generator (autocannon) runs here. Every wait
// and loop is bounded in time, and children are stopped and schemas dropped on any exit.
import autocannon from 'autocannon';
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { startCpuWatch } from './cpu.mjs';
import { describeActivity, startPgActivity } from './pg-activity.mjs';
import { serveNodeFlags } from './serve-flags.mjs';
import { attributesFor, createIdPool, createMessageIds, segmentBatchMessages } from './workload.mjs';

const ROOT = new URL('..', import.meta.url).pathname;
const HOST = '127.0.0.1';
const WARMUP_S = 3;
const MEASURE_S = 10;
const SINGLE_CONNECTIONS = 64;
const BATCH_SIZE = 100;
const BATCH_CONNECTION_CHOICES = [8, 16];
const SQLITE_TX_ROWS = 100;
const PG_STATEMENT_ROWS = 100;
const PG_PROCESS_COUNTS = [1, 2];
const PG_CEILING_CONNECTIONS = [1, 4];
const TARGETS = {
  singleRatio: 0.6,
  singleP99Ms: 20,
  batchOpsPerS: 50_000,
  batchRatio: 0.35,
  segmentMsgsPerS: 40_000,
  pgBatchRatio: 0.35,
};
// The whole run takes about two and a half minutes (the people rows several more); past this something is stuck.
const RUN_DEADLINE_MS = (process.env.BENCH_ONLY === 'people' ? 40 : 8) * 60 * 1000;
const STARTUP_DEADLINE_MS = 20_000;
const STOP_GRACE_MS = 10_000;
// Set to a directory to record a .cpuprofile of each Roster server (the figures are then not comparable).
const PROFILE_DIR = process.env.BENCH_PROFILE_DIR;
// The local PostgreSQL (trust auth); each Roster measurement and the ceiling get a schema of their own in it.
const PG_BASE_URL = 'postgres://postgres@127.0.0.1:5432/test';
const PG_ADMIN_TIMEOUT_MS = 15_000;
const ONLY = process.env.BENCH_ONLY || undefined;
const MESSAGE_IDS = process.env.BENCH_MESSAGE_IDS || undefined;
if (MESSAGE_IDS) createMessageIds(MESSAGE_IDS); // refuses an unknown form before anything runs
if (ONLY !== undefined && ONLY !== 'sqlite' && ONLY !== 'postgres' && ONLY !== 'people')
  throw new Error(`BENCH_ONLY must be sqlite, postgres or people, got ${ONLY}`);
const RUN_TAG = `${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;

const execFileP = promisify(execFile);
const children = new Set();
const tempDirs = [];
const schemas = [];
// Set once the run is being torn down early (Ctrl-C, watchdog): nothing new is started after that.
let stopping = false;

// ---------- child processes ----------

/** Starts `node <args>` and resolves with the child and the port once its stdout says where it listens. */
function startServer(args, env = {}) {
  if (stopping) return Promise.reject(new Error('the benchmark is stopping'));
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: 'warn', HOST, PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  // Profiles are named after the pid: this says which measurement each belongs to.
  if (PROFILE_DIR) console.log(`  (server pid ${child.pid}: ${args.at(-1) === 'serve' ? 'roster' : args.join(' ')})`);
  child.on('exit', () => children.delete(child));
  child.stderr.on('data', (chunk) => process.stderr.write(`[server] ${chunk}`));
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(
      () => reject(new Error(`server did not start within ${STARTUP_DEADLINE_MS} ms`)),
      STARTUP_DEADLINE_MS,
    );
    child.once('exit', (code) => reject(new Error(`server exited with ${code} before listening:\n${out}`)));
    const onData = (chunk) => {
      out += chunk;
      const port = /(?:listening|running) at http:\/\/127\.0\.0\.1:(\d+)/.exec(out)?.[1];
      if (!port) return;
      clearTimeout(timer);
      // Keep draining stdout so the child never blocks on a full pipe.
      child.stdout.off('data', onData).resume();
      resolve({ child, port: Number(port) });
    };
    child.stdout.on('data', onData);
  });
}

/** SIGTERM so the server closes cleanly (and writes its profile), SIGKILL if it has not exited in time. */
function stopChild(child) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
    child.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

const stopAll = () => Promise.all([...children].map(stopChild));

/** A child started elsewhere (bench/people.mjs's CLI export) that must not outlive the run either. */
function trackChild(child) {
  children.add(child);
  child.on('exit', () => children.delete(child));
  return child;
}

function freshDir(prefix) {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}

/** One new workspace in the store `env` names; returns the Basic auth headers for its Track and Segment APIs. */
async function createWorkspace(env) {
  const { stdout } = await execFileP(
    process.execPath,
    ['bin/roster.js', 'workspace', 'create', '--name', 'bench', '--json'],
    {
      cwd: ROOT,
      env: { ...process.env, ...env },
      timeout: STARTUP_DEADLINE_MS,
    },
  );
  const { site_id: siteId, track_api_key: key, segment_write_key: writeKey } = JSON.parse(stdout);
  return {
    track: `Basic ${Buffer.from(`${siteId}:${key}`).toString('base64')}`,
    segment: `Basic ${Buffer.from(`${writeKey}:`).toString('base64')}`,
  };
}

// `roster serve` with the Node flags `npm start` gives it, then the profiler's.
const serveArgs = () => [
  ...serveNodeFlags,
  ...(PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`] : []),
  'bin/roster.js',
  'serve',
];

/** `roster serve` on a fresh SQLite data dir with one workspace. */
async function startRoster() {
  const dataDir = freshDir('roster-bench-');
  const keys = await createWorkspace({ ROSTER_DATA_DIR: dataDir });
  const server = await startServer(serveArgs(), { ROSTER_DATA_DIR: dataDir });
  return { ...server, dataDir, authorization: keys.track, segmentAuthorization: keys.segment };
}

/**
 * Stops a server of startRoster and deletes its data dir at once: the few hundred MB a row writes would otherwise
 * still be waiting in the page cache when the next row runs, and the kernel writes dirty pages back after 30 s, on
 * the same two cores as the row being measured.
 */
async function stopRoster(server) {
  await stopChild(server.child);
  rmSync(server.dataDir, { recursive: true, force: true });
}

/**
 * `count` × `roster serve` on one fresh PostgreSQL schema with one workspace, each on its own port: what a load
 * balancer would spread requests over. They share a data dir for the master key that encrypts workspace secrets.
 */
async function startRosterOnPostgres(count, databaseUrl) {
  const env = { ROSTER_DATA_DIR: freshDir('roster-bench-pg-'), DATABASE_URL: databaseUrl };
  const keys = await createWorkspace(env);
  const servers = [];
  // One after the other: the first runs the (already applied) migrations check alone.
  for (let i = 0; i < count; i++) servers.push(await startServer(serveArgs(), env));
  return servers.map((server) => ({ ...server, authorization: keys.track }));
}

// ---------- PostgreSQL schemas ----------

/** Runs `fn` with a short-lived admin connection to the local test database; every statement is time-bounded. */
async function withPgAdmin(fn) {
  const client = new pg.Client({
    connectionString: PG_BASE_URL,
    connectionTimeoutMillis: PG_ADMIN_TIMEOUT_MS,
    statement_timeout: PG_ADMIN_TIMEOUT_MS,
    lock_timeout: PG_ADMIN_TIMEOUT_MS,
    query_timeout: PG_ADMIN_TIMEOUT_MS + 2_000,
  });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => {});
  }
}

/**
 * A new, empty schema for one measurement; returns a URL whose connections use it (node-postgres `options`) and
 * carry its name as application_name, so pg_stat_activity tells them apart from anyone else's.
 */
async function freshSchema(label) {
  if (stopping) throw new Error('the benchmark is stopping');
  const name = `roster_bench_${RUN_TAG}_${label}`;
  schemas.push(name);
  await withPgAdmin((c) => c.query(`create schema ${name}`));
  return {
    url: `${PG_BASE_URL}?options=${encodeURIComponent(`-c search_path=${name}`)}&application_name=${name}`,
    applicationName: name,
  };
}

/** Drops this run's schemas (after the servers stopped, so no lock is held); says which ones it could not. */
async function dropSchemas() {
  if (schemas.length === 0) return;
  try {
    await withPgAdmin(async (c) => {
      while (schemas.length > 0) {
        await c.query(`drop schema if exists ${schemas.at(-1)} cascade`);
        schemas.pop();
      }
    });
  } catch (err) {
    console.error(`could not drop schema(s) ${schemas.join(', ')} in ${PG_BASE_URL}: ${err.message}`);
  }
}

async function postgresInfo() {
  return withPgAdmin(async (c) => {
    const settings = {};
    for (const name of ['server_version', 'shared_buffers', 'synchronous_commit', 'max_connections'])
      settings[name] = (await c.query(`show ${name}`)).rows[0][name];
    return settings;
  });
}

// ---------- load ----------

/** Each request identifies the next person from the pool, so the path and body change every time. */
function singleIdentifyRequest(nextId) {
  return {
    method: 'PUT',
    setupRequest(req) {
      const id = nextId();
      req.path = `/api/v1/customers/${id}`;
      req.body = JSON.stringify(attributesFor(id));
      return req;
    },
  };
}

function batchIdentifyRequest(nextId) {
  return {
    method: 'POST',
    path: '/api/v2/batch',
    setupRequest(req) {
      const batch = [];
      for (let i = 0; i < BATCH_SIZE; i++) {
        const id = nextId();
        batch.push({ type: 'person', action: 'identify', identifiers: { id }, attributes: attributesFor(id) });
      }
      req.body = JSON.stringify({ batch });
      return req;
    },
  };
}

/** Segment `/v1/batch` of 100 messages: 60% track, 30% identify, 10% page, each with its own messageId. */
function segmentBatchRequest(nextId) {
  const messageId = createMessageIds();
  return {
    method: 'POST',
    path: '/v1/batch',
    setupRequest(req) {
      const batch = segmentBatchMessages(nextId, BATCH_SIZE, messageId);
      req.body = JSON.stringify({ batch });
      return req;
    },
  };
}

/** One autocannon run; rates count only 2xx answers, over the measured wall time. */
async function load({ port, connections, seconds, request, authorization }) {
  const headers = { 'content-type': 'application/json' };
  if (authorization) headers.authorization = authorization;
  const result = await autocannon({
    url: `http://${HOST}:${port}`,
    connections,
    duration: seconds,
    headers,
    requests: [request],
    timeout: 10,
  });
  const ok = result['2xx'] - (result.statusCodeStats['207']?.count ?? 0);
  return {
    connections,
    requestsPerS: ok / result.duration,
    p99Ms: result.latency.p99,
    // autocannon's `errors` already include its `timeouts` (no answer within 10 s); both are listed when not 0.
    failed: result.non2xx + result.errors + (result['2xx'] - ok),
    statusCodes: {
      ...Object.fromEntries(Object.entries(result.statusCodeStats).map(([code, s]) => [code, s.count])),
      ...(result.errors > 0 ? { errors: result.errors } : {}),
      ...(result.timeouts > 0 ? { timeouts: result.timeouts } : {}),
    },
  };
}

/**
 * One autocannon run per server, all at once, each with `connections`: their 2xx rates add up, the p99 is the
 * worst of them. `cpu` is the cores the servers, this process and (on PostgreSQL) PostgreSQL kept busy; with
 * `pgApp` (the servers' application_name), `activity` is what their PostgreSQL backends were doing.
 */
async function loadServers(servers, { connections, seconds, request, pgApp }) {
  const activityDone = pgApp ? await startPgActivity(PG_BASE_URL, pgApp) : null;
  const cpuDone = startCpuWatch({ pids: servers.map((s) => s.child.pid), postgres: pgApp !== undefined });
  let cpu;
  let activity;
  const results = await Promise.all(
    servers.map((s) => load({ port: s.port, connections, seconds, request, authorization: s.authorization })),
  ).finally(async () => {
    cpu = cpuDone();
    // Stopped whatever happens: its open connection would otherwise keep this process alive.
    activity = await activityDone?.();
  });
  const statusCodes = {};
  for (const r of results)
    for (const [code, count] of Object.entries(r.statusCodes)) statusCodes[code] = (statusCodes[code] ?? 0) + count;
  return {
    connections: servers.length > 1 ? `${servers.length} × ${connections}` : connections,
    connectionsEach: connections,
    requestsPerS: results.reduce((sum, r) => sum + r.requestsPerS, 0),
    p99Ms: Math.max(...results.map((r) => r.p99Ms)),
    failed: results.reduce((sum, r) => sum + r.failed, 0),
    statusCodes,
    cpu,
    activity,
  };
}

/** Warm up (the JIT, SQLite's page cache, the table) with the same load, then measure. */
async function warmThenMeasure(server, options) {
  await loadServers([server], { ...options, seconds: WARMUP_S });
  return loadServers([server], { ...options, seconds: MEASURE_S });
}

/** After a warm-up, short runs at each connection count (per server) pick the faster, which is then measured. */
async function measureBatchOn(servers, request, pgApp = undefined) {
  const options = { request, pgApp };
  await loadServers(servers, { ...options, connections: BATCH_CONNECTION_CHOICES[0], seconds: WARMUP_S });
  let best = null;
  for (const connections of BATCH_CONNECTION_CHOICES) {
    const probe = await loadServers(servers, { ...options, connections, seconds: WARMUP_S });
    if (!best || probe.requestsPerS > best.requestsPerS) best = probe;
  }
  const result = await loadServers(servers, { ...options, connections: best.connectionsEach, seconds: MEASURE_S });
  return { ...result, opsPerS: result.requestsPerS * BATCH_SIZE };
}

// ---------- the SQLite measurements ----------

async function measureCeilingA() {
  const server = await startServer(['bench/bare-server.mjs']);
  try {
    return await warmThenMeasure(server, {
      connections: SINGLE_CONNECTIONS,
      request: singleIdentifyRequest(createIdPool()),
    });
  } finally {
    await stopChild(server.child);
  }
}

async function measureRosterSingle() {
  const server = await startRoster();
  try {
    const request = singleIdentifyRequest(createIdPool());
    return await warmThenMeasure(server, { connections: SINGLE_CONNECTIONS, request });
  } finally {
    await stopRoster(server);
  }
}

async function measureRosterBatch() {
  const server = await startRoster();
  try {
    return await measureBatchOn([server], batchIdentifyRequest(createIdPool()));
  } finally {
    await stopRoster(server);
  }
}

async function measureSegmentBatch() {
  const server = await startRoster();
  try {
    const request = segmentBatchRequest(createIdPool());
    const result = await warmThenMeasure(
      { ...server, authorization: server.segmentAuthorization },
      { connections: BATCH_CONNECTION_CHOICES[0], request },
    );
    return { ...result, msgsPerS: result.requestsPerS * BATCH_SIZE };
  } finally {
    await stopRoster(server);
  }
}

/** Runs a ceiling script to its end (stopped with the servers on any exit); returns the JSON it prints. */
async function runCeiling(args, timeout) {
  if (stopping) throw new Error('the benchmark is stopping');
  const running = execFileP(process.execPath, args, { cwd: ROOT, timeout });
  children.add(running.child);
  running.child.on('exit', () => children.delete(running.child));
  const { stdout } = await running;
  return JSON.parse(stdout);
}

async function measureCeilingB() {
  const file = join(freshDir('roster-bench-sqlite-'), 'ceiling.sqlite');
  const args = ['bench/sqlite-ceiling.mjs', file, String(WARMUP_S), String(MEASURE_S), String(SQLITE_TX_ROWS)];
  return runCeiling(args, (WARMUP_S + MEASURE_S + 30) * 1000);
}

// ---------- the PostgreSQL measurements ----------

/**
 * `/api/v2/batch` identifies against `count` Roster processes on one new schema. All servers' requests draw from
 * one id pool, as behind a load balancer: creates never collide, and an update may name a person another process
 * is writing at the same time.
 */
async function measureRosterBatchPg(count) {
  const { url, applicationName } = await freshSchema(`p${count}`);
  const servers = await startRosterOnPostgres(count, url);
  try {
    return await measureBatchOn(servers, batchIdentifyRequest(createIdPool()), applicationName);
  } finally {
    await Promise.all(servers.map((s) => stopChild(s.child)));
  }
}

async function measureCeilingC() {
  const { url } = await freshSchema('ceiling');
  const args = [
    'bench/pg-ceiling.mjs',
    url,
    String(WARMUP_S),
    String(MEASURE_S),
    String(PG_STATEMENT_ROWS),
    PG_CEILING_CONNECTIONS.join(','),
  ];
  return runCeiling(args, (PG_CEILING_CONNECTIONS.length * (WARMUP_S + MEASURE_S) + 30) * 1000);
}

// ---------- report ----------

const fmt = (n, digits = 0) =>
  n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const verdict = (ok) => (ok ? 'met' : '**missed**');

async function environment() {
  const git = async (...args) =>
    (await execFileP('git', args, { cwd: ROOT }).catch(() => ({ stdout: '?' }))).stdout.trim();
  const dirty = (await git('status', '--porcelain', '--', 'src')) !== '';
  return {
    commit: `${await git('rev-parse', '--short', 'HEAD')}${dirty ? ' (src/ has uncommitted changes)' : ''}`,
    cpu: `${cpus()[0]?.model ?? '?'} × ${cpus().length}`,
    node: process.version,
    // Anything else running on the machine skews every row; the 1-minute load average shows whether it was quiet.
    loadBefore: loadavg()[0],
  };
}

/**
 * Cores busy over the measured seconds (bench/cpu.mjs), e.g. `server 0.97 · PG 0.52 (its backends 0.40) ·
 * client 0.41`: PostgreSQL counts all its processes, whoever they serve; the backends are the row's own.
 */
function cpuCell(cpu, { processes = 'server', self = 'client' } = {}, backendCores = undefined) {
  if (!cpu) return '';
  const parts = [];
  if (cpu.processes !== undefined) parts.push(`${processes} ${fmt(cpu.processes, 2)}`);
  if (cpu.postgres !== undefined)
    parts.push(
      `PG ${fmt(cpu.postgres, 2)}${backendCores === undefined ? '' : ` (its backends ${fmt(backendCores, 2)})`}`,
    );
  parts.push(`${self} ${fmt(cpu.self, 2)}`);
  return parts.join(' · ');
}

/**
 * Cores' worth of time the same processes spent runnable but waiting for a CPU (bench/cpu.mjs `queued`), e.g.
 * `servers 0.30 · PG 0.21 · client 0.02`: a step of a batch ready while both cores were held.
 */
function queuedCell(cpu, { processes = 'server', self = 'client' } = {}) {
  const q = cpu?.queued;
  if (!q) return '';
  const parts = [];
  if (q.processes !== undefined) parts.push(`${processes} ${fmt(q.processes, 2)}`);
  if (q.postgres !== undefined) parts.push(`PG ${fmt(q.postgres, 2)}`);
  parts.push(`${self} ${fmt(q.self, 2)}`);
  return parts.join(' · ');
}

/** One table row; `r` may carry p99Ms, connections, failed/statusCodes, cpu (a load result), target and met. */
function row(name, throughput, r = {}, cpuLabels = undefined) {
  const failed =
    r.failed === undefined ? '' : r.failed === 0 ? '0' : `**${fmt(r.failed)}** ${JSON.stringify(r.statusCodes)}`;
  const p99 = r.p99Ms === undefined ? '' : `${r.p99Ms} ms`;
  const result = r.met === undefined ? '' : verdict(r.met);
  return [
    name,
    throughput,
    p99,
    r.connections ?? '',
    failed,
    cpuCell(r.cpu, cpuLabels, r.activity?.cores),
    r.target ?? '—',
    result,
  ];
}

function sqliteRows({ a, single, batch, segment, b }) {
  const singleRatio = single.requestsPerS / a.requestsPerS;
  const batchRatio = batch.opsPerS / b.rowsPerSecond;
  return [
    row('Ceiling A: bare Fastify, `PUT /api/v1/customers/:id` → `{}`', `${fmt(a.requestsPerS)} req/s`, a),
    row('Roster `PUT /api/v1/customers/{id}` (½ create, ½ update)', `${fmt(single.requestsPerS)} req/s`, {
      ...single,
      target: `p99 ≤ ${TARGETS.singleP99Ms} ms`,
      met: single.p99Ms <= TARGETS.singleP99Ms,
    }),
    row('↳ Roster single ÷ Ceiling A', fmt(singleRatio, 2), {
      target: `≥ ${TARGETS.singleRatio}`,
      met: singleRatio >= TARGETS.singleRatio,
    }),
    row(
      `Roster \`POST /api/v2/batch\`, ${BATCH_SIZE} identifies each`,
      `${fmt(batch.opsPerS)} ops/s (${fmt(batch.requestsPerS)} req/s)`,
      { ...batch, target: `≥ ${fmt(TARGETS.batchOpsPerS)} ops/s`, met: batch.opsPerS >= TARGETS.batchOpsPerS },
    ),
    row(
      `Roster Segment \`POST /v1/batch\`, ${BATCH_SIZE} messages (60% track, 30% identify, 10% page)`,
      `${fmt(segment.msgsPerS)} msgs/s (${fmt(segment.requestsPerS)} req/s)`,
      {
        ...segment,
        target: `≥ ${fmt(TARGETS.segmentMsgsPerS)} msgs/s`,
        met: segment.msgsPerS >= TARGETS.segmentMsgsPerS,
      },
    ),
    row(`Ceiling B: raw better-sqlite3 upsert, ${SQLITE_TX_ROWS} rows/transaction`, `${fmt(b.rowsPerSecond)} rows/s`),
    row('↳ Roster batch ÷ Ceiling B', fmt(batchRatio, 2), {
      target: `≥ ${TARGETS.batchRatio}`,
      met: batchRatio >= TARGETS.batchRatio,
    }),
  ];
}

function postgresRows({ byProcesses, c }) {
  const rows = [];
  for (const [count, batch] of byProcesses)
    rows.push(
      row(
        `Roster \`POST /api/v2/batch\`, ${BATCH_SIZE} identifies each, ${count} server process${count > 1 ? 'es' : ''}`,
        `${fmt(batch.opsPerS)} ops/s (${fmt(batch.requestsPerS)} req/s)`,
        batch,
        { processes: count > 1 ? 'servers' : 'server' },
      ),
    );
  const tries = c.tries.map((t) => `${fmt(t.rowsPerSecond)} at ${t.connections}`).join(', ');
  rows.push(
    row(
      `Ceiling C: raw \`pg\` multi-row upsert, ${PG_STATEMENT_ROWS} rows/statement (rows/s by connections: ${tries})`,
      `${fmt(c.rowsPerSecond)} rows/s`,
      { connections: c.connections, cpu: c.cpu, activity: c.activity },
      { self: 'ceiling' },
    ),
  );
  let best = 0;
  for (const [count, batch] of byProcesses) {
    const ratio = batch.opsPerS / c.rowsPerSecond;
    best = Math.max(best, ratio);
    rows.push(row(`↳ Roster batch, ${count} process${count > 1 ? 'es' : ''} ÷ Ceiling C`, fmt(ratio, 2)));
  }
  rows.push(
    row('↳ the better of those', fmt(best, 2), {
      target: `≥ ${TARGETS.pgBatchRatio}`,
      met: best >= TARGETS.pgBatchRatio,
    }),
  );
  return rows;
}

function renderReport({ sqlite, postgres, people, env, started }) {
  const line = (cells) => `| ${cells.join(' | ')} |`;
  const table = (rows) => [
    line(['Measurement', 'Throughput', 'p99', 'Connections', 'Failed', 'CPU busy (cores)', 'Target', 'Result']),
    line(['---', '---:', '---:', '---:', '---:', '---', '---', '---']),
    ...rows.map(line),
  ];
  const out = [
    `# Roster benchmark, ${started.toISOString()}`,
    '',
    `Commit ${env.commit} · Node ${env.node} · ${env.cpu} · warm-up ${WARMUP_S} s, measured ${MEASURE_S} s each · ` +
      `1-min load average ${fmt(env.loadBefore, 2)} at start`,
    ...(PROFILE_DIR
      ? ['', '**Profiled run (`--cpu-prof` on the Roster servers): figures are lower than normal.**']
      : []),
    ...(MESSAGE_IDS ? ['', `**Segment messageIds of the form \`${MESSAGE_IDS}\`** (\`BENCH_MESSAGE_IDS\`).`] : []),
  ];
  if (sqlite) out.push('', '## SQLite', '', ...table(sqliteRows(sqlite)));
  if (people) out.push('', '## People (bench/people.mjs)', '', ...table(people.rows(people.results, { row, fmt })));
  if (postgres) {
    const s = postgres.settings;
    out.push(
      '',
      '## PostgreSQL',
      '',
      `PostgreSQL ${s.server_version} at ${HOST}:5432 · shared_buffers ${s.shared_buffers} · ` +
        `synchronous_commit ${s.synchronous_commit} · a fresh schema for each row`,
      '',
      ...table(postgresRows(postgres)),
      '',
      'What the PostgreSQL backends of each row waited for during its measured seconds (average number of them ' +
        'in a transaction, by wait event; pg_stat_activity every 100 ms):',
      '',
      ...postgres.byProcesses.map(
        ([count, r]) =>
          `- Roster, ${count} process${count > 1 ? 'es' : ''}: ${describeActivity(r.activity, 'Roster') || 'n/a'}`,
      ),
      `- Ceiling C: ${describeActivity(postgres.c.activity, 'the ceiling') || 'n/a'}`,
      '',
      "How long the same processes were runnable but waiting for a CPU (cores' worth, /proc schedstat):",
      '',
      ...postgres.byProcesses.map(
        ([count, r]) =>
          `- Roster, ${count} process${count > 1 ? 'es' : ''}: ` +
          (queuedCell(r.cpu, { processes: count > 1 ? 'servers' : 'server' }) || 'n/a'),
      ),
      `- Ceiling C: ${queuedCell(postgres.c.cpu, { self: 'ceiling' }) || 'n/a'}`,
    );
  }
  out.push('');
  return out.join('\n');
}

// ---------- main ----------

async function measureSqlite() {
  console.log('Ceiling A: bare Fastify …');
  const a = await measureCeilingA();
  console.log('Roster: single PUT …');
  const single = await measureRosterSingle();
  console.log('Roster: batch …');
  const batch = await measureRosterBatch();
  console.log('Roster: Segment /v1/batch …');
  const segment = await measureSegmentBatch();
  console.log('Ceiling B: raw better-sqlite3 …');
  const b = await measureCeilingB();
  return { a, single, batch, segment, b };
}

async function measurePostgres(settings) {
  const byProcesses = [];
  for (const count of PG_PROCESS_COUNTS) {
    console.log(`PostgreSQL: Roster batch, ${count} server process${count > 1 ? 'es' : ''} …`);
    byProcesses.push([count, await measureRosterBatchPg(count)]);
  }
  console.log('Ceiling C: raw pg upsert …');
  const c = await measureCeilingC();
  return { settings, byProcesses, c };
}

/** The people rows, loaded only when asked for (they need the built Roster in-process). */
async function measurePeopleRows() {
  const { measurePeople, peopleRows } = await import('./people.mjs');
  const results = await measurePeople({
    freshDir,
    freshSchema,
    startServer,
    trackChild,
    stopChild,
    load,
    warmupSeconds: WARMUP_S,
    measureSeconds: MEASURE_S,
  });
  return { results, rows: peopleRows };
}

async function main() {
  const started = new Date();
  const env = await environment();
  // Before anything runs: a PostgreSQL that cannot be reached fails the run now, not after the SQLite half.
  const pgSettings = ONLY === 'sqlite' || ONLY === 'people' ? null : await postgresInfo();
  const sqlite = ONLY === 'postgres' || ONLY === 'people' ? null : await measureSqlite();
  const postgres = pgSettings && (await measurePostgres(pgSettings));
  const people = ONLY === 'people' ? await measurePeopleRows() : null;

  const report = renderReport({ sqlite, postgres, people, env, started });
  mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
  const suffix = `${ONLY ? `-${ONLY}` : ''}${PROFILE_DIR ? '-profiled' : ''}${MESSAGE_IDS ? `-ids-${MESSAGE_IDS}` : ''}`;
  const file = join(ROOT, 'bench', 'results', `${started.toISOString().slice(0, 10)}${suffix}.md`);
  writeFileSync(file, report);
  console.log(`\n${report}\nWritten to ${file}`);
}

function cleanUp() {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
}

/** Children first (they hold connections and locks), then this run's schemas and temp dirs. */
async function tearDown() {
  await stopAll();
  await dropSchemas();
  cleanUp();
}

const shutdown = (code) => {
  stopping = true;
  // If tearing down itself hangs, leave anyway (the exit handler still kills the children).
  setTimeout(() => process.exit(code), STOP_GRACE_MS + 2 * PG_ADMIN_TIMEOUT_MS).unref();
  void tearDown().finally(() => process.exit(code));
};

// Last resort: no child outlives the benchmark, whatever way it ends.
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});
process.on('SIGINT', () => shutdown(130));
const watchdog = setTimeout(() => {
  console.error(`benchmark still running after ${RUN_DEADLINE_MS / 1000} s; stopping`);
  shutdown(1);
}, RUN_DEADLINE_MS);

try {
  await main();
} catch (err) {
  console.error(err);
  process.exitCode = 1;
} finally {
  await tearDown();
  clearTimeout(watchdog);
}
