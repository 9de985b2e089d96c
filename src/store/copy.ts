import { sql, type Kysely } from 'kysely';
import type { Store } from './database.js';
import { ensureMonthlyPartitions, monthStart } from './partitions.js';
import type { Database } from './schema.js';

/** Tables PostgreSQL derives from others rather than copies: event_ids holds the ids of the events copied. */
type DerivedTable = 'event_ids';

/**
 * Every table, in the order it is copied (workspaces before the api_keys that reference them), with the columns of
 * its primary key: rows are read in that order and the copy resumes after the last key it read. Typed by Database,
 * so a table added to schema.ts without being added here fails to compile.
 */
export const tableKeys: Record<Exclude<keyof Database, DerivedTable>, readonly string[]> = {
  workspaces: ['pk'],
  api_keys: ['pk'],
  people: ['pk'],
  events: ['pk'],
  activities: ['pk'],
  anonymous_ids: ['workspace_pk', 'anonymous_id'],
  devices: ['workspace_pk', 'token'],
  suppressions: ['workspace_pk', 'kind', 'value'],
  integration_log: ['pk'],
  segment_messages: ['workspace_pk', 'message_id'],
  objects: ['pk'],
  relationships: ['workspace_pk', 'person_pk', 'object_pk'],
  pending_relationships: ['workspace_pk', 'anonymous_id', 'object_pk'],
  jobs: ['pk'],
  segments: ['pk'],
  segment_members: ['segment_pk', 'person_pk'],
  exports: ['pk'],
  export_chunks: ['export_pk', 'seq'],
  attribute_keys: ['workspace_pk', 'key'],
};

/** The tables `copyStore` copies, in order. */
export const copiedTables = Object.keys(tableKeys) as (keyof typeof tableKeys)[];

/** Tables and columns by name, for queries whose table is a variable. */
type AnyDatabase = Record<string, Record<string, unknown>>;

/** PostgreSQL takes at most 65535 bind parameters in one statement. */
const maxParameters = 65_535;

/** Where one table's copy stands. */
export interface TableProgress {
  table: string;
  /** Rows read from the source and sent to the target so far. */
  copied: number;
  /** Of those, rows the target did not have yet (the rest were there from an earlier run). */
  inserted: number;
  /** Rows in the source (in the snapshot being copied). */
  total: number;
  done: boolean;
}

/** One table's rows on each side once the copy finished. */
export interface TableCount {
  table: string;
  source: number;
  target: number;
}

/** The copy would mix two Roster databases: refused before a row is written. */
export class CopyRefused extends Error {}

/**
 * Copies every table of a SQLite store into a migrated PostgreSQL store, keeping primary keys. Reads one snapshot of
 * the source (a single read transaction), writes `batchSize` rows per INSERT … ON CONFLICT DO NOTHING, so a re-run
 * after an interruption fills in what is missing without duplicating anything. Then moves every identity sequence
 * past the largest key and returns the row counts on both sides.
 */
