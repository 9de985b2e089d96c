// The writer's batches on PostgreSQL as a timeline (`BENCH_TIMELINE=1 node bench/pg-inproc.mjs`): pg's Client.query
// is wrapped to note, per connection, when each statement was sent and answered; each begin … commit on one
// connection is a batch. Printed: the average of each step of a batch and of the gaps between them, and the gap from
// the batch before's row read (which lets the next batch begin: writer.ts) to this batch's begin. The steps from
// that read to the next batch's read repeat once per batch in a row, so their sum bounds ops/s whatever the writers.

const steps = [
  ['begin', (t) => t.startsWith('begin')],
  ['commit', (t) => t.startsWith('commit')],
  ['lock', (t) => t.includes('pg_advisory_xact_lock')],
  ['read', (t) => t.includes('held as materialized')],
  ['write', (t) => t.startsWith('with w0')],
];

/** Wraps `pg.Client.prototype.query`; answers `start()` (forget what was noted so far) and `print()`. */
export function traceWriterStatements(pg) {
  const t0 = process.hrtime.bigint();
  const now = () => Number(process.hrtime.bigint() - t0) / 1e6;
  const byConnection = new Map();
  const original = pg.Client.prototype.query;
  pg.Client.prototype.query = function traced(config, ...rest) {
    const text = typeof config === 'string' ? config : config?.text;
    const sent = now();
    const result = original.call(this, config, ...rest);
    const step = text && steps.find(([, matches]) => matches(text))?.[0];
    if (!step || typeof result?.then !== 'function') return result;
    const entry = { step, sent, answered: NaN };
    let list = byConnection.get(this);
    if (!list) byConnection.set(this, (list = []));
    list.push(entry);
    const answered = () => (entry.answered = now());
    result.then(answered, answered);
    return result;
  };
  return {
    start: () => byConnection.clear(),
    print: () => printTimeline(batchesOf(byConnection)),
  };
}

/** Each connection's begin … commit with a lock, a read and a write in between, in the order begun. */
function batchesOf(byConnection) {
  const batches = [];
  for (const [connection, entries] of byConnection) {
    let batch = null;
    for (const e of entries) {
      if (Number.isNaN(e.answered)) continue;
      if (e.step === 'begin') batch = { connection, begin: e };
      else if (batch) {
        batch[e.step] = e;
        if (e.step === 'commit') {
          if (batch.lock && batch.read && batch.write) batches.push(batch);
          batch = null;
        }
      }
    }
  }
  return batches.sort((a, b) => a.begin.sent - b.begin.sent);
}

function printTimeline(batches) {
  if (batches.length < 2) return console.log('Timeline: fewer than two batches noted');
  const later = batches.slice(1);
  const mean = (f) => (later.reduce((s, b, i) => s + f(b, batches[i]), 0) / later.length).toFixed(2).padStart(6);
  const previousOnConnection = new Map();
  let idleSum = 0;
  let idleCount = 0;
  for (const b of batches) {
    const before = previousOnConnection.get(b.connection);
    if (before) {
      idleSum += b.begin.sent - before.commit.answered;
      idleCount++;
    }
    previousOnConnection.set(b.connection, b);
  }
  const lines = [
    ['batch begun after the one before', (b, p) => b.begin.sent - p.begin.sent],
    ['the one before read its people → begin sent', (b, p) => b.begin.sent - p.read.answered],
    ['begin', (b) => b.begin.answered - b.begin.sent],
    ['→ lock sent', (b) => b.lock.sent - b.begin.answered],
    ['lock (identifier locks, person keys)', (b) => b.lock.answered - b.lock.sent],
    ['→ read sent', (b) => b.read.sent - b.lock.answered],
    ['read (people, for update)', (b) => b.read.answered - b.read.sent],
    ['→ write sent (the batch applied in memory)', (b) => b.write.sent - b.read.answered],
    ['write', (b) => b.write.answered - b.write.sent],
    ['→ commit sent (waits for the batch before)', (b) => b.commit.sent - b.write.answered],
    ['commit', (b) => b.commit.answered - b.commit.sent],
  ];
  console.log(
    `Timeline: ${batches.length} batches on ${new Set(batches.map((b) => b.connection)).size} connections, ms each:`,
  );
  for (const [label, f] of lines) console.log(`  ${mean(f)}  ${label}`);
  console.log(`  ${(idleSum / Math.max(idleCount, 1)).toFixed(2).padStart(6)}  a connection's commit → its next begin`);
}
