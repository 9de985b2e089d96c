import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isStaleResultType, NulSafeClient } from '../../src/store/pg-client.js';
import { isRetryableConflict } from '../../src/store/types.js';
import { freshPostgresSchema, testBackend } from '../helpers/backend.js';

/**
 * The PostgreSQL client every store connection uses: NULs in parameters become U+FFFD, and a statement Kysely runs
 * again and again (text and parameters, as `query(text, values)`) is prepared on the connection from its third run,
 * so PostgreSQL stops parsing and planning it each time.
 */
describe.runIf(testBackend === 'postgres')('NulSafeClient (PostgreSQL)', () => {
  let schema: Awaited<ReturnType<typeof freshPostgresSchema>>;
  let client: pg.Client; // a NulSafeClient, typed as the pg.Client it is

  beforeAll(async () => {
    schema = await freshPostgresSchema();
    client = new NulSafeClient({ connectionString: schema.url }) as unknown as pg.Client;
    await client.connect();
    await client.query('create table notes (id int primary key, body text not null)');
  });
  afterAll(async () => {
    await client.end();
    await schema.drop();
  });

  const prepared = async () =>
    (await client.query<{ statement: string }>('select statement from pg_prepared_statements')).rows.map(
      (r) => r.statement,
    );

  it('prepares a statement with parameters from its third run, and answers it the same before and after', async () => {
    const text = `insert into notes (id, body) values ($1, $2) returning id, body`;
    const answers = [];
    for (let i = 1; i <= 4; i++) {
      answers.push((await client.query(text, [i, `note ${i}`])).rows);
      expect((await prepared()).includes(text)).toBe(i >= 3);
    }
    expect(answers).toEqual([1, 2, 3, 4].map((i) => [{ id: i, body: `note ${i}` }]));
  });

  it('keeps a statement without parameters on the simple protocol, unprepared', async () => {
    const text = 'select 7 as n';
    for (let i = 0; i < 4; i++) expect((await client.query(text, [])).rows).toEqual([{ n: 7 }]);
    expect(await prepared()).not.toContain(text);
  });

  it('after a migration changes what a prepared statement returns, only the next run fails; the one after works', async () => {
    await client.query('create table tags (name text not null)');
    await client.query(`insert into tags values ('a')`);
    const text = 'select * from tags where name = $1';
    for (let i = 0; i < 3; i++) expect((await client.query(text, ['a'])).rows).toEqual([{ name: 'a' }]);
    expect(await prepared()).toContain(text);
    // As migration 0016 did to people's identifier columns (from another connection, as another process would).
    const other = new NulSafeClient({ connectionString: schema.url }) as unknown as pg.Client;
    await other.connect();
    await other.query('alter table tags alter column name type text collate "C"');
    await other.end();
    const stale = await client.query(text, ['a']).catch((err: unknown) => err);
    expect(isStaleResultType(stale)).toBe(true);
    expect(isRetryableConflict(stale)).toBe(true);
    for (let i = 0; i < 2; i++) expect((await client.query(text, ['a'])).rows).toEqual([{ name: 'a' }]);
  });

  it('replaces NUL in parameters, prepared or not, scalars and arrays alike', async () => {
    const text = `select $1::text as one, $2::text[] as many`;
    for (let i = 0; i < 4; i++) {
      const { rows } = await client.query(text, ['a\u0000b', ['c\u0000d', null]]);
      expect(rows).toEqual([{ one: 'a\ufffdb', many: ['c\ufffdd', null] }]);
    }
    expect(await prepared()).toContain(text);
  });
});
