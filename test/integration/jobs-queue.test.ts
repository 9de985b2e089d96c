import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { JobRunner, recurringKey } from '../../src/jobs/runner.js';
import { openStore, type Store } from '../../src/store/database.js';
import { jobsStore, type JobRecord } from '../../src/store/jobs.js';
import { tempRosterHome, type RosterHome } from '../helpers/roster-process.js';

/**
 * The job queue on a real database (SQLite file, or PostgreSQL with ROSTER_TEST_BACKEND=postgres): enqueue is idempotent by dedupe key, a claim takes a job exactly once even
 * from two connections at once, a dead worker's job is taken over when its lease expires, failures are retried with
 * backoff and then failed, and the runner runs jobs by kind, re-queues recurring ones and finishes the job in hand.
 */

let home: RosterHome;
let a: Store;
let b: Store;

beforeEach(async () => {
  home = await tempRosterHome('roster-jobs-');
  const config = { dataDir: home.dataDir, databaseUrl: home.env.DATABASE_URL };
  // Two stores on one database: two write connections, as two processes would have.
  a = await openStore(config);
  b = await openStore(config);
});

afterEach(async () => {
  await a.close();
  await b.close();
  await home.remove();
});

const T0 = 1_700_000_000_000;
const lease = { kinds: ['work'], leaseMs: 1000 };
const retry = { maxAttempts: 3, backoffMs: 1000 };

async function claimAll(store: Store, worker: string): Promise<number[]> {
  const got: number[] = [];
  for (;;) {
    const job = await jobsStore.claim(store.writer, worker, { ...lease, now: T0 });
    if (!job) return got;
    got.push(job.pk);
    // Give the other claimer a turn between two claims.
    await new Promise((r) => setImmediate(r));
  }
}

describe('jobsStore.enqueue', () => {
  it('queues a job with its payload, due now unless told', async () => {
    const pk = await jobsStore.enqueue(a.writer, { kind: 'work', payload: { n: 1 } }, T0);
    const job = await jobsStore.byPk(b.reader, pk!);
    expect(job).toMatchObject({ kind: 'work', payload: { n: 1 }, status: 'queued', runAt: T0, attempts: 0 });
  });

  it('is idempotent by dedupe key, from any connection', async () => {
    const first = await jobsStore.enqueue(a.writer, { kind: 'work', dedupeKey: 'once' }, T0);
    const again = await jobsStore.enqueue(b.writer, { kind: 'work', dedupeKey: 'once' }, T0 + 5);
    expect(first).not.toBeNull();
    expect(again).toBeNull();
    expect(await jobsStore.list(a.reader, 'work')).toHaveLength(1);
    // Without a key nothing is deduplicated.
    await jobsStore.enqueue(a.writer, { kind: 'work' }, T0);
    await jobsStore.enqueue(a.writer, { kind: 'work' }, T0);
    expect(await jobsStore.list(a.reader, 'work')).toHaveLength(3);
  });
});

