// The ingest writer's thread (writer-thread.ts): a Writer on a connection of its own to the store file. It applies
// the commands it is sent in order and answers each once its batch has committed.
import { parentPort, workerData } from 'node:worker_threads';
import { openSqliteWriter } from '../store/database.js';
import { Writer } from './writer.js';
import {
  encodeFailure,
  encodeOutcome,
  type FromWorker,
  type ToWorker,
  type WireAnswer,
  type WriterWorkerData,
} from './writer-thread.js';

const data = workerData as WriterWorkerData;
const port = parentPort!;
const db = openSqliteWriter(data.file, data.autoCheckpoint);
const batches: [number, number][] = [];
// Batches of at most 400 (the Writer's own SQLite default is 2,000): while this thread writes one, the callers of the
// one before have their answers and the main thread reads their next requests. A batch of everything queued would
// leave the main thread nothing to do until it committed (8 Segment clients of 100 messages: +25% with 400).
const writer = new Writer(db, { maxBatch: data.maxBatch ?? 400, onBatch: (size, ms) => batches.push([size, ms]) });

// Answers go back one message per batch: its commands are all answered (resolved) at once when it commits, so a
// microtask queued by the first runs after the last. Not per tick: the Writer runs the batches already queued back to
// back without returning to the event loop, and callers answered only at the end would leave this thread idle then.
let answers: WireAnswer[] = [];
const send = () => {
  if (answers.length === 0 && batches.length === 0) return;
  port.postMessage({ type: 'answers', answers, batches: batches.splice(0) } satisfies FromWorker);
  answers = [];
};
const answer = (a: WireAnswer) => {
  if (answers.push(a) === 1) queueMicrotask(send);
};

port.on('message', (m: ToWorker) => {
  if (m.type === 'commands')
    for (const [id, ctx, cmd] of m.commands)
      writer.submit(ctx, cmd).then(
        (o) => answer([id, encodeOutcome(o)]),
        (err: unknown) => answer([id, null, encodeFailure(err)]),
      );
  else
    void (async () => {
      await writer.close();
      await new Promise((r) => setImmediate(r)); // the last batch's answers, queued as it resolved
      send();
      await db.destroy();
      port.close();
    })();
});
port.postMessage({ type: 'ready' } satisfies FromWorker);
