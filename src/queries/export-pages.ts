import { sql, type CompiledQuery, type Expression, type SqlBool } from 'kysely';
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { CsvLines } from '../csv/people-csv.js';
import type { PersonCsvSource } from '../csv/people-csv-line.js';
import { arrayRows, type StoreLocation } from '../store/direct-access.js';
import { connectionSettings } from '../store/planner.js';
import { onPostgres, type Db } from '../store/types.js';
import { lastPkOf } from './export-connection.js';
import type { ExportWorkerData, PageRequest, PageResult } from './export-worker.js';

/**
 * The pages of an export, in pk order. Bounded pages are pk ranges ending at the pk of every `pageSize`-th person of
 * the workspace (read from the index (workspace_pk, pk) ahead of the pages), so several can be read at once; the
 * last page is open-ended with a LIMIT, and when it comes back full (people arrived meanwhile, or every page is
 * open, as keyset pages are) the plan goes on after it.
 */
export class PagePlan {
  private after = 0;
  private done = false;
  // Upcoming bounds, read `boundsPerRead` pages' worth at a time: one query a page cost PostgreSQL a round trip and a
  // plan each (~1.5 ms), which left the workers waiting for the main thread.
  private bounds: number[] = [];
  private boundsEnd = false;

  constructor(
    private readonly db: Db,
    private readonly workspacePk: number,
    private readonly condition: Expression<SqlBool>,
    readonly pageSize: number,
    private readonly bounded: boolean,
  ) {}

  /** The next page's query (columns as PersonCsvSource, pk 8th), or null once the open-ended page was given. */
  async next(): Promise<{ query: CompiledQuery; open: boolean } | null> {
    if (this.done) return null;
    const upTo = this.bounded ? await this.boundary() : undefined;
    const query = this.db
      .selectFrom('people')
      .select(['cio_id', 'id', 'email', 'created_at_s', 'updated_at', 'unsubscribed', 'attributes', 'pk'])
      .where('workspace_pk', '=', this.workspacePk)
      .where('pk', '>', this.after)
      .$if(upTo !== undefined, (q) => q.where('pk', '<=', upTo!))
      .where(this.condition)
      .orderBy('pk')
      .$if(upTo === undefined, (q) => q.limit(this.pageSize))
      .compile();
    if (upTo === undefined) this.done = true;
    else this.after = upTo;
    return { query, open: upTo === undefined };
  }

  /** The open-ended page came back full, ending at `lastPk`: more pages follow it. */
  reopen(lastPk: number): void {
    this.after = lastPk;
    this.done = false;
    this.bounds = [];
    this.boundsEnd = false;
  }

  /** The pk of the pageSize-th person after `after`, if there are that many. */
  private async boundary(): Promise<number | undefined> {
    if (this.bounds.length === 0 && !this.boundsEnd) {
      // The database steps pageSize people at a time along the index, each step an OFFSET from the last bound: 64
      // numbers rather than 64,000 for this thread to parse. (Numbering the rows with row_number() instead cost
      // SQLite 0.5 s of the calling thread's time in a 1M export.)
      const { rows } = await sql<{ pk: number }>`with recursive bound(pk, i) as (
          select cast(${this.after} as bigint), 0
          union all
          select (select p.pk from people p where p.workspace_pk = ${this.workspacePk} and p.pk > bound.pk
            order by p.pk limit 1 offset ${this.pageSize - 1}), bound.i + 1
          from bound where bound.pk is not null and bound.i < ${boundsPerRead})
        select pk from bound where i > 0 and pk is not null order by i`.execute(this.db);
      for (const row of rows) this.bounds.push(Number(row.pk));
      this.boundsEnd = rows.length < boundsPerRead;
    }
    return this.bounds.shift();
  }
}

/** Bounds read at once: the pks of 64 pages (64,000 numbers at 1,000 a page). */
const boundsPerRead = 64;

/**
 * The people of a plan as pages of array rows, read on the handle itself. SQLite answers at once, so its pages are
 * keyset pages one after another. PostgreSQL's rows cross a socket: with one page in flight the server waited while
 * Node wrote CSV and Node while the server sent rows, so three bounded pages are read at once there.
 */
export async function* pagesInThread(
  db: Db,
  plan: PagePlan,
  depth: number,
  signal?: AbortSignal,
): AsyncGenerator<PersonCsvSource[]> {
  const inFlight: { rows: Promise<PersonCsvSource[]>; open: boolean }[] = [];
  try {
    for (;;) {
      while (inFlight.length < depth) {
        signal?.throwIfAborted();
        const page = await plan.next();
        if (page === null) break;
        inFlight.push({ rows: arrayRows<PersonCsvSource>(db, page.query), open: page.open });
      }
      const next = inFlight.shift();
      if (next === undefined) return;
      const rows = await next.rows;
      if (next.open && rows.length === plan.pageSize) plan.reopen(lastPkOf(rows)!);
      if (rows.length > 0) yield rows;
    }
  } finally {
    // A consumer that stops early still waits for the reads it started (no stray rejection).
    await Promise.all(inFlight.map((p) => p.rows.catch(() => undefined)));
  }
}

