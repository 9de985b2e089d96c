import type { Selectable } from 'kysely';
import type { JobsTable } from './schema.js';
import { onPostgres, type Db } from './types.js';

export type JobStatus = JobsTable['status'];

/** One job of the queue, as a handler sees it. */
export interface JobRecord {
  pk: number;
  kind: string;
  /** Unix ms when it is (or was) due. */
  runAt: number;
  payload: unknown;
  status: JobStatus;
  /** Claims so far, this one included: a lease taken over counts as an attempt. */
  attempts: number;
  claimedBy: string | null;
  leaseUntil: number | null;
  lastError: string | null;
  dedupeKey: string | null;
  createdAt: number;
  updatedAt: number;
}

/** A job to queue. */
export interface NewJob {
  kind: string;
  payload?: unknown;
  /** Unix ms; now when left out. */
  runAt?: number;
  /** While a job with this key exists, enqueueing another with it does nothing. */
  dedupeKey?: string;
}

/** How a failed job is retried. */
export interface RetryPolicy {
  /** Attempts in all, the first included; after the last the job is failed. */
  maxAttempts: number;
  /** Delay before the first retry; it doubles with each further attempt, up to an hour. */
  backoffMs: number;
  /** Recurring jobs: when the last attempt failed, queue the job afresh at this time instead of failing it. */
  rescheduleAt?: number;
}

export type FailResult = 'retrying' | 'rescheduled' | 'failed' | 'lost';

const maxBackoffMs = 3_600_000;
const maxErrorChars = 2000;

