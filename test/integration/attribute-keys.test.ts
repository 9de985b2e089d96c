import { Migrator, sql, type Kysely } from 'kysely';
import { describe, expect, it } from 'vitest';
import { peopleExportCsv } from '../../src/queries/people-export.js';
import { attributeKeysStore } from '../../src/store/attribute-keys.js';
import { openStore, type Store } from '../../src/store/database.js';
import { migrateToLatest, migrations } from '../../src/store/migrations/index.js';
import type { Attributes } from '../../src/domain/attributes.js';
import { newCioId, peopleStore } from '../../src/store/people.js';
import { writeTransaction } from '../../src/store/write-transaction.js';
import { tempRosterHome } from '../helpers/roster-process.js';
import { useStore } from '../helpers/store.js';

/**
 * attribute_keys: every attribute name a workspace's people have been given, so an export of every attribute names
 * its columns without reading every person first. Written with the people, remembered per process only once
 * committed, filled by migration 0014 from the people already stored.
 */

const t = useStore('roster-attribute-keys-');

const stored = async (db: Kysely<unknown> | Store['writer'], workspacePk: number) =>
  (
    await sql<{ key: string }>`select key from attribute_keys where workspace_pk = ${workspacePk} order by key`.execute(
      db,
    )
  ).rows.map((r) => r.key);

const person = (workspacePk: number, id: string, attributes: Attributes) => ({
  workspacePk,
  cioId: newCioId(),
  id,
  email: null,
  emailKey: null,
  attributes,
  timestamps: {},
  unsubscribed: false,
  createdAt: 1_700_000_000,
  updatedAt: 1_700_000_000_000,
});

describe('attribute_keys', () => {
  it('people writes record their attribute names, per workspace; an export of everyone has them as columns', async () => {
    await writeTransaction(t.store.writer, async (trx) => {
      await peopleStore.insert(trx, person(101, 'a', { plan: 'pro', 'first name': 'Ann' }), null);
      await peopleStore.insert(trx, person(102, 'b', { other: 1 }), null);
    });
    expect(await stored(t.store.writer, 101)).toEqual(['first name', 'plan']);
    expect(await stored(t.store.writer, 102)).toEqual(['other']);

    // An update adds the names it brings; a name no one has any more stays a column ("every key the workspace has
    // seen"), as the person holding it is deleted.
    const before = (await peopleStore.findByRef(t.store.writer, 101, { kind: 'id', value: 'a' }))!;
    await writeTransaction(t.store.writer, (trx) =>
      peopleStore.update(trx, { ...before, attributes: { ...before.attributes, zeta: true } }, null, before),
    );
    await writeTransaction(t.store.writer, (trx) =>
      peopleStore.insert(trx, person(101, 'gone', { only_here: 1 }), null),
    );
    const gone = (await peopleStore.findByRef(t.store.writer, 101, { kind: 'id', value: 'gone' }))!;
    await writeTransaction(t.store.writer, (trx) => peopleStore.deleteCascade(trx, 101, gone.pk));
    const { csv } = await peopleExportCsv(t.store.reader, 101, { kind: 'and', children: [] }, null);
    let text = '';
    for await (const piece of csv) text += String(piece);
    expect(text.split('\r\n')[0]).toBe(
      'cio_id,id,email,created_at,updated_at,unsubscribed,first name,only_here,plan,zeta',
    );
    expect(text.split('\r\n')[1]).toMatch(/^\w+,a,,1700000000,1700000000,false,Ann,,pro,true$/);
  });

  it('a rolled-back write is not remembered: the next write of the same name stores it', async () => {
    await expect(
      writeTransaction(t.store.writer, async (trx) => {
        await attributeKeysStore.note(trx, 103, ['rolled']);
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    expect(await stored(t.store.writer, 103)).toEqual([]);
    await writeTransaction(t.store.writer, (trx) => attributeKeysStore.note(trx, 103, ['rolled']));
    expect(await stored(t.store.writer, 103)).toEqual(['rolled']);
  });

  it('a committed name is remembered by this t.store only, not by another t.store with the same workspace pk', async () => {
    await writeTransaction(t.store.writer, (trx) => attributeKeysStore.note(trx, 104, ['kept']));
    // Remembered: once the row is gone, this t.store does not write it again (the cache is what saves the insert).
    await sql`delete from attribute_keys where workspace_pk = 104`.execute(t.store.writer);
    await writeTransaction(t.store.writer, (trx) => attributeKeysStore.note(trx, 104, ['kept']));
    expect(await stored(t.store.writer, 104)).toEqual([]);

    const otherHome = await tempRosterHome('roster-attribute-keys-other-');
    const other = await openStore({ dataDir: otherHome.dataDir, databaseUrl: otherHome.env.DATABASE_URL });
    try {
      await writeTransaction(other.writer, (trx) => attributeKeysStore.note(trx, 104, ['kept']));
      expect(await stored(other.writer, 104)).toEqual(['kept']);
    } finally {
      await other.close();
      await otherHome.remove();
    }
  });

  it('migration 0014 fills the table from the people already stored', async () => {
    const oldHome = await tempRosterHome('roster-attribute-keys-0014-');
    const old = await openStore(
      { dataDir: oldHome.dataDir, databaseUrl: oldHome.env.DATABASE_URL },
      { migrate: false },
    );
    try {
      const raw = old.writer as unknown as Kysely<unknown>;
      const before = Object.fromEntries(Object.entries(migrations).filter(([name]) => name < '0014'));
      const migrationTableSchema =
        old.dialect === 'postgres'
          ? (await sql<{ s: string }>`select current_schema() as s`.execute(raw)).rows[0]!.s
          : undefined;
      const migrator = new Migrator({
        db: raw,
        provider: { getMigrations: async () => before },
        allowUnorderedMigrations: true,
        migrationTableSchema,
      });
      expect((await migrator.migrateToLatest()).error).toBeUndefined();
      await sql`insert into people (workspace_pk, cio_id, id, attributes, attribute_ts, unsubscribed, created_at_s,
          updated_at) values (1, 'c1', 'p1', '{"b":1,"a":"x"}', '{}', 0, 1, 1),
          (1, 'c2', 'p2', '{"a":2,"c":null}', '{}', 0, 1, 1), (2, 'c3', 'p3', '{"d":{"e":1}}', '{}', 0, 1, 1),
          (2, 'c4', 'p4', '{}', '{}', 0, 1, 1)`.execute(raw);
      expect(await migrateToLatest(raw)).toEqual(Object.keys(migrations).filter((name) => name >= '0014'));
      expect(await stored(raw, 1)).toEqual(['a', 'b', 'c']);
      expect(await stored(raw, 2)).toEqual(['d']);
    } finally {
      await old.close();
      await oldHome.remove();
    }
  });
});
