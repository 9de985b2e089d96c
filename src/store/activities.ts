import { PreparedQuery } from './prepared.js';
import type { Db } from './types.js';
import { unitOf } from './unit-of-work.js';

// On every identify that changes something: compiled once. Parameters in column order.
const insertActivity = new PreparedQuery((db) =>
  db.insertInto('activities').values({ workspace_pk: 0, person_pk: 0, type: '', name: null, data: '', ts: 0 }),
);

/** Activity types, after Customer.io's activity log. */
export type ActivityType =
  | 'profile_create'
  | 'attribute_change'
  | 'failed_attribute_change'
  | 'merged'
  | 'anon_merge'
  | 'device_update'
  | 'device_delete'
  | 'relationship_add'
  | 'relationship_delete';

/** A person's activity log: append-only. */
export const activitiesStore = {
  async record(
    db: Db,
    workspacePk: number,
    personPk: number,
    type: ActivityType,
    data: Record<string, unknown>,
    ts: number,
    name: string | null = null,
  ): Promise<void> {
    const row = [workspacePk, personPk, type, name, JSON.stringify(data), ts];
    const unit = unitOf(db);
    if (unit) unit.addActivity(row);
    else await insertActivity.run(db, row);
  },

  async moveToPerson(db: Db, workspacePk: number, fromPk: number, toPk: number): Promise<void> {
    await db
      .updateTable('activities')
      .set({ person_pk: toPk })
      .where('workspace_pk', '=', workspacePk)
      .where('person_pk', '=', fromPk)
      .execute();
  },
};
