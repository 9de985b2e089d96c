// What the in-process harnesses (segment-inproc.mjs, pg-inproc.mjs) share: the load loop, the per-statement wall
// times they record when BENCH_SQL_TIMES=1, and the table those are printed as.
import { startCpuWatch } from './cpu.mjs';

/** Wall time per kind of statement (its text, whitespace folded): calls and nanoseconds. */
export const statementTimes = new Map();

/** Adds one statement's wall time, from `started` (process.hrtime.bigint()) to now. */
export function recordStatement(text, started) {
  const key = text.replace(/\s+/g, ' ').slice(0, 100);
  const entry = statementTimes.get(key) ?? { calls: 0, ns: 0, maxNs: 0, slowNs: 0 };
  const ns = Number(process.hrtime.bigint() - started);
  entry.calls++;
  entry.ns += ns;
  entry.maxNs = Math.max(entry.maxNs, ns);
  // Calls over 10 ms: on SQLite a `begin immediate` that long waited for the checkpointer's write lock.
  if (ns > 10e6) entry.slowNs += ns;
  statementTimes.set(key, entry);
}

/**
 * `connections` loops each calling `request` (one request's worth of `perRequest` items) until `seconds` are over.
 * Answers the items done, the wall seconds, and the cores this process (`self`) and, with `postgres`, PostgreSQL used.
 */
export async function runLoad({ connections, seconds, request, perRequest, postgres = false }) {
  const end = Date.now() + seconds * 1000;
  let requests = 0;
  const connection = async () => {
    while (Date.now() < end) {
      await request();
      requests++;
    }
  };
  const started = performance.now();
  const cpu = startCpuWatch({ postgres });
  await Promise.all(Array.from({ length: connections }, connection));
  const wall = (performance.now() - started) / 1000;
  return { items: requests * perRequest, wall, cpu: cpu() };
}

/**
 * Prints the recorded statement times per item (`unit`: "msg", "op"), the costliest 20 first, each with its slowest
 * call and the part of its time spent in calls over 10 ms.
 */
export function printStatementTimes(items, unit) {
  if (statementTimes.size === 0) return;
  const rows = [...statementTimes].sort((a, b) => b[1].ns - a[1].ns);
  const total = rows.reduce((s, [, e]) => s + e.ns, 0);
  console.log(`Statements: ${(total / items / 1000).toFixed(2)} µs per ${unit} (wall), by statement:`);
  for (const [text, e] of rows.slice(0, 20))
    console.log(
      `${(e.ns / items / 1000).toFixed(2).padStart(7)} µs/${unit} ${String(e.calls).padStart(8)} calls ` +
        `${(e.ns / e.calls / 1000).toFixed(1).padStart(8)} µs/call ` +
        `${(e.maxNs / 1e6).toFixed(1).padStart(6)} ms max ${(e.slowNs / items / 1000).toFixed(2).padStart(6)} µs/${unit} in calls >10 ms  ${text}`,
    );
}
