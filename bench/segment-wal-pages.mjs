// Which b-trees the Segment mix of `npm run bench` dirties, per message: applies the mix in process (as
// segment-inproc.mjs does) to grow the store, checkpoints, then holds a read transaction open so the WAL cannot start
// over, applies a measured window of messages, and maps each WAL frame's page to its table or index (dbstat).
// Each frame is one 4 KB page written at commit and copied again by the checkpointer, so frames per message are what
// the commit and the checkpoint cost. Run after `npm run build` (it imports dist/).
// Usage: node bench/segment-wal-pages.mjs [messages before, default 200000] [messages measured, default 80000]
import BetterSqlite3 from 'better-sqlite3';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchWorkspace, segmentRequest } from './inproc.mjs';

const ROOT = new URL('..', import.meta.url).pathname;
const BEFORE = Number(process.argv[2] ?? 200_000);
const MEASURED = Number(process.argv[3] ?? 80_000);

const { openSqliteStore } = await import(join(ROOT, 'dist/store/database.js'));

const dir = mkdtempSync(join(tmpdir(), 'roster-wal-pages-'));
const store = await openSqliteStore(dir);
const { ws, writer } = await benchWorkspace(store);
const request = await segmentRequest(ws, writer);

/** `count` messages, 8 requests of 100 at a time (the bench's 8 connections). */
async function apply(count) {
  for (let done = 0; done < count; done += 800) await Promise.all(Array.from({ length: 8 }, request));
}

const db = new BetterSqlite3(join(dir, 'roster.sqlite'));
try {
  await apply(BEFORE);
  db.pragma('wal_checkpoint(TRUNCATE)');
  // A reader on the first snapshot keeps every later frame in the WAL (the writer's checkpoints stop short of it).
  db.prepare('begin').run();
  db.prepare('select count(*) from workspaces').get();
  await apply(MEASURED);
  const wal = readFileSync(join(dir, 'roster.sqlite-wal'));
  const pageSize = wal.readUInt32BE(8);
  const pages = [];
  let commits = 0;
  for (let at = 32; at + 24 + pageSize <= wal.length; at += 24 + pageSize) {
    pages.push(wal.readUInt32BE(at));
    if (wal.readUInt32BE(at + 4) > 0) commits++;
  }
  db.prepare('commit').run();
  const owner = new Map(db.prepare('select pageno, name from dbstat').raw(true).all());
  const byOwner = new Map();
  for (const page of pages) byOwner.set(owner.get(page) ?? '?', (byOwner.get(owner.get(page) ?? '?') ?? 0) + 1);
  const sizes = db
    .prepare('select (select count(*) from people) as people, (select count(*) from events) as events')
    .get();
  console.log(
    `${pages.length} frames for ${MEASURED} messages: ${(pages.length / MEASURED).toFixed(3)} per message, ` +
      `${commits} commits (${Math.round(pages.length / commits)} frames each); store at the end: ` +
      `${sizes.people} people, ${sizes.events} events`,
  );
  for (const [name, n] of [...byOwner].sort((a, b) => b[1] - a[1]))
    console.log(`${(n / MEASURED).toFixed(3).padStart(7)} per message  ${name}`);
} finally {
  db.close();
  await writer.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
}
