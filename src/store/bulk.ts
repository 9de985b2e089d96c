import { CompiledQuery } from 'kysely';
import { pgColumnParam, pgColumns } from './pg-arrays.js';
import { onPostgres, type Db } from './types.js';

/** A table that takes rows many at a time: its columns in order, with their PostgreSQL types (for unnest). */
export interface BulkTable {
  table: string;
  columns: readonly string[];
  pgTypes: readonly string[];
  /** Drop rows a unique index already holds (events by event id, remembered message ids). */
  ignoreDuplicates?: boolean;
  /** PostgreSQL: a statement of its own instead of the plain insert, taking the same column arrays. */
  pgStatement?: string;
}

// SQLite: multi-row VALUES in a few fixed sizes, so each size's statement is prepared once and cached by its text.
// `insert or fail`: a statement that may stop halfway with ABORT (any NOT NULL or unique column) makes SQLite copy
// every page it changes to a statement journal first, spilled to a temporary file past 64 KB; FAIL keeps the rows
// before the failing one instead, which the transaction's rollback undoes (bulkInsert runs only in transactions).
// That journal was half of the writer's write() calls; the Segment mix went 8% faster without it.
const sqliteChunks = [256, 64, 16, 4, 1];
// PostgreSQL: one statement of column arrays takes any number of rows; this bounds the size of one message.
const pgChunk = 5000;

const quote = (name: string) => `"${name}"`;
const sqliteText = new Map<string, string>();
const pgText = new Map<string, string>();

function sqliteInsert(t: BulkTable, rows: number): string {
  const key = `${t.table}:${rows}`;
  let text = sqliteText.get(key);
  if (text === undefined) {
    const tuple = `(${t.columns.map(() => '?').join(',')})`;
    text =
      `insert or fail into ${quote(t.table)} (${t.columns.map(quote).join(',')}) values ` +
      Array.from({ length: rows }, () => tuple).join(',') +
      (t.ignoreDuplicates ? ' on conflict do nothing' : '');
    sqliteText.set(key, text);
  }
  return text;
}

function pgInsert(t: BulkTable): string {
  let text = t.pgStatement ?? pgText.get(t.table);
  if (text === undefined) {
    text = pgInsertText(t, 1, null);
    pgText.set(t.table, text);
  }
  return text;
}

/** `insert … select * from unnest(column arrays)`, its parameters numbered from `first`, rows kept only if `guard`. */
function pgInsertText(t: BulkTable, first: number, guard: string | null): string {
  const arrays = t.pgTypes.map((type, i) => pgColumnParam(type, i + first)).join(',');
  return (
    `insert into ${quote(t.table)} (${t.columns.map(quote).join(',')}) select * from unnest(${arrays})` +
    (guard === null ? '' : ` as v where ${guard}`) +
    (t.ignoreDuplicates ? ' on conflict do nothing' : '')
  );
}

/**
 * PostgreSQL: one data-modifying statement of a combined write (see pgWriteTogether): its text, given the number of
 * its first parameter and a condition to add to its WHERE (null for none), and its parameters.
 */
export interface PgWrite {
  key: string;
  text(first: number, guard: string | null): string;
  params: unknown[];
}

/** A bulk insert of the rows as a PgWrite (tables without a statement of their own only). */
export function pgInsertWrite(t: BulkTable, rows: readonly (readonly unknown[])[]): PgWrite {
  if (t.pgStatement) throw new Error(`${t.table} has a statement of its own`);
  return {
    key: t.table,
    text: (first, guard) => pgInsertText(t, first, guard),
    params: pgColumns(rows, t.pgTypes),
  };
}

const togetherText = new Map<string, string>();

/**
 * PostgreSQL: runs the writes in one statement, one round trip instead of one each: each is a CTE, and each after
 * the first writes nothing before the one before it has written everything (its WHERE waits on that one's row
 * count), so they apply in the order given, as separate statements would. Foreign keys are checked at the end of
 * the statement, after all of them.
 */
export async function pgWriteTogether(db: Db, writes: readonly PgWrite[]): Promise<void> {
  if (writes.length === 0) return;
  if (writes.length === 1) {
    await db.executeQuery(CompiledQuery.raw(writes[0]!.text(1, null), writes[0]!.params));
    return;
  }
  const key = writes.map((w) => `${w.key}:${w.params.length}`).join(',');
  let text = togetherText.get(key);
  if (text === undefined) {
    let first = 1;
    const ctes = writes.map((w, i) => {
      const guard = i === 0 ? null : `(select count(*) from w${i - 1}) >= 0`;
      const cte = `w${i} as (${w.text(first, guard)} returning 1)`;
      first += w.params.length;
      return cte;
    });
    text = `with ${ctes.join(', ')} select count(*) as n from w${writes.length - 1}`;
    togetherText.set(key, text);
  }
  await db.executeQuery(
    CompiledQuery.raw(
      text,
      writes.flatMap((w) => w.params),
    ),
  );
}

/**
 * Inserts the rows (each in column order) in as few statements as the dialect allows, in order: on both dialects
 * rows get ascending keys in the order given, so a person's activity keeps its order. Returns how many rows were
 * stored (fewer than given when duplicates were dropped). On SQLite only inside a transaction: a statement that fails
 * keeps the rows before the failing one (see sqliteChunks) until the transaction rolls back.
 */
export async function bulkInsert(db: Db, t: BulkTable, rows: readonly (readonly unknown[])[]): Promise<number> {
  if (!db.isTransaction && !onPostgres(db)) throw new Error(`bulkInsert into ${t.table} outside a transaction`);
  if (rows.length === 0) return 0;
  let stored = 0;
  if (onPostgres(db)) {
    for (let i = 0; i < rows.length; i += pgChunk) {
      const chunk = rows.slice(i, i + pgChunk);
      const r = await db.executeQuery(CompiledQuery.raw(pgInsert(t), pgColumns(chunk, t.pgTypes)));
      stored += Number(r.numAffectedRows ?? 0n);
    }
    return stored;
  }
  let i = 0;
  for (const size of sqliteChunks) {
    while (rows.length - i >= size) {
      const params: unknown[] = [];
      for (let r = i; r < i + size; r++) for (const v of rows[r]!) params.push(v);
      const r = await db.executeQuery(CompiledQuery.raw(sqliteInsert(t, size), params));
      stored += Number(r.numAffectedRows ?? 0n);
      i += size;
    }
  }
  return stored;
}
