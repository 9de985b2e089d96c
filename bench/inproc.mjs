// What the in-process harnesses (segment-inproc.mjs, segment-wal-pages.mjs, pg-inproc.mjs) share: the workspace and
// Writer they load, the Segment request, the load loop, the per-statement wall times they record when
// BENCH_SQL_TIMES=1, and the table those are printed as. Roster's modules come from dist/ and are imported only when
// asked for, after a harness has wrapped better-sqlite3's statements.
import { join } from 'node:path';
import { startCpuWatch } from './cpu.mjs';
import { createIdPool, createMessageIds, segmentBatchMessages } from './workload.mjs';

const ROOT = new URL('..', import.meta.url).pathname;

/** A new workspace (email_or_id) in the open store, and a Writer on its write connection. */
export async function benchWorkspace(store) {
  const { workspacesStore } = await import(join(ROOT, 'dist/store/workspaces.js'));
  const { Writer } = await import(join(ROOT, 'dist/ingest/writer.js'));
  await workspacesStore.create(store.writer, Buffer.alloc(32), {
    name: 'bench',
    identifiers: 'email_or_id',
    allowEmailUpdateById: false,
  });
  const [ws] = await workspacesStore.list(store.writer);
  return { ws, writer: new Writer(store.writer) };
}

/**
 * One `/v1/batch` request of the bench's Segment mix (the bodies bench/run.mjs sends, 100 messages each), applied as
 * the route does: the body parsed, each message mapped and submitted; resolves once all have committed.
 */
export async function segmentRequest(ws, writer) {
  const { mapSegmentMessage } = await import(join(ROOT, 'dist/ingest/segment/mapping.js'));
  const settings = { identifiers: ws.settings.identifiers, convertTimestamps: ws.segmentConvertTimestamps };
  const nextId = createIdPool();
  const messageId = createMessageIds();
  return async () => {
    const body = JSON.stringify({ batch: segmentBatchMessages(nextId, 100, messageId) });
    const messages = JSON.parse(body).batch;
    const receivedAt = Date.now();
    await Promise.all(
      messages.map((m) => {
        const mapped = mapSegmentMessage(m, settings);
        return writer.submit(
          { ws, surface: 'segment', messageId: mapped.messageId ?? undefined, receivedAt },
          { kind: 'segment_message', ...mapped },
        );
      }),
    );
  };
}

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
 * Prints, where /proc tells, how long the run's processes were runnable but waiting for a CPU (cores' worth, as the
 * CPU figures): this process and its main thread, and PostgreSQL's processes. Waits here mean a step of a batch sat
 * ready while others held both cores, however idle the machine was on average.
 */
export function printQueued(cpu) {
  const q = cpu.queued;
  if (q === undefined) return;
  const parts = [`this process ${q.self.toFixed(2)} (its main thread ${q.selfMain.toFixed(2)})`];
  if (q.postgres !== undefined) parts.push(`PostgreSQL ${q.postgres.toFixed(2)}`);
  console.log(`Waiting for a core: ${parts.join(' · ')}`);
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
