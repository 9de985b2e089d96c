// `npm run bench`: measures Roster's write path against two ceilings in one run and writes
// bench/results/<date>.md. See bench/README.md for what each row means.
//
// Every server under test is a child process on 127.0.0.1 with a fresh data dir; the load generator
// (autocannon) runs here. Every wait and loop is bounded in time, and children are stopped on any exit.
import autocannon from 'autocannon';
import { execFile, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { attributesFor, createIdPool } from './workload.mjs';

const ROOT = new URL('..', import.meta.url).pathname;
const HOST = '127.0.0.1';
const WARMUP_S = 3;
const MEASURE_S = 10;
const SINGLE_CONNECTIONS = 64;
const BATCH_SIZE = 100;
const BATCH_CONNECTION_CHOICES = [8, 16];
const SQLITE_TX_ROWS = 100;
const TARGETS = { singleRatio: 0.6, singleP99Ms: 20, batchOpsPerS: 50_000, batchRatio: 0.35, segmentMsgsPerS: 40_000 };
// The whole run takes about a minute; past this something is stuck.
const RUN_DEADLINE_MS = 6 * 60 * 1000;
const STARTUP_DEADLINE_MS = 20_000;
const STOP_GRACE_MS = 10_000;
// Set to a directory to record a .cpuprofile of each Roster server (the figures are then not comparable).
const PROFILE_DIR = process.env.BENCH_PROFILE_DIR;

const execFileP = promisify(execFile);
const children = new Set();
const tempDirs = [];

// ---------- child processes ----------

/** Starts `node <args>` and resolves with the child and the port once its stdout says where it listens. */
function startServer(args, env = {}) {
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: 'warn', HOST, PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
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

function freshDir(prefix) {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}

/** A fresh data dir with one workspace; returns the Basic auth header for its Track API. */
async function createWorkspace(dataDir) {
  const { stdout } = await execFileP(
    process.execPath,
    ['bin/roster.js', 'workspace', 'create', '--name', 'bench', '--json'],
    {
      cwd: ROOT,
      env: { ...process.env, ROSTER_DATA_DIR: dataDir },
      timeout: STARTUP_DEADLINE_MS,
    },
  );
  const { site_id: siteId, track_api_key: key, segment_write_key: writeKey } = JSON.parse(stdout);
  return {
    track: `Basic ${Buffer.from(`${siteId}:${key}`).toString('base64')}`,
    segment: `Basic ${Buffer.from(`${writeKey}:`).toString('base64')}`,
  };
}

async function startRoster() {
  const dataDir = freshDir('roster-bench-');
  const keys = await createWorkspace(dataDir);
  const profile = PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`] : [];
  const server = await startServer([...profile, 'bin/roster.js', 'serve'], { ROSTER_DATA_DIR: dataDir });
  return { ...server, authorization: keys.track, segmentAuthorization: keys.segment };
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
  let seq = 0;
  return {
    method: 'POST',
    path: '/v1/batch',
    setupRequest(req) {
      const batch = [];
      for (let i = 0; i < BATCH_SIZE; i++) {
        const userId = nextId();
        const messageId = `bench-${process.pid}-${seq++}`;
        const timestamp = new Date().toISOString();
        const kind = i % 10;
        if (kind < 6)
          batch.push({
            type: 'track',
            userId,
            event: 'Item Viewed',
            properties: { sku: `s${i}`, price: i },
            messageId,
            timestamp,
          });
        else if (kind < 9)
          batch.push({ type: 'identify', userId, traits: attributesFor(userId), messageId, timestamp });
        else
          batch.push({
            type: 'page',
            userId,
            name: 'Home',
            properties: { url: 'https://example.com/' },
            messageId,
            timestamp,
          });
      }
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
    failed: result.non2xx + result.errors + result.timeouts + (result['2xx'] - ok),
    statusCodes: Object.fromEntries(Object.entries(result.statusCodeStats).map(([code, s]) => [code, s.count])),
  };
}

/** Warm up (the JIT, SQLite's page cache, the table) with the same load, then measure. */
async function warmThenMeasure(options) {
  await load({ ...options, seconds: WARMUP_S });
  return load({ ...options, seconds: MEASURE_S });
}

// ---------- the four measurements ----------

async function measureCeilingA() {
  const { child, port } = await startServer(['bench/bare-server.mjs']);
  try {
    return await warmThenMeasure({
      port,
      connections: SINGLE_CONNECTIONS,
      request: singleIdentifyRequest(createIdPool()),
    });
  } finally {
    await stopChild(child);
  }
}

async function measureRosterSingle() {
  const { child, port, authorization } = await startRoster();
  try {
    const request = singleIdentifyRequest(createIdPool());
    return await warmThenMeasure({ port, connections: SINGLE_CONNECTIONS, request, authorization });
  } finally {
    await stopChild(child);
  }
}

/** After a warm-up, short runs at each connection count pick the one that saturates the server. */
async function measureRosterBatch() {
  const { child, port, authorization } = await startRoster();
  try {
    const request = batchIdentifyRequest(createIdPool());
    await load({ port, connections: BATCH_CONNECTION_CHOICES[0], seconds: WARMUP_S, request, authorization });
    let best = null;
    for (const connections of BATCH_CONNECTION_CHOICES) {
      const probe = await load({ port, connections, seconds: WARMUP_S, request, authorization });
      if (!best || probe.requestsPerS > best.requestsPerS) best = probe;
    }
    const result = await load({ port, connections: best.connections, seconds: MEASURE_S, request, authorization });
    return { ...result, opsPerS: result.requestsPerS * BATCH_SIZE };
  } finally {
    await stopChild(child);
  }
}

async function measureSegmentBatch() {
  const { child, port, segmentAuthorization } = await startRoster();
  try {
    const request = segmentBatchRequest(createIdPool());
    const result = await warmThenMeasure({
      port,
      connections: BATCH_CONNECTION_CHOICES[0],
      request,
      authorization: segmentAuthorization,
    });
    return { ...result, msgsPerS: result.requestsPerS * BATCH_SIZE };
  } finally {
    await stopChild(child);
  }
}

async function measureCeilingB() {
  const file = join(freshDir('roster-bench-sqlite-'), 'ceiling.sqlite');
  const args = ['bench/sqlite-ceiling.mjs', file, String(WARMUP_S), String(MEASURE_S), String(SQLITE_TX_ROWS)];
  const { stdout } = await execFileP(process.execPath, args, {
    cwd: ROOT,
    timeout: (WARMUP_S + MEASURE_S + 30) * 1000,
  });
  return JSON.parse(stdout);
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

/** One table row; `r` may carry p99Ms, connections, failed/statusCodes (a load result), target and met. */
function row(name, throughput, r = {}) {
  const failed =
    r.failed === undefined ? '' : r.failed === 0 ? '0' : `**${fmt(r.failed)}** ${JSON.stringify(r.statusCodes)}`;
  const p99 = r.p99Ms === undefined ? '' : `${r.p99Ms} ms`;
  const result = r.met === undefined ? '' : verdict(r.met);
  return [name, throughput, p99, r.connections ?? '', failed, r.target ?? '—', result];
}

function renderTable({ a, single, batch, segment, b, env, started }) {
  const singleRatio = single.requestsPerS / a.requestsPerS;
  const batchRatio = batch.opsPerS / b.rowsPerSecond;
  const rows = [
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
  const line = (cells) => `| ${cells.join(' | ')} |`;
  return [
    `# Roster benchmark, ${started.toISOString()}`,
    '',
    `Commit ${env.commit} · Node ${env.node} · ${env.cpu} · warm-up ${WARMUP_S} s, measured ${MEASURE_S} s each · ` +
      `1-min load average ${fmt(env.loadBefore, 2)} at start`,
    ...(PROFILE_DIR
      ? ['', '**Profiled run (`--cpu-prof` on the Roster servers): figures are lower than normal.**']
      : []),
    '',
    line(['Measurement', 'Throughput', 'p99', 'Connections', 'Failed', 'Target', 'Result']),
    line(['---', '---:', '---:', '---:', '---:', '---', '---']),
    ...rows.map(line),
    '',
  ].join('\n');
}

// ---------- main ----------

async function main() {
  const started = new Date();
  const env = await environment();
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

  const table = renderTable({ a, single, batch, segment, b, env, started });
  mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
  const suffix = PROFILE_DIR ? '-profiled' : '';
  const file = join(ROOT, 'bench', 'results', `${started.toISOString().slice(0, 10)}${suffix}.md`);
  writeFileSync(file, table);
  console.log(`\n${table}\nWritten to ${file}`);
}

function cleanUp() {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
}

const shutdown = (code) =>
  void stopAll().finally(() => {
    cleanUp();
    process.exit(code);
  });

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
  await stopAll();
  cleanUp();
  clearTimeout(watchdog);
}
