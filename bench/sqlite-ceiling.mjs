// Ceiling B: raw better-sqlite3 upserts into Roster's own `people` table (made by Roster's migrations from dist/, so it
// has every column and index Roster's has, and cannot drift from it), in WAL mode with synchronous = NORMAL as
// Roster's writer, with the same ids and attributes as the batch load. It has no HTTP, validation, identity rules or
// activity rows, so it is the most the storage engine allows on this machine.
// Usage: node bench/sqlite-ceiling.mjs <db-file> <warmup-seconds> <seconds> <rows-per-transaction>
// Prints one JSON line: {"rows": …, "seconds": …, "rowsPerSecond": …}.
import Database from 'better-sqlite3';
import { attributesFor, createIdPool } from './workload.mjs';

const [file, warmupS, measureS, txRows] = process.argv.slice(2);

/** A store file with Roster's schema, made by Roster's own code (dist/, built by `npm run bench`). */
async function open(path) {
  const { openSqliteFile } = await import(new URL('../dist/store/database.js', import.meta.url).href);
  await (await openSqliteFile(path)).close();
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  return db;
}

function prepareUpsert(db) {
  const upsert = db.prepare(`
    INSERT INTO people (workspace_pk, cio_id, id, email, email_norm, email_key, attributes, attribute_ts,
                        created_at_s, updated_at)
    VALUES (1, @cioId, @id, @email, @email, @email, @attributes, @attributeTs, @createdAt, @now)
    ON CONFLICT (workspace_pk, id) WHERE id IS NOT NULL DO UPDATE SET
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

const db = await open(file);
const upsertMany = prepareUpsert(db);
const nextId = createIdPool();
const state = { seq: 0 };
runFor(Number(warmupS), upsertMany, nextId, state);
const { rows, seconds } = runFor(Number(measureS), upsertMany, nextId, state);
db.close();
console.log(JSON.stringify({ rows, seconds, rowsPerSecond: rows / seconds }));
