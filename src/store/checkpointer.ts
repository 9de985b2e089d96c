import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

// Runs in a worker thread with its own connection: a PASSIVE checkpoint never blocks the writer, and its fsync no
// longer stalls the event loop that answers requests. Under steady writes a PASSIVE checkpoint never catches up with
// the end of the WAL, so the WAL never starts over and grows without bound, and every page read then searches one
// more WAL index block per 4,096 frames (at 1 GB of WAL, reads of the people index were ten times slower). Past
// restartFrames the worker finishes with a RESTART checkpoint: it waits its turn, copies the few frames the PASSIVE
// one left (writers wait that long), and the writer's next transaction writes the WAL from its start again,
// overwriting the file in place. (TRUNCATE cut the file to zero bytes instead: it held writers off about twice as
// long in all, and every commit after it appended to a file that had to grow again, which cost the writer ~25% more
// per commit. The writer's journal_size_limit, database.ts, bounds what a burst leaves behind.)
const workerSource = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file);
db.pragma('busy_timeout = 1000');
const tick = () => {
  try {
    const [r] = db.pragma('wal_checkpoint(PASSIVE)');
    if (r && r.log > workerData.restartFrames) db.pragma('wal_checkpoint(RESTART)');
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
