import { RosterError } from '../domain/errors.js';
import { isRetryableConflict, onPostgres, type Db } from '../store/types.js';
import { applyCommand } from './apply.js';
import type { CallContext, Command, Outcome } from './commands.js';
import { deferrable, possibleCreates, prefetch } from './batch.js';
import { peopleStore } from '../store/people.js';
import { attachUnit, detachUnit, UnitOfWork } from '../store/unit-of-work.js';
import { analyzeIfNeverAnalyzed } from '../store/planner.js';
import { pgWritersFromEnv } from '../store/database.js';
import { writeTransaction } from '../store/write-transaction.js';

interface Pending {
  ctx: CallContext;
  cmd: Command;
  resolve: (o: Outcome) => void;
  reject: (e: unknown) => void;
}

export interface WriterOptions {
  /** Most commands applied in one transaction. */
  maxBatch?: number;
  /**
   * PostgreSQL: how many batches may be in flight at once, each in its own transaction on its own connection
   * (default ROSTER_PG_WRITERS, else 2). SQLite always has one: it has one write lock.
   */
  writers?: number;
  onBatch?: (size: number, ms: number) => void;
}

/**
 * The writer of a process: commands queue up while a batch commits, then the next batch applies them all in one
 * transaction (group commit). Each caller is answered only after its batch committed.
 *
 * On PostgreSQL several batches may be in flight at once (`writers`), each on its own connection: a batch spends
 * much of its time waiting for round trips and for its commit's WAL flush, which others can use. Order is kept as the single writer
 * kept it: a batch starts only once the batch before it holds the locks on everyone it names (prefetch), so a later
 * batch naming the same person waits for the earlier one to commit. A batch with commands that lock as they go
 * (merges, deletes, anonymous ids, objects) is waited for whole before the next starts.
 *
 * Appliers throw RosterError only before they write, so such an error fails its own command and not the batch.
 * Anything else aborts the batch, which is then re-run one command per transaction, so one bad command
 * cannot take others down with it.
 */
export class Writer {
  private queue: Pending[] = [];
  private draining: Promise<void> | null = null;
  private closed = false;
  private readonly maxBatch: number;
  private readonly writers: number;
  /** Wakes a drain loop waiting for either a batch to finish or new commands. */
  private wake: (() => void) | null = null;

  constructor(
    private readonly db: Db,
    private readonly options: WriterOptions = {},
  ) {
    // PostgreSQL: smaller batches hold their row and identifier locks for less time, and bound how many advisory
    // locks one transaction takes (two per command at most; see people.ts lockHolders).
    this.maxBatch = options.maxBatch ?? (onPostgres(db) ? 250 : 2000);
    this.writers = onPostgres(db) ? (options.writers ?? pgWritersFromEnv()) : 1;
  }

  /** Queues a command; resolves with its outcome once committed. */
  submit(ctx: CallContext, cmd: Command): Promise<Outcome> {
    if (this.closed) return Promise.resolve({ status: 'error', error: new RosterError('unavailable') });
    return new Promise<Outcome>((resolve, reject) => {
      this.queue.push({ ctx, cmd, resolve, reject });
      if (this.draining) {
        // A drain loop waiting with a free writer: let the rest of this tick's commands queue up first.
        const wake = this.wake;
        this.wake = null;
        if (wake) setImmediate(wake);
      } else this.draining = new Promise<void>((done) => setImmediate(() => void this.drain().finally(done)));
    });
  }

  /** Stops taking commands and waits until everything queued has committed. */
  async close(): Promise<void> {
    this.closed = true;
    while (this.draining) await this.draining;
  }

