import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Store } from '../store/database.js';
import { jobsStore, type JobRecord } from '../store/jobs.js';
import type { Db } from '../store/types.js';

/** What a handler gets besides its job. */
export interface JobContext {
  /**
   * The process's write connection. Kysely runs one query or transaction at a time on it, so a handler's writes
   * interleave with the ingest writer's batches instead of conflicting with them; keep each write short.
   */
  writer: Db;
  reader: Db;
  /** Unix ms when the job was claimed. */
  now: number;
  /** Aborted when the runner is stopping or the lease was lost: stop at the next safe point and return. */
  signal: AbortSignal;
}

/** Runs one job. What it returns (a summary of the work) is logged. */
export type JobHandler = (job: JobRecord, ctx: JobContext) => Promise<object | void>;

export interface JobKindOptions {
  /** Attempts in all before the job fails (default 5). A lease taken over counts as an attempt. */
  maxAttempts?: number;
  /** First retry delay, doubling each attempt (default 30 s). */
  backoffMs?: number;
  /** Recurring: one job of this kind is kept queued (scheduled at start), run again this long after each run. */
  everyMs?: number;
}

/** The subset of a pino logger the runner writes to. */
export interface JobLog {
  info(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface JobRunnerOptions {
  /** How often the loop looks for due jobs (default 5 s). */
  pollMs?: number;
  /** How long a claim lasts before another process may take the job over (default 5 min); renewed while running. */
  leaseMs?: number;
  workerId?: string;
  log?: JobLog;
  clock?: () => number;
}

const silent: JobLog = { info: () => undefined, error: () => undefined };
/** Jobs run per call of runDueJobs at most, so a queue that keeps refilling cannot hold it forever. */
const maxJobsPerRun = 1000;

/** The dedupe key of a recurring kind's single queued job. */
export const recurringKey = (kind: string): string => `recurring:${kind}`;

/**
 * Claims and runs due jobs by kind, polling the shared queue. Any number of processes may run one: a claim takes a
 * job exactly once, and a job whose process died is taken over when its lease expires.
 */
export class JobRunner {
  readonly workerId: string;
  private readonly handlers = new Map<string, { handler: JobHandler; options: JobKindOptions }>();
  private readonly pollMs: number;
  private readonly leaseMs: number;
  private readonly log: JobLog;
  private readonly clock: () => number;
  private timer: NodeJS.Timeout | null = null;
  private chain: Promise<unknown> = Promise.resolve();
  private readonly stopping = new AbortController();

  constructor(
    private readonly store: Pick<Store, 'writer' | 'reader'>,
    options: JobRunnerOptions = {},
  ) {
    this.pollMs = options.pollMs ?? 5000;
    this.leaseMs = options.leaseMs ?? 300_000;
    this.log = options.log ?? silent;
    this.clock = options.clock ?? Date.now;
    this.workerId = options.workerId ?? `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  }

  /** Registers the handler of a kind; this runner claims only kinds it has handlers for. */
  register(kind: string, handler: JobHandler, options: JobKindOptions = {}): this {
    this.handlers.set(kind, { handler, options });
    return this;
  }

  /**
   * Queues each recurring kind unless it already is (by any process), then starts polling. A recurring job first runs
   * one interval after the first start, not at every start: starting stays light, and a restart keeps the schedule.
   */
  async start(): Promise<void> {
    const now = this.clock();
    for (const [kind, { options }] of this.handlers)
      if (options.everyMs !== undefined) {
        const first = { kind, dedupeKey: recurringKey(kind), runAt: now + options.everyMs };
        await jobsStore.enqueue(this.store.writer, first, now);
      }
    if (this.timer === null) this.schedule();
  }

  /** Stops polling and waits for the job in hand to finish (its handler is told through its signal). */
  async stop(): Promise<void> {
    this.stopping.abort();
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.chain;
  }

  /**
   * Claims and runs jobs until none is due; returns how many ran. Calls are serialised, so one made while the loop is
   * running waits for it, then looks again. `now` pretends it is that time (tests).
   */
  runDueJobs(opts: { now?: number } = {}): Promise<number> {
    const run = this.chain.then(() => this.drain(opts.now));
    this.chain = run.catch(() => undefined);
    return run;
  }

  private schedule(): void {
    if (this.stopping.signal.aborted) return;
    this.timer = setTimeout(() => {
      this.runDueJobs()
        .catch((err: unknown) => this.log.error({ err }, 'jobs: polling failed'))
        .finally(() => this.schedule());
    }, this.pollMs);
    // Polling alone never keeps a process alive.
    this.timer.unref();
  }

  private async drain(fixedNow: number | undefined): Promise<number> {
    const kinds = [...this.handlers.keys()];
    let ran = 0;
    while (ran < maxJobsPerRun && !this.stopping.signal.aborted) {
      const now = fixedNow ?? this.clock();
      const job = await jobsStore.claim(this.store.writer, this.workerId, { kinds, leaseMs: this.leaseMs, now });
      if (!job) break;
      await this.runOne(job, now);
      ran++;
    }
    return ran;
  }

  private async runOne(job: JobRecord, claimedAt: number): Promise<void> {
    const { handler, options } = this.handlers.get(job.kind)!;
    const writer = this.store.writer;
    // Times are relative to the claim's clock, so a pretended `now` (tests) moves the whole run.
    const offset = claimedAt - this.clock();
    const now = () => this.clock() + offset;
    const recurring = options.everyMs !== undefined && job.dedupeKey === recurringKey(job.kind);
    const policy = {
      maxAttempts: options.maxAttempts ?? 5,
      backoffMs: options.backoffMs ?? 30_000,
      rescheduleAt: undefined as number | undefined,
    };
    if (job.attempts > policy.maxAttempts) {
      // Claimed again after every earlier attempt lost its lease: its process keeps dying on it.
      if (recurring) policy.rescheduleAt = now() + options.everyMs!;
      const result = await jobsStore.fail(writer, job, this.workerId, 'lease expired on every attempt', policy, now());
      this.log.error({ job: job.pk, kind: job.kind, attempts: job.attempts, result }, 'jobs: abandoned too often');
      return;
    }

    const lost = new AbortController();
    const signal = AbortSignal.any([this.stopping.signal, lost.signal]);
    const renew = setInterval(() => {
      jobsStore
        .renewLease(writer, job, this.workerId, now() + this.leaseMs, now())
        .then((mine) => mine || lost.abort())
        .catch((err: unknown) => this.log.error({ err, job: job.pk }, 'jobs: lease renewal failed'));
    }, this.leaseMs / 3);
    renew.unref();
    const started = performance.now();
    try {
      const summary = await handler(job, { writer, reader: this.store.reader, now: claimedAt, signal });
      const next = recurring ? now() + options.everyMs! : undefined;
      const mine = await jobsStore.complete(writer, job, this.workerId, now(), next);
      const ms = Math.round(performance.now() - started);
      this.log.info({ job: job.pk, kind: job.kind, ms, lost: !mine, ...summary }, 'jobs: done');
    } catch (err) {
      if (recurring) policy.rescheduleAt = now() + options.everyMs!;
      const message = err instanceof Error ? (err.stack ?? err.message) : String(err);
      const result = await jobsStore.fail(writer, job, this.workerId, message, policy, now());
      this.log.error({ err, job: job.pk, kind: job.kind, attempts: job.attempts, result }, 'jobs: failed');
    } finally {
      clearInterval(renew);
    }
  }
}
