import type { Selectable } from 'kysely';
import type { Attributes, AttributeTimestamps } from '../domain/attributes.js';
import type { ObjectRef } from '../domain/objects.js';
import type { ObjectsTable } from './schema.js';
import { lockRows, type Db } from './types.js';

/** An object as the services see it. */
export interface ObjectRecord {
  pk: number;
  workspacePk: number;
  typeId: string;
  objectId: string;
  attributes: Attributes;
  timestamps: AttributeTimestamps;
  /** Unix seconds. */
  createdAt: number;
  /** Unix ms. */
  updatedAt: number;
}

function toObjectRecord(row: Selectable<ObjectsTable>): ObjectRecord {
  return {
    pk: row.pk,
    workspacePk: row.workspace_pk,
    typeId: row.object_type_id,
    objectId: row.object_id,
    attributes: JSON.parse(row.attributes) as Attributes,
    timestamps: JSON.parse(row.attribute_ts) as AttributeTimestamps,
    createdAt: Number(row.created_at_s),
    updatedAt: Number(row.updated_at),
  };
}

/** Objects queries and writes: the one place for objects SQL. Relationships live in relationships.ts. */
export const objectsStore = {
  async find(db: Db, workspacePk: number, ref: ObjectRef): Promise<ObjectRecord | null> {
    const row = await db
      .selectFrom('objects')
      .selectAll()
      .where('workspace_pk', '=', workspacePk)
      .where('object_type_id', '=', ref.typeId)
      .where('object_id', '=', ref.objectId)
      .$if(lockRows(db), (q) => q.forUpdate())
      .executeTakeFirst();
    return row ? toObjectRecord(row) : null;
  },

  async insert(db: Db, o: Omit<ObjectRecord, 'pk'>): Promise<number> {
    const result = await db
      .insertInto('objects')
      .values({
        workspace_pk: o.workspacePk,
        object_type_id: o.typeId,
        object_id: o.objectId,
        attributes: JSON.stringify(o.attributes),
        attribute_ts: JSON.stringify(o.timestamps),
        created_at_s: o.createdAt,
        updated_at: o.updatedAt,
      })
      .returning('pk')
      .executeTakeFirstOrThrow();
    return Number(result.pk);
  },

  async update(db: Db, o: ObjectRecord): Promise<void> {
    await db
      .updateTable('objects')
      .set({
        attributes: JSON.stringify(o.attributes),
        attribute_ts: JSON.stringify(o.timestamps),
        created_at_s: o.createdAt,
        updated_at: o.updatedAt,
      })
      .where('pk', '=', o.pk)
      .execute();
  },

  /** Removes the object with its relationships (to people and to anonymous ids), in the caller's transaction. */
  async deleteCascade(db: Db, workspacePk: number, pk: number): Promise<void> {
    await db.deleteFrom('relationships').where('workspace_pk', '=', workspacePk).where('object_pk', '=', pk).execute();
    await db
      .deleteFrom('pending_relationships')
      .where('workspace_pk', '=', workspacePk)
      .where('object_pk', '=', pk)
      .execute();
    await db.deleteFrom('objects').where('pk', '=', pk).execute();
  },
};