  /** One command in its own transaction, re-run when it lost a race to another writer. */
  private async applyAlone(p: Pending): Promise<Outcome> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await writeTransaction(this.db, async (trx) => {
          await prefetch(trx, [p]);
          return applyOne(trx, p);
        });
      } catch (err) {
        if (attempt >= maxAttempts || !isRetryableConflict(err)) throw err;
      }
    }
  }

  /**
   * The batch in one transaction; null when it failed. One that lost a race to another process (a person it was
   * creating was just created there) is re-run whole first: the re-run reads the winner's row and applies to it.
   *
   * Only the first attempt can run beside the batch before it (`before`), and it commits only once that one's first
   * attempt has committed: had that one failed, it would be re-run after this one and could overwrite this one's
   * newer update of a person both name. So it rolls back instead when the one before failed, or is still not done
   * after `orderWaitMs` (which can also mean the one before waits for a lock this one holds, a wait PostgreSQL cannot
   * see), and runs again once everything before it is done.
   */
  private async applyTogether(
    batch: Pending[],
    onLocked: () => void,
    before: InFlight | null,
    current: InFlight,
  ): Promise<Outcome[] | null> {
    for (let attempt = 1; ; attempt++) {
      try {
        const outcomes = await writeTransaction(this.db, async (trx) => {
          const outcomes = await applyBatch(trx, batch, onLocked);
          if (attempt === 1 && before && !(await committedWithin(before, orderWaitMs))) throw new OutOfOrder();
          return outcomes;
        });
        if (attempt === 1) current.firstAttemptEnded(true);
        return outcomes;
      } catch (err) {
        if (attempt === 1) {
          current.firstAttemptEnded(false);
          await before?.done;
        }
        if (!(err instanceof OutOfOrder) && (attempt >= maxBatchAttempts || !isRetryableConflict(err))) return null;
      }
    }
  }

  private applied = 0;

  /** PostgreSQL: once a few thousand commands are in, makes sure the tables they filled have statistics. */
  private noteApplied(n: number): void {
    if (this.applied < 0 || !onPostgres(this.db)) return;
    this.applied += n;
    if (this.applied < analyzeAfter) return;
    this.applied = -1;
    analyzeIfNeverAnalyzed(this.db).catch(() => undefined); // statistics only: autovacuum makes them later anyway
  }

  private async drain(): Promise<void> {
    const running = new Set<Promise<void>>();
    let before: InFlight | null = null;
    while (this.queue.length > 0 || running.size > 0) {
      if (this.queue.length === 0 || running.size >= this.writers) {
        await Promise.race([...running, new Promise<void>((r) => (this.wake = r))]);
        this.wake = null;
        continue;
      }
      const batch = this.queue.splice(0, this.maxBatch);
      // The next batch may begin once this one holds its locks, or, when it locks as it goes, once it is done.
      const gate = batch.every((p) => deferrable(p.cmd)) ? 'locked' : 'done';
      let locked!: () => void;
      const holdsLocks = new Promise<void>((r) => (locked = r));
      const current = inFlight();
      const run: Promise<void> = this.run(batch, locked, before, current).finally(() => {
        locked();
        current.finish();
        running.delete(run);
      });
      running.add(run);
      before = current;
      await (gate === 'locked' ? holdsLocks : run);
    }
    this.draining = null;
  }

  /**
   * Applies a batch (together, else one command per transaction) and answers its callers. When its first attempt
   * fails, everything before it is let finish first, so the batches of a process still apply in the order taken.
   */
  private async run(batch: Pending[], locked: () => void, before: InFlight | null, current: InFlight): Promise<void> {
    const started = performance.now();
    const outcomes = await this.applyTogether(batch, locked, before, current);
    locked();
    this.noteApplied(batch.length);
    if (outcomes) batch.forEach((p, i) => p.resolve(outcomes[i]!));
    else
      for (const p of batch) {
        try {
          p.resolve(await this.applyAlone(p));
        } catch (err) {
          p.reject(err);
        }
      }
    this.options.onBatch?.(batch.length, performance.now() - started);
  }
}

/** A batch taken by the drain loop, as the batch after it sees it. */
interface InFlight {
  /** Whether its first attempt committed, once that attempt has ended. */
  committed: Promise<boolean>;
  /** Settles once every command of it has its outcome. */
  done: Promise<void>;
  finished: boolean;
  firstAttemptEnded(committed: boolean): void;
  finish(): void;
}

function inFlight(): InFlight {
  let ended!: (committed: boolean) => void;
  let finish!: () => void;
  const f: InFlight = {
    committed: new Promise<boolean>((r) => (ended = r)),
    done: new Promise<void>((r) => (finish = r)),
    finished: false,
    firstAttemptEnded: (committed) => ended(committed),
    finish: () => {
      f.finished = true;
      ended(false);
      finish();
    },
  };
  return f;
}

/** Whether `before`'s first attempt committed within `ms` (at once when it is already done). */
async function committedWithin(before: InFlight, ms: number): Promise<boolean> {
  if (before.finished) return true;
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<boolean>((r) => (timer = setTimeout(() => r(false), ms)));
  try {
    return await Promise.race([before.committed, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Thrown to roll back a batch that may not commit before the batch ahead of it (see Writer.applyTogether). */
class OutOfOrder extends Error {}

const orderWaitMs = 1000;

// A command that lost a race to another process (its identifier was just taken) is re-run: the re-run sees the
// winner's row and applies the identity rules to it.
const maxAttempts = 5;
const maxBatchAttempts = 3;
const analyzeAfter = 5000;

/**
 * A batch in one transaction through a unit of work: everyone it names read in one query, identifies and events
 * applied in memory and written in a few multi-row statements at the end. Any other command is applied directly,
 * after what the unit holds is written and with the unit set aside.
 */
async function applyBatch(trx: Db, batch: Pending[], onLocked: () => void): Promise<Outcome[]> {
  const unit = new UnitOfWork(trx, peopleStore.writeUnit, possibleCreates(batch));
  attachUnit(unit);
  try {
    await prefetch(trx, batch, onLocked);
    const results: Outcome[] = [];
    for (const p of batch) {
      if (deferrable(p.cmd)) {
        results.push(await applyOne(trx, p));
        continue;
      }
      await unit.flush();
      detachUnit(unit);
      results.push(await applyOne(trx, p));
      unit.forget();
      attachUnit(unit);
    }
    await unit.flush();
    return results;
  } finally {
    detachUnit(unit);
  }
}

async function applyOne(trx: Db, p: Pending): Promise<Outcome> {
  try {
    return await applyCommand(trx, p.ctx, p.cmd);
  } catch (err) {
    if (err instanceof RosterError) return { status: 'error', error: err };
    throw err;
  }
}
