// The people rows of the benchmark (BENCH_ONLY=people in bench/run.mjs): seed N people (bench/seed-people.mjs),
// time the dedupe scan over them, then against a running server on that store measure `GET /v1/customers?email=`,
// a filter search (`POST /v1/customers`) and a data-driven segment's customer_count, and an export job
// (`POST /v1/exports/customers` until done); last, `roster people export` as a child process (rows/s, peak RSS).
// BENCH_PEOPLE_COUNT (default 1,000,000) and BENCH_PEOPLE_BACKENDS (default `sqlite,postgres`) change what runs.
import { spawn } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { countries, plans, seededEmail, seededDuplicateEmails, seedPeople } from './seed-people.mjs';

const dist = new URL('../dist/', import.meta.url);
const { openStore } = await import(new URL('store/database.js', dist).href);
const { findDuplicateGroups } = await import(new URL('queries/duplicates.js', dist).href);
const { planDedupe } = await import(new URL('domain/dedupe.js', dist).href);

const ROOT = new URL('..', import.meta.url).pathname;
export const PEOPLE_TARGETS = {
  scanSeconds: 10,
  lookupP99Ms: 5,
  searchSeconds: 1,
  exportRowsPerS: 250_000,
  exportRssMb: 250,
};
// One connection shows the lookup's own latency; eight, the latency under concurrent load.
const LOOKUP_CONNECTIONS = [1, 8];
// Timed runs of each filter-search request, after one untimed (the page cache, the JIT).
const SEARCH_RUNS = 7;
const SEARCH_COUNTRIES = ['US', 'GB', 'DE'];
/** The filter of the search rows: a third of the people are on `pro`, 3 of the 10 countries: about 10% match. */
export const SEARCH_FILTER = {
  and: [
    { attribute: { field: 'plan', operator: 'eq', value: 'pro' } },
    { attribute: { field: 'country', operator: 'in', value: SEARCH_COUNTRIES } },
  ],
};
const EXPORT_DEADLINE_MS = 10 * 60 * 1000;
const REQUEST_TIMEOUT_MS = 120_000;

/** How many of the `count` seeded people SEARCH_FILTER matches (seed-people.mjs's rules for plan and country). */
export function expectedSearchMatches(count) {
  let n = 0;
  for (let i = 0; i < count; i++)
    if (plans[i % plans.length] === 'pro' && SEARCH_COUNTRIES.includes(countries[(i * 7) % countries.length])) n++;
  return n;
}

const load1 = () => loadavg()[0];

/** Bearer-authenticated JSON request to the server under test; a non-2xx answer throws. */
async function api(server, key, method, path, body) {
  const res = await fetch(`http://127.0.0.1:${server.port}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text.slice(0, 300)}`);
  return text === '' ? null : JSON.parse(text);
}

/** One untimed run, then `runs` timed ones one after the other: p50 and p99 (nearest rank: the slowest of 7). */
async function timeRuns(runs, fn) {
  await fn();
  const ms = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    await fn();
    ms.push(performance.now() - started);
  }
  ms.sort((a, b) => a - b);
  const rank = (q) => ms[Math.min(ms.length - 1, Math.ceil(q * ms.length) - 1)];
  return { runs, p50Ms: rank(0.5), p99Ms: rank(0.99), load: load1() };
}

/** A process's memory from /proc (kB → MB): `VmHWM` is its peak resident set so far, `VmRSS` the current one. */
function procMemoryMb(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (name) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
    return { hwm: kb('VmHWM') / 1024, rss: kb('VmRSS') / 1024 };
  } catch {
    return null;
  }
}

/** Samples a process's memory every 50 ms until stopped; returns the highest VmHWM and VmRSS seen. */
function sampleMemory(pid) {
  let hwm = 0;
  let rss = 0;
  const take = () => {
    const m = procMemoryMb(pid);
    // An exiting process's status has no Vm lines (NaN): skip those samples.
    if (m && Number.isFinite(m.hwm)) hwm = Math.max(hwm, m.hwm);
    if (m && Number.isFinite(m.rss)) rss = Math.max(rss, m.rss);
  };
  take();
  const timer = setInterval(take, 50);
  return () => {
    take();
    clearInterval(timer);
    return { hwmMb: hwm, rssMb: rss };
  };
}

