import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

// Runs in a worker thread with its own connection: a PASSIVE checkpoint never blocks the writer, and its fsync no
// longer stalls the event loop that answers requests. Under steady writes a PASSIVE checkpoint never catches up with
// the end of the WAL, so the WAL never starts over and grows without bound, and every page read then searches one
// more WAL index block per 4,096 frames (at 1 GB of WAL, reads of the people index were ten times slower). Past
// restartFrames the worker finishes with a RESTART checkpoint: it takes the write lock between two of the writer's
// transactions, copies the frames the PASSIVE ones left (the writer waits that long), and the writer's next
// transaction writes the WAL from its start again, overwriting the file in place.
// Two things keep the writer's wait short: more PASSIVE passes first, so the RESTART has a few frames left to copy
// rather than the ~100 ms of writes the first pass took; and the worker tries for the lock itself every millisecond,
// because SQLite's busy handler sleeps 1, 2, 5, 10… ms between tries and took up to a second to hit a gap. Measured on
// the Segment mix in process: `begin immediate` 2.6 → 0.8 µs per message, its longest wait 105–183 → 19–54 ms,
// +4% messages/s. (TRUNCATE cut the file to zero bytes instead: it held writers off about twice as long in all, and
// every commit after it appended to a file that had to grow again, which cost the writer ~25% more per commit. The
// writer's journal_size_limit, database.ts, bounds what a burst leaves behind.)
const workerSource = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file);
// Never wait inside SQLite (see above): the RESTART loop tries again itself every millisecond.
db.pragma('busy_timeout = 0');
const pause = new Int32Array(new SharedArrayBuffer(4));
const tick = () => {
  try {
    let [r] = db.pragma('wal_checkpoint(PASSIVE)');
    if (!r || r.log <= workerData.restartFrames) return;
    // Catch up first, while the writer goes on: each pass copies what was written during the one before, so the
    // RESTART, which holds the writer off while it copies, is left only a few frames.
    for (let pass = 0, before = r.log; pass < 4; pass++, before = r.log) {
      [r] = db.pragma('wal_checkpoint(PASSIVE)');
      if (r.log - before < 256) break;
    }
    const deadline = Date.now() + workerData.everyMs;
    for (;;) {
      [r] = db.pragma('wal_checkpoint(RESTART)');
      if (r.busy === 0 || Date.now() >= deadline) return;
      Atomics.wait(pause, 0, 0, 1);
    }
  } catch {}
};
const timer = setInterval(tick, workerData.everyMs);
parentPort.on('message', () => { clearInterval(timer); tick(); db.close(); parentPort.close(); });
`;

/** Checkpoints the WAL of `file` from a worker thread every `everyMs`; resolves `stop()` once it has closed. */
export function startCheckpointer(file: string, everyMs = 1000, restartFrames = 4096): { stop(): Promise<void> } {
  const driver = createRequire(import.meta.url).resolve('better-sqlite3');
  const worker = new Worker(workerSource, { eval: true, workerData: { file, driver, everyMs, restartFrames } });
  worker.unref();
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  return {
    stop() {
      worker.postMessage('stop');
      return exited;
    },
  };
}