describe('jobsStore.claim', () => {
  it('two concurrent claimers on two connections take every job exactly once', async () => {
    for (let i = 0; i < 200; i++) await jobsStore.enqueue(a.writer, { kind: 'work', payload: { i } }, T0 - i);
    const [byA, byB] = await Promise.all([claimAll(a, 'worker-a'), claimAll(b, 'worker-b')]);
    expect(byA.length).toBeGreaterThan(0);
    expect(byB.length).toBeGreaterThan(0);
    const all = [...byA, ...byB];
    expect(new Set(all).size).toBe(all.length);
    expect(all).toHaveLength(200);
    const jobs = await jobsStore.list(a.reader, 'work');
    expect(jobs.every((j) => j.status === 'running' && j.attempts === 1)).toBe(true);
    const owner = new Map(jobs.map((j) => [j.pk, j.claimedBy]));
    expect(byA.every((pk) => owner.get(pk) === 'worker-a')).toBe(true);
    expect(byB.every((pk) => owner.get(pk) === 'worker-b')).toBe(true);
  });

  it('takes the oldest due job first, and none that is not yet due or of another kind', async () => {
    const later = await jobsStore.enqueue(a.writer, { kind: 'work', runAt: T0 + 10 }, T0);
    const older = await jobsStore.enqueue(a.writer, { kind: 'work', runAt: T0 - 10 }, T0);
    const old = await jobsStore.enqueue(a.writer, { kind: 'work', runAt: T0 - 5 }, T0);
    await jobsStore.enqueue(a.writer, { kind: 'other', runAt: T0 - 100 }, T0);
    expect((await jobsStore.claim(a.writer, 'w', { ...lease, now: T0 }))!.pk).toBe(older);
    expect((await jobsStore.claim(a.writer, 'w', { ...lease, now: T0 }))!.pk).toBe(old);
    expect(await jobsStore.claim(a.writer, 'w', { ...lease, now: T0 })).toBeNull();
    expect((await jobsStore.claim(a.writer, 'w', { ...lease, now: T0 + 10 }))!.pk).toBe(later);
  });

  it('a job whose worker died is taken over when its lease expires, and the old worker can no longer finish it', async () => {
    const pk = (await jobsStore.enqueue(a.writer, { kind: 'work' }, T0))!;
    const dead = (await jobsStore.claim(a.writer, 'dead', { ...lease, now: T0 }))!;
    expect(dead).toMatchObject({ pk, status: 'running', claimedBy: 'dead', leaseUntil: T0 + 1000, attempts: 1 });
    // Still leased: nobody else gets it.
    expect(await jobsStore.claim(b.writer, 'alive', { ...lease, now: T0 + 999 })).toBeNull();
    const taken = (await jobsStore.claim(b.writer, 'alive', { ...lease, now: T0 + 1000 }))!;
    expect(taken).toMatchObject({ pk, claimedBy: 'alive', attempts: 2, leaseUntil: T0 + 2000 });
    // The first worker comes back late: its result is refused, the new owner's stands.
    expect(await jobsStore.complete(a.writer, dead, 'dead', T0 + 1001)).toBe(false);
    expect(await jobsStore.fail(a.writer, dead, 'dead', 'late', retry, T0 + 1001)).toBe('lost');
    expect(await jobsStore.complete(b.writer, taken, 'alive', T0 + 1002)).toBe(true);
    expect(await jobsStore.byPk(a.reader, pk)).toMatchObject({ status: 'done', claimedBy: 'alive' });
    expect(await jobsStore.claim(a.writer, 'dead', { ...lease, now: T0 + 99_999 })).toBeNull();
  });

  it('a renewed lease keeps the job from being taken over', async () => {
    await jobsStore.enqueue(a.writer, { kind: 'work' }, T0);
    const job = (await jobsStore.claim(a.writer, 'w', { ...lease, now: T0 }))!;
    expect(await jobsStore.renewLease(a.writer, job, 'w', T0 + 5000, T0 + 900)).toBe(true);
    expect(await jobsStore.claim(b.writer, 'other', { ...lease, now: T0 + 4999 })).toBeNull();
    expect(await jobsStore.renewLease(a.writer, job, 'someone-else', T0 + 9000, T0 + 900)).toBe(false);
  });
});

