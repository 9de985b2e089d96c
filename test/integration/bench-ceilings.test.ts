import BetterSqlite3 from 'better-sqlite3';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { freshPostgresSchema, testBackend } from '../helpers/backend.js';

/**
 * The benchmark's storage ceilings (bench/sqlite-ceiling.mjs, bench/pg-ceiling.mjs) write into Roster's own people
 * table, made by Roster's migrations (dist/, which `npm test` builds first), so their ratios compare like with like:
 * a ceiling on a table with fewer indexes than Roster's (as both had after migration 0013) is a faster ceiling.
 * Each runs for a moment on its backend; the rows land in a table with Roster's indexes.
 */
const run = promisify(execFile);
const root = new URL('../..', import.meta.url).pathname;
const rosterPeopleIndexes = [
  'people_cio_id',
  'people_email_key',
  'people_email_norm',
  'people_id',
  'people_workspace_pk',
];

describe.runIf(testBackend === 'sqlite')('Ceiling B (SQLite)', () => {
  it("upserts into Roster's people table", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'roster-ceiling-b-'));
    try {
      const file = join(dir, 'ceiling.sqlite');
      const { stdout } = await run(process.execPath, ['bench/sqlite-ceiling.mjs', file, '0', '0.3', '100'], {
        cwd: root,
      });
      const result = JSON.parse(stdout) as { rows: number; rowsPerSecond: number };
      expect(result.rows).toBeGreaterThan(0);
      const db = new BetterSqlite3(file, { readonly: true });
      try {
        const indexes = db
          .prepare(`select name from sqlite_master where type = 'index' and tbl_name = 'people' and sql is not null`)
          .pluck()
          .all();
        expect([...indexes].sort()).toEqual(rosterPeopleIndexes);
        // Half the ids are new: every row written was an insert or an update of one.
        const people = db.prepare('select count(*) from people').pluck().get() as number;
        expect(people).toBeGreaterThan(result.rows / 4);
        expect(people).toBeLessThanOrEqual(result.rows);
      } finally {
        db.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});

describe.runIf(testBackend === 'postgres')('Ceiling C (PostgreSQL)', () => {
  it("upserts into Roster's people table over each connection count", async () => {
    const schema = await freshPostgresSchema();
    try {
      const { stdout } = await run(process.execPath, ['bench/pg-ceiling.mjs', schema.url, '0', '0.3', '100', '1,2'], {
        cwd: root,
      });
      const result = JSON.parse(stdout) as { tries: { connections: number; rows: number }[] };
      expect(result.tries.map((t) => t.connections)).toEqual([1, 2]);
      for (const t of result.tries) expect(t.rows).toBeGreaterThan(0);
      const client = new pg.Client(schema.url);
      await client.connect();
      try {
        const indexes = await client.query<{ indexname: string }>(
          `select indexname from pg_indexes where schemaname = current_schema() and tablename = 'people'
            and indexname <> 'people_pkey' order by indexname`,
        );
        expect(indexes.rows.map((r) => r.indexname)).toEqual(rosterPeopleIndexes);
        const options = await client.query<{ reloptions: string[] | null }>(
          `select reloptions from pg_class where oid = 'people'::regclass`,
        );
        expect(options.rows[0]!.reloptions).toContain('fillfactor=85');
        const people = await client.query<{ n: string }>('select count(*) as n from people');
        expect(Number(people.rows[0]!.n)).toBeGreaterThan(0);
      } finally {
        await client.end();
      }
    } finally {
      await schema.drop();
    }
  }, 60_000);
});