/**
 * Filter search against the running server: `POST /v1/customers?limit=1000` with SEARCH_FILTER (the first page,
 * and the last page via its cursor: a scan over everyone), and the customer_count of a data-driven segment with the
 * same filter (a count of every match). Checks the count against the seed.
 */
async function measureSearch(server, key, count) {
  const expected = expectedSearchMatches(count);
  const first = await timeRuns(SEARCH_RUNS, async () => {
    const page = await api(server, key, 'POST', '/v1/customers?limit=1000', { filter: SEARCH_FILTER });
    if (page.ids.length !== Math.min(1000, expected)) throw new Error(`search page has ${page.ids.length} people`);
  });
  const { segment } = await api(server, key, 'POST', '/v1/segments', {
    segment: { name: 'bench pro in US/GB/DE', filter: SEARCH_FILTER },
  });
  const counted = await timeRuns(SEARCH_RUNS, async () => {
    const { count: n } = await api(server, key, 'GET', `/v1/segments/${segment.id}/customer_count`);
    if (n !== expected) throw new Error(`segment customer_count ${n}, expected ${expected}`);
  });
  return { expected, first, counted };
}

/**
 * The export job: `POST /v1/exports/customers` for everyone (every attribute), polled with `GET /v1/exports/{id}`
 * every 100 ms until done; then the signed download, read to the end. The server's memory is sampled throughout.
 */
async function measureExportJob(server, key, count) {
  const load = load1();
  const memory = sampleMemory(server.child.pid);
  const started = performance.now();
  const { export: created } = await api(server, key, 'POST', '/v1/exports/customers', { filters: { and: [] } });
  let exp = created;
  while (exp.status === 'pending') {
    if (performance.now() - started > EXPORT_DEADLINE_MS) throw new Error('the export job did not finish in time');
    await new Promise((r) => setTimeout(r, 100));
    exp = (await api(server, key, 'GET', `/v1/exports/${created.id}`)).export;
  }
  const seconds = (performance.now() - started) / 1000;
  const mem = memory();
  if (exp.status !== 'done') throw new Error(`export ${created.id} ended ${exp.status}`);
  if (exp.total !== count) throw new Error(`export has ${exp.total} rows, expected ${count}`);
  const { url } = await api(server, key, 'GET', `/v1/exports/${created.id}/download`);
  const downloadStarted = performance.now();
  const res = await fetch(url, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  let bytes = 0;
  for await (const chunk of res.body) bytes += chunk.length;
  const downloadSeconds = (performance.now() - downloadStarted) / 1000;
  if (!res.ok) throw new Error(`export download: ${res.status}`);
  return { rows: exp.total, seconds, serverRssMb: mem.rssMb, bytes, downloadSeconds, load };
}

/**
 * `roster people export --workspace … --out FILE` as a child process: wall time from spawn to exit (Node's start
 * included), rows from its last line, the child's peak RSS (VmHWM, sampled every 50 ms from /proc).
 */
async function measureCliExport(h, { dataDir, databaseUrl, workspaceId, count }) {
  const out = join(h.freshDir('roster-bench-export-'), 'people.csv');
  const load = load1();
  const started = performance.now();
  const child = h.trackChild(
    spawn(process.execPath, ['bin/roster.js', 'people', 'export', '--workspace', workspaceId, '--out', out], {
      cwd: ROOT,
      env: { ...process.env, ROSTER_DATA_DIR: dataDir, ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}) },
      stdio: ['ignore', 'ignore', 'pipe'],
    }),
  );
  const memory = sampleMemory(child.pid);
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const code = await new Promise((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), EXPORT_DEADLINE_MS);
    child.once('exit', (c, signal) => {
      clearTimeout(kill);
      resolve(c ?? signal);
    });
  });
  const seconds = (performance.now() - started) / 1000;
  const mem = memory();
  if (code !== 0) throw new Error(`roster people export exited with ${code}: ${stderr.slice(-500)}`);
  const rows = Number(/Exported (\d+) people/.exec(stderr)?.[1]);
  if (rows !== count) throw new Error(`roster people export wrote ${rows} people, expected ${count}`);
  return { rows, seconds, peakRssMb: mem.hwmMb, bytes: statSync(out).size, load };
}

