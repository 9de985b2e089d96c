import { sql, type CompiledQuery, type SqlBool, type Expression } from 'kysely';
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { CsvLines, PersonCsvSource } from '../csv/people-csv.js';
import { arrayRows, type StoreLocation } from '../store/direct-access.js';
import { connectionSettings } from '../store/planner.js';
import { onPostgres, type Db } from '../store/types.js';
import type { ExportWorkerData, PageRequest, PageResult } from './export-worker.js';

/**
 * The pages of an export, in pk order. Bounded pages are pk ranges ending at the pk of every `pageSize`-th person of
 * the workspace (read from the index (workspace_pk, pk), one short query a page), so several can be read at once;
 * the last page is open-ended with a LIMIT, and when it comes back full (people arrived meanwhile, or every page is
 * open, as keyset pages are) the plan goes on after it.
 */
export class PagePlan {
  private after = 0;
  private done = false;

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
  }

  /** The pk of the pageSize-th person after `after`, if there are that many. */
  private async boundary(): Promise<number | undefined> {
    const { rows } = await sql<{ pk: number }>`select pk from people where workspace_pk = ${this.workspacePk}
      and pk > ${this.after} order by pk limit 1 offset ${this.pageSize - 1}`.execute(this.db);
    return rows[0] === undefined ? undefined : Number(rows[0].pk);
  }
}

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
      if (next.open && rows.length === plan.pageSize) plan.reopen(Number(rows[rows.length - 1]![7]));
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
 * How many worker threads an export uses: `ROSTER_EXPORT_WORKERS`, else 2 on a machine with two cores or more; 0
 * (or no compiled worker) writes the CSV in the calling thread.
 */
export function exportWorkerCount(env: NodeJS.ProcessEnv = process.env): number {
  const set = Number(env.ROSTER_EXPORT_WORKERS);
  const wanted = env.ROSTER_EXPORT_WORKERS !== undefined && Number.isInteger(set) && set >= 0 ? set : 2;
  const count = Math.min(wanted, availableParallelism(), 8);
  return count > 1 && existsSync(workerFile) ? count : 0;
}

/**
 * The CSV lines of a plan's pages, read and written by `count` worker threads, each with a connection of its own, and
 * handed on in order: one text per page, with how many people it holds. Two pages per worker are in flight at most,
 * so memory stays flat; the workers end with the generator, also when the consumer stops early.
 */
export async function* linesByWorkers(
  location: StoreLocation,
  plan: PagePlan,
  attributeColumns: readonly string[],
  count: number,
  signal?: AbortSignal,
): AsyncGenerator<CsvLines> {
  const data: ExportWorkerData = {
    location,
    attributeColumns: [...attributeColumns],
    connectionSettings: connectionSettings.sql,
  };
  const workers = Array.from(
    { length: count },
    () =>
      new Worker(workerFile, {
        workerData: data,
        // Each page's rows die young. At 4 MB scavenges cost a 1M export a third more CPU; at 32 MB the three
        // threads' heaps took its RSS past 250 MB.
        resourceLimits: { maxYoungGenerationSizeMb: 16 },
      }),
  );
  const exits = workers.map((w) => new Promise<void>((resolve) => w.once('exit', () => resolve())));
  const waiting = new Map<number, (r: PageResult) => void>();
  let failure: Error | null = null;
  for (const w of workers) {
    w.on('message', (r: PageResult) => {
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
  const ask = (query: CompiledQuery): Promise<PageResult> => {
    const id = nextId++;
    const result = new Promise<PageResult>((resolve) => waiting.set(id, resolve));
    if (failure) return Promise.resolve({ id, error: failure.message });
    const req: PageRequest = { id, sql: query.sql, parameters: [...query.parameters] };
    workers[id % count]!.postMessage(req);
    return result;
  };
  const inFlight: { result: Promise<PageResult>; open: boolean }[] = [];
  try {
    for (;;) {
      while (inFlight.length < 2 * count) {
        signal?.throwIfAborted();
        const page = await plan.next();
        if (page === null) break;
        inFlight.push({ result: ask(page.query), open: page.open });
      }
      const next = inFlight.shift();
      if (next === undefined) return;
      const r = await next.result;
      if ('error' in r) throw new Error(`export worker: ${r.error}`);
      if (next.open && r.rows === plan.pageSize && r.lastPk !== null) plan.reopen(r.lastPk);
      if (r.rows > 0) yield { text: r.text, rows: r.rows };
    }
  } finally {
    await Promise.all(
      workers.map(async (w, i) => {
        w.postMessage(null);
        // A worker stuck in a query is not waited for: a second is plenty to answer the pages it was given.
        const timer = setTimeout(() => void w.terminate(), 1000);
        await exits[i];
        clearTimeout(timer);
      }),
    );
  }
}
