// What the in-process harnesses (segment-inproc.mjs, pg-inproc.mjs) share: the load loop, the per-statement wall
// times they record when BENCH_SQL_TIMES=1, and the table those are printed as.
import { startCpuWatch } from './cpu.mjs';

/** Wall time per kind of statement (its text, whitespace folded): calls and nanoseconds. */
export const statementTimes = new Map();

/** Adds one statement's wall time, from `started` (process.hrtime.bigint()) to now. */
export function recordStatement(text, started) {
  const key = text.replace(/\s+/g, ' ').slice(0, 100);
  const entry = statementTimes.get(key) ?? { calls: 0, ns: 0 };
  entry.calls++;
  entry.ns += Number(process.hrtime.bigint() - started);
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

/** Prints the recorded statement times per item (`unit`: "msg", "op"), the costliest 20 first. */
export function printStatementTimes(items, unit) {
  if (statementTimes.size === 0) return;
  const rows = [...statementTimes].sort((a, b) => b[1].ns - a[1].ns);
  const total = rows.reduce((s, [, e]) => s + e.ns, 0);
  console.log(`Statements: ${(total / items / 1000).toFixed(2)} µs per ${unit} (wall), by statement:`);
  for (const [text, e] of rows.slice(0, 20))
    console.log(
      `${(e.ns / items / 1000).toFixed(2).padStart(7)} µs/${unit} ${String(e.calls).padStart(8)} calls ` +
        `${(e.ns / e.calls / 1000).toFixed(1).padStart(8)} µs/call  ${text}`,
    );
}
