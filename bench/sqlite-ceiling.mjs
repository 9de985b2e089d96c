// Ceiling B: raw better-sqlite3 upserts into a table shaped like Roster's `people`, with the same pragmas and
// the same ids and attributes as the batch load. It has no HTTP, validation, identity rules or activity rows,
// so it is the most the storage engine allows on this machine.
// Usage: node bench/sqlite-ceiling.mjs <db-file> <warmup-seconds> <seconds> <rows-per-transaction>
// Prints one JSON line: {"rows": …, "seconds": …, "rowsPerSecond": …}.
import Database from 'better-sqlite3';
import { attributesFor, createIdPool } from './workload.mjs';

const [file, warmupS, measureS, txRows] = process.argv.slice(2);

function open(path) {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  // The columns and indexes of Roster's people table (src/store/migrations.ts); the upsert below leaves the email
  // columns alone and cio_ids come in order, so only the row and the id index take random writes.
  db.exec(`
    CREATE TABLE people (
      pk INTEGER PRIMARY KEY AUTOINCREMENT, workspace_pk INTEGER NOT NULL, cio_id TEXT NOT NULL, id TEXT,
      email TEXT, email_norm TEXT, email_key TEXT, attributes TEXT NOT NULL, attribute_ts TEXT NOT NULL,
      unsubscribed INTEGER NOT NULL DEFAULT 0, created_at_s BIGINT NOT NULL, updated_at BIGINT NOT NULL);
    CREATE UNIQUE INDEX people_cio_id ON people (workspace_pk, cio_id);
    CREATE UNIQUE INDEX people_id ON people (workspace_pk, id);
    CREATE UNIQUE INDEX people_email_key ON people (workspace_pk, email_key);
    CREATE INDEX people_email_norm ON people (workspace_pk, email_norm);`);
  return db;
}

function prepareUpsert(db) {
  const upsert = db.prepare(`
    INSERT INTO people (workspace_pk, cio_id, id, email, email_norm, email_key, attributes, attribute_ts,
                        created_at_s, updated_at)
    VALUES (1, @cioId, @id, @email, @email, @email, @attributes, @attributeTs, @createdAt, @now)
    ON CONFLICT (workspace_pk, id) DO UPDATE SET
      attributes = excluded.attributes, attribute_ts = excluded.attribute_ts, updated_at = excluded.updated_at`);
  return db.transaction((rows) => {
    for (const row of rows) upsert.run(row);
  });
}

/** One transaction's rows, built the way a server would: attributes serialised per row. */
function makeRows(nextId, count, seq) {
  const now = Date.now();
  const rows = [];
  for (let i = 0; i < count; i++) {
    const id = nextId();
    const attrs = attributesFor(id);
    const ts = Object.fromEntries(Object.keys(attrs).map((k) => [k, now]));
    rows.push({
      // Unique per attempt; an update keeps the stored cio_id, as Roster does.
      cioId: `c${seq + i}`,
      id,
      email: attrs.email,
      attributes: JSON.stringify(attrs),
      attributeTs: JSON.stringify(ts),
      createdAt: Math.floor(now / 1000),
      now,
    });
  }
  return rows;
}

/** Upserts until the deadline; returns rows written and seconds spent. */
function runFor(seconds, upsertMany, nextId, state) {
  const started = performance.now();
  const deadline = started + seconds * 1000;
  let rows = 0;
  while (performance.now() < deadline) {
    upsertMany(makeRows(nextId, Number(txRows), state.seq));
    state.seq += Number(txRows);
    rows += Number(txRows);
  }
  return { rows, seconds: (performance.now() - started) / 1000 };
}

const db = open(file);
const upsertMany = prepareUpsert(db);
const nextId = createIdPool();
const state = { seq: 0 };
runFor(Number(warmupS), upsertMany, nextId, state);
const { rows, seconds } = runFor(Number(measureS), upsertMany, nextId, state);
db.close();
console.log(JSON.stringify({ rows, seconds, rowsPerSecond: rows / seconds }));
