// The people rows of the benchmark (BENCH_ONLY=people in bench/run.mjs): seed N people (bench/seed-people.mjs),
// time the dedupe scan over them, and measure `GET /v1/customers?email=` against a running server on that store.
// BENCH_PEOPLE_COUNT (default 1,000,000) and BENCH_PEOPLE_BACKENDS (default `sqlite,postgres`) change what runs.
import { seededEmail, seededDuplicateEmails, seedPeople } from './seed-people.mjs';

const dist = new URL('../dist/', import.meta.url);
const { openStore } = await import(new URL('store/database.js', dist).href);
const { findDuplicateGroups } = await import(new URL('queries/duplicates.js', dist).href);
const { planDedupe } = await import(new URL('domain/dedupe.js', dist).href);

export const PEOPLE_TARGETS = { scanSeconds: 10, lookupP99Ms: 5 };
// One connection shows the lookup's own latency; eight, the latency under concurrent load.
const LOOKUP_CONNECTIONS = [1, 8];

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
      lookups.push(await h.load({ ...options, seconds: h.measureSeconds }));
    }
    return { backend, count, seed, byEmail, byAttribute, lookups };
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
        row(`${r.backend}: \`GET /v1/customers?email=\` (random seeded email)`, `${fmt(lookup.requestsPerS)} req/s`, {
          ...lookup,
          target: `p99 ≤ ${PEOPLE_TARGETS.lookupP99Ms} ms`,
          met: lookup.p99Ms <= PEOPLE_TARGETS.lookupP99Ms,
        }),
      ),
    );
  }
  return rows;
}
