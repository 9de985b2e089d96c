import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { testBackend } from '../helpers/backend.js';
import { useStore } from '../helpers/store.js';

/**
 * PostgreSQL: people's identifier columns compare as bytes (collation "C", migration 0016), as on SQLite, and the
 * writer's lookups by a list of ids or email keys (text[] parameters, which carry the database's collation) still
 * search their indexes.
 */
const t = useStore('roster-byte-order-');

describe.runIf(testBackend === 'postgres')('people identifier columns in byte order (PostgreSQL)', () => {
  it('id, email_key, email_norm and cio_id have collation "C"', async () => {
    const { rows } = await sql<{ column_name: string; collation_name: string | null }>`select column_name,
        collation_name from information_schema.columns
        where table_schema = current_schema() and table_name = 'people' and data_type = 'text'
        order by column_name`.execute(t.store.reader);
    const collations = Object.fromEntries(rows.map((r) => [r.column_name, r.collation_name]));
    expect(collations).toMatchObject({ id: 'C', email_key: 'C', email_norm: 'C', cio_id: 'C' });
  });

  it('a lookup by a text[] of ids or of email keys searches its index', async () => {
    // Inside a transaction that is rolled back: 5,000 people and their statistics, so the plan is the one a real
    // workspace gets (on an empty table either plan costs the same).
    const plans = await t.store.writer.connection().execute(async (db) => {
      await sql`begin`.execute(db);
      try {
        await sql`insert into people (workspace_pk, cio_id, id, email, email_norm, email_key, attributes, attribute_ts,
            unsubscribed, created_at_s, updated_at)
          select 1, 'c' || g, 'u' || g, 'u' || g || '@x.io', 'u' || g || '@x.io', 'u' || g || '@x.io', '{}', '{}', 0,
            0, 0 from generate_series(1, 5000) g`.execute(db);
        await sql`analyze people`.execute(db);
        const explain = async (column: 'id' | 'email_key', values: string[]) =>
          (
            await sql<{ 'QUERY PLAN': string }>`explain select pk from people where workspace_pk = 1
              and ${sql.ref(column)} is not null and ${sql.ref(column)} = any(${values}::text[])`.execute(db)
          ).rows
            .map((r) => r['QUERY PLAN'])
            .join('\n');
        return { id: await explain('id', ['u1', 'u2']), email: await explain('email_key', ['u3@x.io']) };
      } finally {
        await sql`rollback`.execute(db);
      }
    });
    expect(plans.id).toMatch(/people_id\b[\s\S]*Index Cond: .*id = ANY/);
    expect(plans.email).toMatch(/people_email_key\b[\s\S]*Index Cond: .*email_key = ANY/);
  });
});