function toJob(row: Selectable<JobsTable>): JobRecord {
  return {
    pk: row.pk,
    kind: row.kind,
    runAt: Number(row.run_at),
    payload: JSON.parse(row.payload) as unknown,
    status: row.status,
    attempts: row.attempts,
    claimedBy: row.claimed_by,
    leaseUntil: row.lease_until === null ? null : Number(row.lease_until),
    lastError: row.last_error,
    dedupeKey: row.dedupe_key,
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}

/**
 * The job queue, shared by every process on the database. Each operation is one statement, so it is atomic on its
 * own and never holds the SQLite write lock across an await. Completing or failing is guarded by the claim
 * (`claimed_by`, `attempts`), so a worker whose lease was taken over cannot overwrite its successor's result.
 */
export const jobsStore = {
  /** Queues a job; returns its pk, or null when a job with the same dedupe key already exists. */
  async enqueue(db: Db, job: NewJob, now = Date.now()): Promise<number | null> {
    const row = await db
      .insertInto('jobs')
      .values({
        kind: job.kind,
        run_at: job.runAt ?? now,
        payload: JSON.stringify(job.payload ?? {}),
        status: 'queued',
        attempts: 0,
        claimed_by: null,
        lease_until: null,
        last_error: null,
        dedupe_key: job.dedupeKey ?? null,
        created_at: now,
        updated_at: now,
      })
      .onConflict((oc) => oc.column('dedupe_key').doNothing())
      .returning('pk')
      .executeTakeFirst();
    return row?.pk ?? null;
  },

  /**
   * Takes the oldest due job of the given kinds: queued and due, or running with an expired lease (its process
   * died). Marks it running under `workerId` until `now + leaseMs`.
   *
   * On SQLite the single UPDATE … WHERE pk = (SELECT … LIMIT 1) RETURNING is atomic: the database has one writer
   * at a time. On PostgreSQL the inner select takes `.forUpdate().skipLocked()`, so concurrent claimers skip a row
   * another transaction is taking instead of queueing behind it (and the outer UPDATE re-checks nothing stale).
   */
  async claim(
    db: Db,
    workerId: string,
    opts: { kinds: readonly string[]; leaseMs: number; now?: number },
  ): Promise<JobRecord | null> {
    if (opts.kinds.length === 0) return null;
    const now = opts.now ?? Date.now();
    const row = await db
      .updateTable('jobs')
      .set((eb) => ({
        status: 'running',
        claimed_by: workerId,
        lease_until: now + opts.leaseMs,
        attempts: eb('attempts', '+', 1),
        updated_at: now,
      }))
      .where((eb) =>
        eb(
          'pk',
          '=',
          eb
            .selectFrom('jobs')
            .select('pk')
            .where('kind', 'in', [...opts.kinds])
            .where((due) =>
              due.or([
                due.and([due('status', '=', 'queued'), due('run_at', '<=', now)]),
                due.and([due('status', '=', 'running'), due('lease_until', '<=', now)]),
              ]),
            )
            .orderBy('run_at')
            .orderBy('pk')
            .limit(1)
            // PostgreSQL: concurrent claimers skip a row another has locked instead of racing for it.
            .$if(onPostgres(db), (q) => q.forUpdate().skipLocked()),
        ),
      )
      .returningAll()
      .executeTakeFirst();
    return row ? toJob(row) : null;
  },

  /** Pushes the lease of a job still in hand further out; false when it is no longer this worker's. */
  async renewLease(db: Db, job: JobRecord, workerId: string, leaseUntil: number, now = Date.now()): Promise<boolean> {
    const r = await db
      .updateTable('jobs')
      .set({ lease_until: leaseUntil, updated_at: now })
      .where('pk', '=', job.pk)
      .where('status', '=', 'running')
      .where('claimed_by', '=', workerId)
      .where('attempts', '=', job.attempts)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  },

  /**
   * Marks a job in hand done; with `rescheduleAt` (a recurring job) it is queued again for then instead, so a
   * recurring job stays one row. False when the job is no longer this worker's (its lease was taken over).
   */
  async complete(db: Db, job: JobRecord, workerId: string, now = Date.now(), rescheduleAt?: number): Promise<boolean> {
    const r = await db
      .updateTable('jobs')
      .set(
        rescheduleAt === undefined
          ? { status: 'done', lease_until: null, updated_at: now }
          : {
              status: 'queued',
              run_at: rescheduleAt,
              attempts: 0,
              claimed_by: null,
              lease_until: null,
              last_error: null,
              updated_at: now,
            },
      )
      .where('pk', '=', job.pk)
      .where('status', '=', 'running')
      .where('claimed_by', '=', workerId)
      .where('attempts', '=', job.attempts)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  },

  /**
   * Records a failed attempt: queued again after an exponential backoff while attempts remain, else failed (or, for
   * a recurring job, queued afresh at `rescheduleAt`). 'lost' when the job is no longer this worker's.
   */
  async fail(
    db: Db,
    job: JobRecord,
    workerId: string,
    error: string,
    policy: RetryPolicy,
    now = Date.now(),
  ): Promise<FailResult> {
    const lastError = error.slice(0, maxErrorChars);
    let result: FailResult;
    let set;
    if (job.attempts < policy.maxAttempts) {
      const delay = Math.min(policy.backoffMs * 2 ** (job.attempts - 1), maxBackoffMs);
      result = 'retrying';
      set = { status: 'queued' as const, run_at: now + delay, claimed_by: null, lease_until: null };
    } else if (policy.rescheduleAt !== undefined) {
      result = 'rescheduled';
      set = {
        status: 'queued' as const,
        run_at: policy.rescheduleAt,
        attempts: 0,
        claimed_by: null,
        lease_until: null,
      };
    } else {
      result = 'failed';
      set = { status: 'failed' as const, lease_until: null };
    }
    const r = await db
      .updateTable('jobs')
      .set({ ...set, last_error: lastError, updated_at: now })
      .where('pk', '=', job.pk)
      .where('status', '=', 'running')
      .where('claimed_by', '=', workerId)
      .where('attempts', '=', job.attempts)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) > 0 ? result : 'lost';
  },

  async byPk(db: Db, pk: number): Promise<JobRecord | null> {
    const row = await db.selectFrom('jobs').selectAll().where('pk', '=', pk).executeTakeFirst();
    return row ? toJob(row) : null;
  },

  async byDedupeKey(db: Db, dedupeKey: string): Promise<JobRecord | null> {
    const row = await db.selectFrom('jobs').selectAll().where('dedupe_key', '=', dedupeKey).executeTakeFirst();
    return row ? toJob(row) : null;
  },

  async list(db: Db, kind?: string): Promise<JobRecord[]> {
    let q = db.selectFrom('jobs').selectAll().orderBy('pk');
    if (kind !== undefined) q = q.where('kind', '=', kind);
    return (await q.execute()).map(toJob);
  },

  /** Deletes up to `batch` finished (done or failed) jobs last touched before `before`; returns how many. */
  async purgeFinished(db: Db, before: number, batch: number): Promise<number> {
    const r = await db
      .deleteFrom('jobs')
      .where('pk', 'in', (eb) =>
        eb
          .selectFrom('jobs')
          .select('pk')
          .where('status', 'in', ['done', 'failed'])
          .where('updated_at', '<', before)
          .limit(batch),
      )
      .executeTakeFirst();
    return Number(r.numDeletedRows);
  },
};