/** In-thread pages on this handle: keyset pages on SQLite, three bounded ones at once on PostgreSQL. */
export const inThreadDepth = (db: Db): number => (onPostgres(db) ? 3 : 1);

// The worker as compiled: dist/queries/export-worker.js, the same path from src/queries (tests) and dist/queries.
const workerFile = new URL('../../dist/queries/export-worker.js', import.meta.url);

/**
 * How many worker threads read and write an export's CSV: `ROSTER_EXPORT_WORKERS` (0 to 8), else 2 on a machine of
 * two cores or more and 0 on one core. With 0 (or no compiled worker) the calling thread writes the CSV itself.
 * Two, not one per core: a third worker took a 1M-people export's RSS from ~225 MB to ~270 MB (its budget is 250 MB)
 * and on 2 cores was no faster.
 */
export function exportWorkerCount(
  env: NodeJS.ProcessEnv = process.env,
  cores: number = availableParallelism(),
): number {
  const set = Number(env.ROSTER_EXPORT_WORKERS);
  const wanted =
    env.ROSTER_EXPORT_WORKERS !== undefined && Number.isInteger(set) && set >= 0
      ? Math.min(set, 8)
      : cores >= 2
        ? 2
        : 0;
  return wanted > 0 && existsSync(workerFile) ? wanted : 0;
}

/**
 * The CSV lines of a plan's pages, read and written in turn by `workers` worker threads, each with a connection of
 * its own (export-connection.ts), handed on in order: one text per page, with how many people it holds. The calling
 * thread only plans pages and passes the text on: when it also wrote a share of the pages, the workers waited for it
 * (a third of their time on 2 cores) and a 1M export took 20–25% longer on both backends, and a server's HTTP
 * answers waited behind its pages. Two pages per worker are in flight at most, so memory stays flat. The workers end
 * with the generator, also when the consumer stops early.
 */
export async function* linesInThreads(
  location: StoreLocation,
  plan: PagePlan,
  attributeColumns: readonly string[],
  workers: number,
  signal?: AbortSignal,
): AsyncGenerator<CsvLines> {
  const data: ExportWorkerData = {
    location,
    attributeColumns: [...attributeColumns],
    connectionSettings: connectionSettings.sql,
  };
  const threads = Array.from(
    { length: workers },
    () =>
      new Worker(workerFile, {
        workerData: data,
        // Each page's rows die young. At 4 MB scavenges cost a 1M export a third more CPU and at 8 MB SQLite's took
        // 10% longer; 16 MB was 5% faster than 12 on SQLite but took the RSS from ~200 MB to ~230 (budget 250).
        resourceLimits: { maxYoungGenerationSizeMb: 12 },
      }),
  );
  const exits = threads.map((w) => new Promise<void>((resolve) => w.once('exit', () => resolve())));
  const waiting = new Map<number, (r: PageResult) => void>();
  let failure: Error | null = null;
  for (const w of threads) {
    w.on('message', (r: PageResult) => {
      // Bytes arrive as a plain Uint8Array: as a Buffer over the same memory, streams and String() read them as UTF-8.
      if ('text' in r && typeof r.text !== 'string')
        r.text = Buffer.from(r.text.buffer, r.text.byteOffset, r.text.length);
      waiting.get(r.id)?.(r);
      waiting.delete(r.id);
    });
    w.on('error', (err) => {
      failure = err;
      for (const resolve of waiting.values()) resolve({ id: -1, error: err.message });
      waiting.clear();
    });
  }
  let nextId = 0;
  const inWorker =
    (w: Worker) =>
    (query: CompiledQuery): Promise<PageResult> => {
      const id = nextId++;
      if (failure) return Promise.resolve({ id, error: failure.message });
      const result = new Promise<PageResult>((resolve) => waiting.set(id, resolve));
      const req: PageRequest = { id, sql: query.sql, parameters: [...query.parameters] };
      w.postMessage(req);
      return result;
    };
  const runs = threads.map(inWorker);
  let turn = 0;
  const inFlight: { result: Promise<PageResult>; open: boolean }[] = [];
  try {
    for (;;) {
      while (inFlight.length < 2 * runs.length) {
        signal?.throwIfAborted();
        const page = await plan.next();
        if (page === null) break;
        const result = runs[turn++ % runs.length]!(page.query);
        result.catch(() => undefined); // awaited in order below; a failure ahead of it must not go unhandled
        inFlight.push({ result, open: page.open });
      }
      const next = inFlight.shift();
      if (next === undefined) return;
      const r = await next.result;
      if ('error' in r) throw new Error(`export worker: ${r.error}`);
      if (next.open && r.rows === plan.pageSize && r.lastPk !== null) plan.reopen(r.lastPk);
      if (r.rows > 0) yield { text: r.text, rows: r.rows };
    }
  } finally {
    await Promise.all(inFlight.map((p) => p.result.catch(() => undefined)));
    await Promise.all(
      threads.map(async (w, i) => {
        w.postMessage(null);
        // A worker stuck in a query is not waited for: a second is plenty to answer the pages it was given.
        const timer = setTimeout(() => void w.terminate(), 1000);
        await exits[i];
        clearTimeout(timer);
      }),
    );
  }
}