/** Times one full dedupe scan (groups, members, event counts) and its plan; checks it found `expected` groups. */
async function timeScan(store, workspacePk, key, expected) {
  const started = performance.now();
  const groups = await findDuplicateGroups(store.reader, workspacePk, key);
  const plans = planDedupe(groups, 'oldest');
  const seconds = (performance.now() - started) / 1000;
  if (expected !== undefined && plans.length !== expected)
    throw new Error(`dedupe scan by ${JSON.stringify(key)} found ${plans.length} groups, expected ${expected}`);
  return { seconds, groups: plans.length, people: groups.reduce((n, g) => n + g.people.length, 0) };
}

/**
 * One backend: seed, scan (by email, and by the secondary_email attribute read from JSON), then a server on the
 * store answers email lookups under load. `h` are bench/run.mjs's helpers (fresh dirs and schemas, servers, load).
 */
async function measureBackend(backend, count, h) {
  const dataDir = h.freshDir('roster-bench-people-');
  const databaseUrl = backend === 'postgres' ? (await h.freshSchema('people')).url : undefined;
  console.log(`People (${backend}): seeding ${count.toLocaleString('en-US')} people …`);
  const seed = await seedPeople({ dataDir, databaseUrl, count });

  const store = await openStore({ dataDir, databaseUrl });
  let byEmail;
  let byAttribute;
  try {
    console.log(`People (${backend}): dedupe scans …`);
    byEmail = await timeScan(store, seed.workspacePk, { kind: 'email' }, seededDuplicateEmails(count));
    byAttribute = await timeScan(store, seed.workspacePk, { kind: 'attribute', name: 'secondary_email' });
  } finally {
    await store.close();
  }

  console.log(`People (${backend}): GET /v1/customers?email= …`);
  const env = { ROSTER_DATA_DIR: dataDir, ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}) };
  const server = await h.startServer(['bin/roster.js', 'serve'], env);
  try {
    const request = {
      method: 'GET',
      setupRequest(req) {
        req.path = `/v1/customers?email=${encodeURIComponent(seededEmail(Math.floor(Math.random() * count)))}`;
        return req;
      },
    };
    const lookups = [];
    for (const connections of LOOKUP_CONNECTIONS) {
      const options = { port: server.port, connections, request, authorization: `Bearer ${seed.creds.app_api_key}` };
      await h.load({ ...options, seconds: h.warmupSeconds });
      lookups.push({ ...(await h.load({ ...options, seconds: h.measureSeconds })), load: load1() });
    }
    console.log(`People (${backend}): filter search and segment customer_count …`);
    const search = await measureSearch(server, seed.creds.app_api_key, count);
    console.log(`People (${backend}): export job …`);
    const exportJob = await measureExportJob(server, seed.creds.app_api_key, count);
    await h.stopChild(server.child);
    console.log(`People (${backend}): roster people export …`);
    const cliExport = await measureCliExport(h, { dataDir, databaseUrl, workspaceId: seed.creds.workspace_id, count });
    return { backend, count, seed, byEmail, byAttribute, lookups, search, exportJob, cliExport };
  } finally {
    await h.stopChild(server.child);
  }
}

/** Every backend named by BENCH_PEOPLE_BACKENDS, one after the other. */
export async function measurePeople(h) {
  const count = Number(process.env.BENCH_PEOPLE_COUNT ?? 1_000_000);
  if (!Number.isInteger(count) || count < 100) throw new Error('BENCH_PEOPLE_COUNT must be a whole number ≥ 100');
  const backends = (process.env.BENCH_PEOPLE_BACKENDS ?? 'sqlite,postgres').split(',').map((b) => b.trim());
  for (const b of backends)
    if (b !== 'sqlite' && b !== 'postgres') throw new Error(`BENCH_PEOPLE_BACKENDS: unknown backend ${b}`);
  const results = [];
  for (const backend of backends) results.push(await measureBackend(backend, count, h));
  return results;
}

