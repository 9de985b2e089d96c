import { existsSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { RosterError, type ErrorCode } from '../domain/errors.js';
import type { CallContext, Command, Outcome } from './commands.js';
import type { CommandWriter, WriterOptions } from './writer.js';

// The worker as compiled: dist/ingest/writer-worker.js, the same path from src/ingest (tests) and dist/ingest.
const workerFile = new URL('../../dist/ingest/writer-worker.js', import.meta.url);

/** What the writer thread is started with. */
export interface WriterWorkerData {
  file: string;
  /** False when the store's checkpointer thread checkpoints (a server). */
  autoCheckpoint: boolean;
  maxBatch?: number;
}

/** An outcome as it crosses threads: a RosterError as its parts (structured clone keeps no class). */
export type WireOutcome =
  | Exclude<Outcome, { status: 'error' }>
  | { status: 'error'; error: { code: ErrorCode; message: string; field?: string } };

/** A command's answer: its outcome, or why its submit failed (an unexpected error, as the Writer rejects it). */
export type WireAnswer = [id: number, outcome: WireOutcome] | [id: number, outcome: null, failure: WireFailure];
export interface WireFailure {
  message: string;
  code?: ErrorCode;
  field?: string;
}

export type ToWorker =
  { type: 'commands'; commands: [id: number, ctx: CallContext, cmd: Command][] } | { type: 'close' };
export type FromWorker =
  { type: 'ready' } | { type: 'answers'; answers: WireAnswer[]; batches: [size: number, ms: number][] };

export const encodeOutcome = (o: Outcome): WireOutcome =>
  o.status === 'error'
    ? { status: 'error', error: { code: o.error.code, message: o.error.message, field: o.error.field } }
    : o;

const decodeOutcome = (o: WireOutcome): Outcome =>
  o.status === 'error' ? { status: 'error', error: new RosterError(o.error.code, o.error.message, o.error.field) } : o;

export const encodeFailure = (err: unknown): WireFailure =>
  err instanceof RosterError
    ? { message: err.message, code: err.code, field: err.field }
    : { message: err instanceof Error ? err.message : String(err) };

const decodeFailure = (f: WireFailure): Error =>
  f.code === undefined ? new Error(f.message) : new RosterError(f.code, f.message, f.field);

/**
 * ROSTER_WRITER_THREAD: whether a SQLite server applies its writes in a thread of its own. Default: on when there is
 * a second core to run it; `0` turns it off, `1` on.
 */
export function writerThreadWanted(env: NodeJS.ProcessEnv, cores: number): boolean {
  const raw = env.ROSTER_WRITER_THREAD;
  if (raw === '0') return false;
  if (raw === '1') return true;
  if (raw === undefined || raw === '') return cores > 1;
  throw new Error(`ROSTER_WRITER_THREAD must be 0 or 1, not ${raw}.`);
}

/** Whether the compiled worker is there (a checkout that was never built runs the Writer in process). */
export const writerThreadAvailable = (): boolean => existsSync(workerFile);

interface Waiting {
  resolve: (o: Outcome) => void;
  reject: (e: unknown) => void;
}

/**
 * The SQLite writer in a worker thread: the main thread parses, validates and maps requests while the worker
 * resolves people and writes the batch before (better-sqlite3 runs SQL in the calling thread, so in process the two
 * took turns on one core). The worker runs the same Writer, on a connection of its own to the same file, so order,
 * group commit and each caller's answer after its commit are as in process. A worker that dies answers its callers
 * 503 (`unavailable`: their commands may or may not have committed, and a retry is safe where they carry an id) and
 * is started again.
 */
export class ThreadedWriter implements CommandWriter {
  private worker!: Worker;
  private readonly waiting = new Map<number, Waiting>();
  private outbox: [number, CallContext, Command][] = [];
  private nextId = 0;
  private closing: Promise<void> | null = null;
  /** Set when a worker could not be started again after one died: every command is then answered 503. */
  private broken = false;

  private constructor(
    private readonly data: WriterWorkerData,
    private readonly options: Pick<WriterOptions, 'onBatch'> & { onCrash?: (err: unknown) => void },
  ) {}

  /** Starts the thread; resolves once its connection is open. */
  static async start(
    data: WriterWorkerData,
    options: Pick<WriterOptions, 'onBatch'> & { onCrash?: (err: unknown) => void } = {},
  ): Promise<ThreadedWriter> {
    const writer = new ThreadedWriter(data, options);
    await writer.spawn();
    return writer;
  }

  submit(ctx: CallContext, cmd: Command): Promise<Outcome> {
    if (this.closing || this.broken) return Promise.resolve({ status: 'error', error: new RosterError('unavailable') });
    return new Promise<Outcome>((resolve, reject) => {
      const id = this.nextId++;
      this.waiting.set(id, { resolve, reject });
      // One message per tick: a Segment batch's hundred commands cross together.
      if (this.outbox.push([id, ctx, cmd]) === 1) setImmediate(() => this.send());
    });
  }

  close(): Promise<void> {
    this.closing ??= this.broken
      ? Promise.resolve()
      : new Promise<void>((done) => {
          this.send();
          this.worker.once('exit', () => done());
          this.worker.postMessage({ type: 'close' } satisfies ToWorker);
        });
    return this.closing;
  }

  /** The live worker, for tests that make it fail. */
  get thread(): Worker {
    return this.worker;
  }

  private send(): void {
    if (this.outbox.length === 0) return;
    const commands = this.outbox;
    this.outbox = [];
    this.worker.postMessage({ type: 'commands', commands } satisfies ToWorker);
  }

  private spawn(): Promise<void> {
    const worker = new Worker(workerFile, { workerData: this.data });
    this.worker = worker;
    return new Promise<void>((ready, failed) => {
      let started = false;
      worker.on('message', (m: FromWorker) => {
        if (m.type === 'ready') {
          started = true;
          ready();
        } else if (m.type === 'answers') this.answer(m);
      });
      worker.once('error', (err) => (started ? this.crashed(worker, err) : failed(err)));
      worker.once('exit', (code) => {
        if (!started) failed(new Error(`the writer thread exited with ${code} before it was ready`));
        else if (!this.closing) this.crashed(worker, new Error(`the writer thread exited with ${code}`));
      });
    });
  }

  private answer(m: Extract<FromWorker, { type: 'answers' }>): void {
    for (const a of m.answers) {
      const w = this.waiting.get(a[0]);
      if (w === undefined) continue;
      this.waiting.delete(a[0]);
      if (a[1] !== null) w.resolve(decodeOutcome(a[1]));
      else w.reject(decodeFailure(a[2]));
    }
    for (const [size, ms] of m.batches) this.options.onBatch?.(size, ms);
  }

  private answerAllUnavailable(message?: string): void {
    for (const w of this.waiting.values())
      w.resolve({ status: 'error', error: new RosterError('unavailable', message) });
    this.waiting.clear();
    this.outbox = [];
  }

  /** Answers everyone still waiting on the dead worker 503 and starts another (once: a second error is the same death). */
  private crashed(worker: Worker, err: unknown): void {
    if (worker !== this.worker) return;
    this.options.onCrash?.(err);
    this.answerAllUnavailable('The writer restarted; retry shortly.');
    void worker.terminate();
    this.spawn().catch((e: unknown) => {
      this.broken = true;
      this.answerAllUnavailable();
      this.options.onCrash?.(e);
    });
  }
}
