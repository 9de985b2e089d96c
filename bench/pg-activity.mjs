// What a set of PostgreSQL backends wait for: pg_stat_activity sampled every 100 ms, for the backends whose
// application_name is given (the bench puts it in the URL it hands out). Each sample counts the backends in a
// transaction by their wait event; the result is the average number per category, plus the CPU they used.
import pg from 'pg';
import { startCpuWatch } from './cpu.mjs';

const INTERVAL_MS = 100;

/**
 * What a backend in a transaction is waiting for, from its wait event: a lock, I/O (WAL sync, data files), a
 * lightweight lock, something else (IPC, a timeout), or nothing but its client or its own CPU (`busy`). The last
 * two are not told apart: a backend running one short statement after another flips between them every few tens
 * of microseconds, faster than state and wait event can be read together. The CPU figure (from /proc) does that.
 */
function categoryOf({ state, wait_event_type: type }) {
  if (type === 'Lock') return 'lock';
  if (type === 'IO') return 'io';
  if (type === 'LWLock') return 'lwlock';
  if (state === 'active' && type !== null && type !== 'Client') return 'other';
  return 'busy';
}

/**
 * Starts sampling on a connection of its own (`url` must reach the same database); the function it returns stops,
 * and resolves with the average backends per category over the samples, or null if sampling failed. `cores` is
 * the CPU the backends open at the start used (from /proc, when PostgreSQL runs on this machine).
 */
export async function startPgActivity(url, applicationName) {
  const client = new pg.Client({ connectionString: url, statement_timeout: 5_000, query_timeout: 7_000 });
  try {
    await client.connect();
  } catch {
    return async () => null;
  }
  let cpuDone;
  try {
    const { rows } = await client.query('select pid from pg_stat_activity where application_name = $1', [
      applicationName,
    ]);
    cpuDone = startCpuWatch({ pids: rows.map((r) => r.pid) });
  } catch {
    await client.end().catch(() => {});
    return async () => null;
  }
  const totals = { lock: 0, io: 0, lwlock: 0, other: 0, busy: 0 };
  // Lock waits by what is waited for: advisory (Roster's identifier buckets), transactionid and tuple (rows).
  const locks = {};
  let samples = 0;
  let failed = false;
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      try {
        const { rows } = await client.query(
          `select state, wait_event_type, wait_event from pg_stat_activity
           where application_name = $1 and (state = 'active' or state like 'idle in transaction%')`,
          [applicationName],
        );
        for (const row of rows) {
          const category = categoryOf(row);
          totals[category]++;
          if (category === 'lock') locks[row.wait_event] = (locks[row.wait_event] ?? 0) + 1;
        }
        samples++;
      } catch {
        failed = true;
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, INTERVAL_MS));
    }
  })();
  return async () => {
    stopped = true;
    const { processes: cores } = cpuDone();
    await loop;
    await client.end().catch(() => {});
    if (failed || samples === 0) return null;
    const perSample = (counts) => Object.fromEntries(Object.entries(counts).map(([k, n]) => [k, n / samples]));
    return { ...perSample(totals), locks: perSample(locks), cores };
  };
}

/**
 * E.g. `2.00 in a transaction: lock wait 0.80 · I/O 0.10 · running or waiting for Roster 1.10` (the categories that
 * were seen at all).
 */
export function describeActivity(activity, clientName = 'client') {
  if (!activity) return '';
  const labels = {
    lock: 'lock wait',
    io: 'I/O',
    lwlock: 'LWLock',
    other: 'other wait',
    busy: `running or waiting for ${clientName}`,
  };
  const total = Object.keys(labels).reduce((sum, k) => sum + activity[k], 0);
  const lockKinds = Object.entries(activity.locks ?? {})
    .filter(([, n]) => n >= 0.005)
    .sort((a, b) => b[1] - a[1])
    .map(([event, n]) => `${event} ${n.toFixed(2)}`);
  const parts = Object.entries(labels)
    .filter(([k]) => activity[k] >= 0.005)
    .map(([k, label]) =>
      k === 'lock' && lockKinds.length > 0
        ? `${label} ${activity[k].toFixed(2)} (${lockKinds.join(', ')})`
        : `${label} ${activity[k].toFixed(2)}`,
    );
  return `${total.toFixed(2)} in a transaction: ${parts.join(' · ')}`;
}
