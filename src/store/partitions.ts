import { sql, type Kysely, type Transaction } from 'kysely';

/** A table partitioned by month (RANGE on a unix-ms column), with a DEFAULT partition; PostgreSQL only. */
export interface MonthlyTable {
  table: string;
  column: string;
}

/** The time-partitioned tables: events by when they were received, activities by when they happened. */
export const monthlyTables: readonly MonthlyTable[] = [
  { table: 'events', column: 'received_at' },
  { table: 'activities', column: 'ts' },
];

/** Months after the current one that always have a partition once the job ran. */
export const monthsAhead = 3;

/** Unix ms of the start of the UTC month `offset` months after the one holding `ms`. */
export function monthStart(ms: number, offset = 0): number {
  const d = new Date(ms);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + offset, 1);
}

/** `events_2026_11`: the partition of the month starting at `start`. */
export function partitionName(table: string, start: number): string {
  const d = new Date(start);
  return `${table}_${d.getUTCFullYear()}_${String(d.getUTCMonth() + 1).padStart(2, '0')}`;
}

/** The default partition, for rows of months that have none (yet). */
export const defaultPartition = (table: string): string => `${table}_default`;

/** One table's partitions, by name (the default one included). */
export async function listPartitions<DB>(db: Kysely<DB>, table: string): Promise<string[]> {
  const r = await sql<{ name: string }>`select c.relname as name from pg_inherits i
    join pg_class c on c.oid = i.inhrelid where i.inhparent = ${table}::regclass order by c.relname`.execute(db);
  return r.rows.map((row) => row.name);
}

/** What one maintenance run did. */
export interface PartitionReport {
  /** Partitions created, by name. */
  created: string[];
  /** Rows moved out of a DEFAULT partition into a new month's partition. */
  moved: number;
}

/**
 * Creates the monthly partitions of every time-partitioned table, from the month holding `from` (default: the
 * current one) up to `monthsAhead` months after the one holding `now`. Idempotent: months that have a partition are
 * skipped. Each month is created in a short transaction of its own (or in the caller's, e.g. a migration's), under a
 * transaction advisory lock, so concurrent runs cannot collide. Rows the DEFAULT partition holds for a month being
 * created (written while it had no partition) are moved into it in the same transaction.
 */
export async function ensureMonthlyPartitions<DB>(
  db: Kysely<DB>,
  opts: { now: number; from?: number; ahead?: number },
): Promise<PartitionReport> {
  const report: PartitionReport = { created: [], moved: 0 };
  const last = monthStart(opts.now, opts.ahead ?? monthsAhead);
  const first = monthStart(Math.min(opts.from ?? opts.now, opts.now));
  for (const t of monthlyTables) {
    const existing = new Set(await listPartitions(db, t.table));
    for (let start = first; start <= last; start = monthStart(start, 1)) {
      if (existing.has(partitionName(t.table, start))) continue;
      const moved = await inTransaction(db, (tx) => createMonth(tx, t, start));
      if (moved === null) continue;
      report.created.push(partitionName(t.table, start));
      report.moved += moved;
    }
  }
  return report;
}

const inTransaction = <DB, T>(db: Kysely<DB>, fn: (tx: Kysely<DB>) => Promise<T>): Promise<T> =>
  db.isTransaction ? fn(db) : db.transaction().execute((tx: Transaction<DB>) => fn(tx));

/** Creates one month's partition; null when another run already did, else how many rows it moved from DEFAULT. */
async function createMonth<DB>(tx: Kysely<DB>, t: MonthlyTable, start: number): Promise<number | null> {
  const name = partitionName(t.table, start);
  const end = monthStart(start, 1);
  await sql`select pg_advisory_xact_lock(hashtext('roster:partitions'))`.execute(tx);
  if ((await listPartitions(tx, t.table)).includes(name)) return null;
  // Creating a partition locks the parent briefly: give up (the job retries) rather than queue traffic behind it.
  await sql`set local lock_timeout = '10s'`.execute(tx);
  const table = sql.table(t.table);
  const part = sql.table(name);
  const def = sql.table(defaultPartition(t.table));
  const col = sql.ref(t.column);
  const range = sql`for values from (${sql.lit(start)}) to (${sql.lit(end)})`;
  // Writers into DEFAULT wait until the month's partition is attached; inserts into other months go on.
  await sql`lock table ${def} in share row exclusive mode`.execute(tx);
  const stray = await sql`select 1 from ${def} where ${col} >= ${start} and ${col} < ${end} limit 1`.execute(tx);
  if (stray.rows.length === 0) {
    await sql`create table ${part} partition of ${table} ${range}`.execute(tx);
    return 0;
  }
  // PostgreSQL refuses a partition while DEFAULT holds rows of its range: move them over, then attach.
  await sql`create table ${part} (like ${table} including defaults including constraints)`.execute(tx);
  const moved = await sql`with gone as (delete from ${def} where ${col} >= ${start} and ${col} < ${end} returning *)
    insert into ${part} select * from gone`.execute(tx);
  await sql`alter table ${table} attach partition ${part} ${range}`.execute(tx);
  return Number(moved.numAffectedRows ?? 0n);
}
