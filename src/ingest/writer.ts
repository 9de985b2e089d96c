import { RosterError } from '../domain/errors.js';
import { isRetryableConflict, onPostgres, type Db } from '../store/types.js';
import { applyCommand } from './apply.js';
import type { CallContext, Command, Outcome } from './commands.js';
import { deferrable, possibleCreates, prefetch } from './batch.js';
import { peopleStore } from '../store/people.js';
import { attachUnit, detachUnit, UnitOfWork } from '../store/unit-of-work.js';
import { analyzeIfNeverAnalyzed } from '../store/planner.js';
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
  onBatch?: (size: number, ms: number) => void;
}

/**
 * The single writer of a process: commands queue up while a batch commits, then the next batch applies them all
 * in one transaction (group commit). Each caller is answered only after its batch committed.
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

  constructor(
    private readonly db: Db,
    private readonly options: WriterOptions = {},
  ) {
    // PostgreSQL: smaller batches hold their row and identifier locks for less time, and bound how many advisory
    // locks one transaction takes (two per new person at most; see people.ts lockHolders).
    this.maxBatch = options.maxBatch ?? (onPostgres(db) ? 250 : 2000);
  }

  /** Queues a command; resolves with its outcome once committed. */
  submit(ctx: CallContext, cmd: Command): Promise<Outcome> {
    if (this.closed) return Promise.resolve({ status: 'error', error: new RosterError('unavailable') });
    return new Promise<Outcome>((resolve, reject) => {
      this.queue.push({ ctx, cmd, resolve, reject });
      this.draining ??= new Promise<void>((done) => setImmediate(() => void this.drain().finally(done)));
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
   */
  private async applyTogether(batch: Pending[]): Promise<Outcome[] | null> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await writeTransaction(this.db, (trx) => applyBatch(trx, batch));
      } catch (err) {
        if (attempt >= maxBatchAttempts || !isRetryableConflict(err)) return null;
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
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, this.maxBatch);
      const started = performance.now();
      const outcomes = await this.applyTogether(batch);
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
    this.draining = null;
  }
}

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
async function applyBatch(trx: Db, batch: Pending[]): Promise<Outcome[]> {
  const unit = new UnitOfWork(trx, peopleStore.writeUnit, possibleCreates(batch));
  attachUnit(unit);
  try {
    await prefetch(trx, batch);
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