describe('jobsStore.fail', () => {
  it('retries with doubling backoff up to maxAttempts, then fails with the last error', async () => {
    const pk = (await jobsStore.enqueue(a.writer, { kind: 'work' }, T0))!;
    let now = T0;
    const delays: number[] = [];
    for (let attempt = 1; attempt <= 3; attempt++) {
      const job = (await jobsStore.claim(a.writer, 'w', { ...lease, now }))!;
      expect(job).toMatchObject({ pk, attempts: attempt });
      const result = await jobsStore.fail(a.writer, job, 'w', `boom ${attempt}`, retry, now);
      const after = (await jobsStore.byPk(a.reader, pk))!;
      if (attempt < 3) {
        expect(result).toBe('retrying');
        expect(after).toMatchObject({ status: 'queued', claimedBy: null, lastError: `boom ${attempt}` });
        delays.push(after.runAt - now);
        // Not due a moment before its retry time.
        expect(await jobsStore.claim(a.writer, 'w', { ...lease, now: after.runAt - 1 })).toBeNull();
        now = after.runAt;
      } else {
        expect(result).toBe('failed');
        expect(after).toMatchObject({ status: 'failed', attempts: 3, lastError: 'boom 3' });
      }
    }
    expect(delays).toEqual([1000, 2000]);
    expect(await jobsStore.claim(a.writer, 'w', { ...lease, now: now + 3_600_000 })).toBeNull();
  });

  it('a recurring job that used its attempts is queued afresh for its next run instead of failing', async () => {
    const pk = (await jobsStore.enqueue(a.writer, { kind: 'work', dedupeKey: 'r' }, T0))!;
    const job = (await jobsStore.claim(a.writer, 'w', { ...lease, now: T0 }))!;
    const result = await jobsStore.fail(
      a.writer,
      job,
      'w',
      'boom',
      { maxAttempts: 1, backoffMs: 1, rescheduleAt: T0 + 60_000 },
      T0,
    );
    expect(result).toBe('rescheduled');
    expect(await jobsStore.byPk(a.reader, pk)).toMatchObject({
      status: 'queued',
      runAt: T0 + 60_000,
      attempts: 0,
      lastError: 'boom',
    });
  });
});

