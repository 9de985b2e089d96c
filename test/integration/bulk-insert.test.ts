import { describe, expect, it } from 'vitest';
import { bulkInsert } from '../../src/store/bulk.js';
import { newCioId, peopleStore } from '../../src/store/people.js';
import { activityTable } from '../../src/store/unit-of-work.js';
import { writeTransaction } from '../../src/store/write-transaction.js';
import { useStore } from '../helpers/store.js';

/**
 * bulkInsert's SQLite statements are `insert or fail` (no statement journal): a statement that fails keeps the rows
 * before the failing one until the transaction rolls back. So on SQLite it refuses to run outside a transaction
 * (PostgreSQL's statements are atomic anyway), and a failed batch leaves nothing behind on either backend.
 */

const t = useStore('roster-bulk-insert-');
const ws = 3;

async function person(): Promise<number> {
  return writeTransaction(t.store.writer, async (trx) => {
    return peopleStore.insert(
      trx,
      {
        workspacePk: ws,
        cioId: newCioId(),
        id: `p-${Math.random()}`,
        email: null,
        emailKey: null,
        attributes: {},
        timestamps: {},
        unsubscribed: false,
        createdAt: 1_700_000_000,
        updatedAt: 1_700_000_000_000,
      },
      null,
    );
  });
}

const rowsFor = (personPk: number, n: number, badAt?: number) =>
  Array.from({ length: n }, (_, i) => [ws, personPk, i === badAt ? null : 'attribute_change', `a${i}`, '{}', i]);

const activitiesOf = async (personPk: number) =>
  (
    await t.store.reader
      .selectFrom('activities')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('person_pk', '=', personPk)
      .executeTakeFirstOrThrow()
  ).n;

describe('bulkInsert', () => {
  it('refuses to write outside a transaction on SQLite', async () => {
    const pk = await person();
    const alone = bulkInsert(t.store.writer, activityTable, rowsFor(pk, 3));
    if (t.store.dialect === 'sqlite') {
      await expect(alone).rejects.toThrow(/outside a transaction/);
      expect(Number(await activitiesOf(pk))).toBe(0);
    } else {
      expect(await alone).toBe(3);
      expect(Number(await activitiesOf(pk))).toBe(3);
    }
  });

  it('a row that fails halfway through a multi-row statement leaves none of the batch once it rolls back', async () => {
    const pk = await person();
    // 70 rows go as statements of 64, 4, 1 and 1 rows on SQLite: row 40 fails inside the 64-row one.
    await expect(
      writeTransaction(t.store.writer, (trx) => bulkInsert(trx, activityTable, rowsFor(pk, 70, 40))),
    ).rejects.toThrow(/null/i);
    expect(Number(await activitiesOf(pk))).toBe(0);
    const stored = await writeTransaction(t.store.writer, (trx) => bulkInsert(trx, activityTable, rowsFor(pk, 70)));
    expect(stored).toBe(70);
    expect(Number(await activitiesOf(pk))).toBe(70);
  });
});
