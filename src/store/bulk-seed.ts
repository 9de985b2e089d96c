import type { Insertable } from 'kysely';
import { attributeKeysStore } from './attribute-keys.js';
import type { EventsTable, PeopleTable } from './schema.js';
import { onPostgres, type Db } from './types.js';

/**
 * Multi-row inserts for benchmark fixtures (bench/seed-people.mjs): rows go straight into the tables, skipping the
 * identity rules, the suppression check and the activity feed. Never used by the APIs; the caller owns the
 * consistency of what it writes (unique ids and email keys, existing person pks).
 */
export const bulkSeedStore = {
  /** Inserts people rows (and their attribute names); returns their pks in the same order. */
  async insertPeople(db: Db, rows: Insertable<PeopleTable>[]): Promise<number[]> {
    const keys = new Map<number, Set<string>>();
    for (const row of rows) {
      let set = keys.get(row.workspace_pk);
      if (set === undefined) keys.set(row.workspace_pk, (set = new Set()));
      for (const key of Object.keys(JSON.parse(row.attributes) as object)) set.add(key);
    }
    for (const [workspacePk, set] of keys) await attributeKeysStore.note(db, workspacePk, set);
    const pks: number[] = [];
    for (const chunk of chunks(rows, rowsPerStatement(db, 11))) {
      const inserted = await db.insertInto('people').values(chunk).returning('pk').execute();
      // Keys are drawn in VALUES order (rowid / identity); RETURNING's own order is not promised, so sort.
      pks.push(...inserted.map((r) => Number(r.pk)).sort((a, b) => a - b));
    }
    return pks;
  },

  async insertEvents(db: Db, rows: Insertable<EventsTable>[]): Promise<void> {
    for (const chunk of chunks(rows, rowsPerStatement(db, 10))) await db.insertInto('events').values(chunk).execute();
  },
};

// SQLite allows 32,766 bound parameters per statement, PostgreSQL 65,535.
const rowsPerStatement = (db: Db, columns: number) => Math.floor((onPostgres(db) ? 60_000 : 30_000) / columns);

function* chunks<T>(rows: T[], size: number): Generator<T[]> {
  for (let i = 0; i < rows.length; i += size) yield rows.slice(i, i + size);
}
