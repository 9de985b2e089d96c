import type { DevicePayload } from '../domain/devices.js';
import type { Db } from './types.js';

/** A device as read back. */
export interface DeviceRecord {
  id: string;
  platform: string;
  last_used: number | null;
  attributes: Record<string, unknown>;
}

/** Push devices: a token belongs to one person per workspace; adding it elsewhere moves it. */
export const devicesStore = {
  async upsert(db: Db, workspacePk: number, personPk: number, d: DevicePayload, now: number): Promise<void> {
    const values = {
      person_pk: personPk,
      platform: d.platform,
      last_used_s: d.lastUsed ?? Math.floor(now / 1000),
      attributes: JSON.stringify(d.attributes),
      updated_at: now,
    };
    await db
      .insertInto('devices')
      .values({ workspace_pk: workspacePk, token: d.token, ...values })
      .onConflict((oc) => oc.columns(['workspace_pk', 'token']).doUpdateSet(values))
      .execute();
  },

  /** Deletes the person's device; false when they had no such device. */
  async delete(db: Db, workspacePk: number, personPk: number, token: string): Promise<boolean> {
    const r = await db
      .deleteFrom('devices')
      .where('workspace_pk', '=', workspacePk)
      .where('person_pk', '=', personPk)
      .where('token', '=', token)
      .executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  },

  async moveToPerson(db: Db, workspacePk: number, fromPk: number, toPk: number): Promise<void> {
    await db
      .updateTable('devices')
      .set({ person_pk: toPk })
      .where('workspace_pk', '=', workspacePk)
      .where('person_pk', '=', fromPk)
      .execute();
  },

  async listForPerson(db: Db, workspacePk: number, personPk: number): Promise<DeviceRecord[]> {
    const rows = await db
      .selectFrom('devices')
      .select(['token', 'platform', 'last_used_s', 'attributes'])
      .where('workspace_pk', '=', workspacePk)
      .where('person_pk', '=', personPk)
      .orderBy('token')
      .execute();
    return rows.map((r) => ({
      id: r.token,
      platform: r.platform,
      last_used: r.last_used_s === null ? null : Number(r.last_used_s),
      attributes: JSON.parse(r.attributes) as Record<string, unknown>,
    }));
  },
};