export async function copyStore(
  source: Store,
  target: Store,
  opts: { batchSize: number; onProgress?: (p: TableProgress) => void },
): Promise<TableCount[]> {
  const src = source.reader as unknown as Kysely<AnyDatabase>;
  const dst = target.writer as unknown as Kysely<AnyDatabase>;
  const columnCounts = new Map(
    (await source.reader.introspection.getTables()).map((t) => [t.name, t.columns.length] as const),
  );

  const sourceCounts = await src.transaction().execute(async (snapshot) => {
    await refuseForeignWorkspaces(snapshot, dst);
    // Each month of history gets its partition before its rows arrive (they would sit in DEFAULT otherwise).
    const oldest = await sql<{ ms: number | null }>`select min(ms) as ms from (select min(received_at) as ms
      from events union all select min(ts) from activities) as t`.execute(snapshot);
    const from = oldest.rows[0]?.ms;
    if (from !== null && from !== undefined) {
      const now = Date.now();
      // At most ten years of months; anything older stays in DEFAULT.
      await ensureMonthlyPartitions(dst, { now, from: Math.max(Number(from), monthStart(now, -120)) });
    }
    const counts = new Map<string, number>();
    for (const table of copiedTables) {
      const key = tableKeys[table];
      const columns = columnCounts.get(table) ?? 1;
      const limit = Math.max(1, Math.min(opts.batchSize, Math.floor(maxParameters / columns)));
      const { n } = await snapshot
        .selectFrom(table)
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow();
      const progress: TableProgress = { table, copied: 0, inserted: 0, total: Number(n), done: false };
      counts.set(table, progress.total);
      opts.onProgress?.(progress);
      let after: unknown[] | null = null;
      for (;;) {
        let query = snapshot.selectFrom(table).selectAll();
        if (after !== null) query = query.where(afterKey(key, after));
        for (const column of key) query = query.orderBy(sql.ref(column));
        const rows = await query.limit(limit).execute();
        if (rows.length === 0) break;
        const result = await dst
          .insertInto(table)
          .values(rows)
          .onConflict((oc) => oc.doNothing())
          .executeTakeFirst();
        progress.copied += rows.length;
        progress.inserted += Number(result.numInsertedOrUpdatedRows ?? 0);
        opts.onProgress?.(progress);
        if (rows.length < limit) break;
        const last = rows[rows.length - 1]!;
        after = key.map((column) => last[column]);
      }
      progress.done = true;
      opts.onProgress?.(progress);
    }
    return counts;
  });

  // Event ids are unique in event_ids on PostgreSQL: record those of the events copied (again after a re-run).
  await sql`insert into event_ids (workspace_pk, event_id) select workspace_pk, event_id from events
    where event_id is not null on conflict do nothing`.execute(dst);

  // Identity columns are `generated by default`: explicit keys went in as they were, and the next generated key
  // must come after the largest one.
  for (const table of copiedTables) {
    if (tableKeys[table].join() !== 'pk') continue;
    await sql`select setval(pg_get_serial_sequence(${table}, 'pk'), coalesce(max(pk), 0) + 1, false) from ${sql.table(table)}`.execute(
      dst,
    );
  }

  const counts: TableCount[] = [];
  for (const table of copiedTables) {
    const { n } = await dst
      .selectFrom(table)
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    counts.push({ table, source: sourceCounts.get(table) ?? 0, target: Number(n) });
  }
  return counts;
}

/** `(k1, k2, …) > (v1, v2, …)`: the rows after the last one read, in key order (SQLite has row values since 3.15). */
function afterKey(key: readonly string[], values: unknown[]) {
  return sql<boolean>`(${sql.join(key.map((column) => sql.ref(column)))}) > (${sql.join(values)})`;
}

/**
 * A target that already holds a workspace the source does not have (same pk and public id) belongs to another
 * Roster, e.g. one started on the empty database before the copy: copying would silently skip the source's rows
 * whose keys collide and attach the rest to the wrong workspace. An empty target, or one from an earlier run of
 * this copy, passes.
 */
async function refuseForeignWorkspaces(src: Kysely<AnyDatabase>, dst: Kysely<AnyDatabase>): Promise<void> {
  const read = (db: Kysely<AnyDatabase>) =>
    db.selectFrom('workspaces').select(['pk', 'public_id', 'name']).orderBy('pk').execute();
  const ours = new Set((await read(src)).map((w) => `${String(w.pk)}:${String(w.public_id)}`));
  const foreign = (await read(dst)).filter((w) => !ours.has(`${String(w.pk)}:${String(w.public_id)}`));
  if (foreign.length > 0)
    throw new CopyRefused(
      `The target database already holds ${foreign.length} workspace(s) that are not in the source ` +
        `(${foreign.map((w) => `${String(w.public_id)} "${String(w.name)}"`).join(', ')}). ` +
        'Copy into an empty database or schema (or one only this copy has written to).',
    );
}