/** Table rows for the report, in bench/run.mjs's row() shape. */
export function peopleRows(results, { row, fmt }) {
  const rows = [];
  for (const r of results) {
    const n = fmt(r.count);
    rows.push(
      row(
        `${r.backend}: seed ${n} people + ${fmt(r.seed.events)} events (multi-row inserts, 50k rows/transaction)`,
        `${fmt(r.count / r.seed.seconds)} people/s (${fmt(r.seed.seconds, 1)} s)`,
      ),
      row(
        `${r.backend}: dedupe scan by email over ${n} people (${fmt(r.byEmail.groups)} groups, ${fmt(r.byEmail.people)} people)`,
        `${fmt(r.byEmail.seconds, 2)} s`,
        { target: `≤ ${PEOPLE_TARGETS.scanSeconds} s`, met: r.byEmail.seconds <= PEOPLE_TARGETS.scanSeconds },
      ),
      row(
        `${r.backend}: dedupe scan by the secondary_email attribute (JSON) over ${n} people (${fmt(r.byAttribute.groups)} groups)`,
        `${fmt(r.byAttribute.seconds, 2)} s`,
        { target: `≤ ${PEOPLE_TARGETS.scanSeconds} s`, met: r.byAttribute.seconds <= PEOPLE_TARGETS.scanSeconds },
      ),
      ...r.lookups.map((lookup) =>
        row(
          `${r.backend}: \`GET /v1/customers?email=\` (random seeded email; load ${fmt(lookup.load, 1)})`,
          `${fmt(lookup.requestsPerS)} req/s`,
          {
            ...lookup,
            target: `p99 ≤ ${PEOPLE_TARGETS.lookupP99Ms} ms`,
            met: lookup.p99Ms <= PEOPLE_TARGETS.lookupP99Ms,
          },
        ),
      ),
    );
    const { search, exportJob, cliExport } = r;
    const searchRow = (name, t) =>
      row(
        `${r.backend}: ${name} (p50 of ${t.runs} runs ${fmt(t.p50Ms)} ms; load ${fmt(t.load, 1)})`,
        `${fmt(t.p99Ms / 1000, 3)} s`,
        {
          target: `≤ ${PEOPLE_TARGETS.searchSeconds} s`,
          met: t.p99Ms <= PEOPLE_TARGETS.searchSeconds * 1000,
        },
      );
    rows.push(
      searchRow(
        `\`POST /v1/customers?limit=1000\`, plan eq pro and country in [US,GB,DE] (${fmt(search.expected)} match), slowest run`,
        search.first,
      ),
      searchRow(
        `\`GET /v1/segments/{id}/customer_count\`, data-driven segment with that filter, slowest run`,
        search.counted,
      ),
    );
    const exportRate = (x) => x.rows / x.seconds;
    rows.push(
      row(
        `${r.backend}: \`roster people export --out FILE\`, all ${n} people, every attribute ` +
          `(${fmt(cliExport.seconds, 1)} s, ${fmt(cliExport.bytes / 1e6)} MB; peak RSS ${fmt(cliExport.peakRssMb)} MB; ` +
          `load ${fmt(cliExport.load, 1)})`,
        `${fmt(exportRate(cliExport))} rows/s`,
        {
          target: `≥ ${fmt(PEOPLE_TARGETS.exportRowsPerS)} rows/s, RSS < ${PEOPLE_TARGETS.exportRssMb} MB`,
          met:
            exportRate(cliExport) >= PEOPLE_TARGETS.exportRowsPerS && cliExport.peakRssMb < PEOPLE_TARGETS.exportRssMb,
        },
      ),
      row(
        `${r.backend}: export job, \`POST /v1/exports/customers\` until done, all ${n} people ` +
          `(${fmt(exportJob.seconds, 1)} s; server RSS up to ${fmt(exportJob.serverRssMb)} MB; download of ` +
          `${fmt(exportJob.bytes / 1e6)} MB ${fmt(exportJob.downloadSeconds, 1)} s; load ${fmt(exportJob.load, 1)})`,
        `${fmt(exportRate(exportJob))} rows/s`,
        {
          target: `≥ ${fmt(PEOPLE_TARGETS.exportRowsPerS)} rows/s`,
          met: exportRate(exportJob) >= PEOPLE_TARGETS.exportRowsPerS,
        },
      ),
    );
  }
  return rows;
}