describe('JobRunner', () => {
  it('runs due jobs by kind with their payload, leaving kinds it has no handler for', async () => {
    const seen: unknown[] = [];
    const runner = new JobRunner(a).register('work', async (job) => {
      seen.push(job.payload);
    });
    await jobsStore.enqueue(a.writer, { kind: 'work', payload: { n: 1 } });
    await jobsStore.enqueue(a.writer, { kind: 'work', payload: { n: 2 } });
    const foreign = (await jobsStore.enqueue(a.writer, { kind: 'unknown' }))!;
    expect(await runner.runDueJobs()).toBe(2);
    expect(seen).toEqual([{ n: 1 }, { n: 2 }]);
    expect((await jobsStore.list(a.reader, 'work')).map((j) => j.status)).toEqual(['done', 'done']);
    expect((await jobsStore.byPk(a.reader, foreign))!.status).toBe('queued');
    await runner.stop();
  });

  it('a throwing handler is retried after its backoff, then succeeds', async () => {
    let calls = 0;
    const runner = new JobRunner(a).register(
      'work',
      async () => {
        if (++calls === 1) throw new Error('transient');
      },
      { backoffMs: 60_000 },
    );
    const pk = (await jobsStore.enqueue(a.writer, { kind: 'work' }))!;
    await runner.runDueJobs();
    expect(await jobsStore.byPk(a.reader, pk)).toMatchObject({ status: 'queued', attempts: 1 });
    expect((await jobsStore.byPk(a.reader, pk))!.lastError).toContain('transient');
    expect(await runner.runDueJobs()).toBe(0);
    expect(await runner.runDueJobs({ now: Date.now() + 60_001 })).toBe(1);
    expect(await jobsStore.byPk(a.reader, pk)).toMatchObject({ status: 'done', attempts: 2 });
    await runner.stop();
  });

  it('recurring kinds are scheduled once however many runners start, and re-queue themselves after each run', async () => {
    let runs = 0;
    const make = (store: Store) =>
      new JobRunner(store, { pollMs: 60_000 }).register(
        'tick',
        async () => {
          runs++;
        },
        { everyMs: 3_600_000 },
      );
    const r1 = make(a);
    const r2 = make(b);
    await Promise.all([r1.start(), r2.start(), r1.start()]);
    const queued = await jobsStore.list(a.reader, 'tick');
    expect(queued).toHaveLength(1);
    expect(queued[0]).toMatchObject({ dedupeKey: recurringKey('tick'), status: 'queued' });

    // First due one interval after the first start.
    expect(queued[0]!.runAt).toBeGreaterThanOrEqual(Date.now() + 3_600_000 - 60_000);
    expect(await r1.runDueJobs()).toBe(0);
    const now = queued[0]!.runAt;
    const [n1, n2] = await Promise.all([r1.runDueJobs({ now }), r2.runDueJobs({ now })]);
    expect(n1 + n2).toBe(1);
    expect(runs).toBe(1);
    const [after] = await jobsStore.list(a.reader, 'tick');
    expect(after).toMatchObject({ pk: queued[0]!.pk, status: 'queued', attempts: 0 });
    expect(after!.runAt).toBeGreaterThanOrEqual(now + 3_600_000);
    // Not due again until an hour later.
    expect(await r1.runDueJobs({ now: now + 60_000 })).toBe(0);
    expect(await r1.runDueJobs({ now: after!.runAt })).toBe(1);
    await Promise.all([r1.stop(), r2.stop()]);
  });

  it("takes over a dead worker's job when its lease expires", async () => {
    const pk = (await jobsStore.enqueue(a.writer, { kind: 'work' }))!;
    await jobsStore.claim(b.writer, 'died', { kinds: ['work'], leaseMs: 60_000 });
    const ran: JobRecord[] = [];
    const runner = new JobRunner(a, { workerId: 'heir' }).register('work', async (job) => {
      ran.push(job);
    });
    expect(await runner.runDueJobs()).toBe(0);
    expect(await runner.runDueJobs({ now: Date.now() + 60_001 })).toBe(1);
    expect(ran[0]).toMatchObject({ pk, attempts: 2, claimedBy: 'heir' });
    expect(await jobsStore.byPk(a.reader, pk)).toMatchObject({ status: 'done', claimedBy: 'heir' });
    await runner.stop();
  });

  it('a job abandoned on every attempt is failed without running again', async () => {
    const pk = (await jobsStore.enqueue(a.writer, { kind: 'work' }))!;
    let now = Date.now();
    for (let i = 0; i < 2; i++) {
      await jobsStore.claim(b.writer, `died-${i}`, { kinds: ['work'], leaseMs: 1000, now });
      now += 1000;
    }
    let ran = false;
    const runner = new JobRunner(a).register(
      'work',
      async () => {
        ran = true;
      },
      { maxAttempts: 2 },
    );
    await runner.runDueJobs({ now });
    expect(ran).toBe(false);
    expect(await jobsStore.byPk(a.reader, pk)).toMatchObject({ status: 'failed', attempts: 3 });
    await runner.stop();
  });

  it('stop() waits for the job in hand, tells it to wrap up, and claims nothing more', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let sawAbort = false;
    let started!: () => void;
    const running = new Promise<void>((r) => (started = r));
    const runner = new JobRunner(a).register('work', async (_job, ctx) => {
      started();
      await gate;
      sawAbort = ctx.signal.aborted;
    });
    const first = (await jobsStore.enqueue(a.writer, { kind: 'work' }))!;
    const second = (await jobsStore.enqueue(a.writer, { kind: 'work' }))!;
    const run = runner.runDueJobs();
    await running;
    let stopped = false;
    const stopping = runner.stop().then(() => (stopped = true));
    await new Promise((r) => setTimeout(r, 50));
    expect(stopped).toBe(false);
    release();
    await stopping;
    expect(await run).toBe(1);
    expect(sawAbort).toBe(true);
    expect((await jobsStore.byPk(a.reader, first))!.status).toBe('done');
    expect((await jobsStore.byPk(a.reader, second))!.status).toBe('queued');
  });

  it('the polling loop runs due jobs by itself', async () => {
    const runner = new JobRunner(a, { pollMs: 20 });
    let done!: () => void;
    const ran = new Promise<void>((r) => (done = r));
    runner.register('work', async () => done());
    await jobsStore.enqueue(a.writer, { kind: 'work' });
    await runner.start();
    await ran;
    await runner.stop();
  });
});
