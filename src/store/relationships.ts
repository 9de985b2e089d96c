import type { Attributes } from '../domain/attributes.js';
import type { Db } from './types.js';

/** A relationship's stored attributes. */
export interface RelationshipRecord {
  attributes: Attributes;
  /** Unix ms. */
  updatedAt: number;
}

/** One of a person's relationships, with the object it names. */
export interface PersonRelationshipRow {
  objectPk: number;
  typeId: string;
  objectId: string;
  attributes: Attributes;
}

/** One of an object's relationships, with the person it names. */
export interface ObjectRelationshipRow {
  personPk: number;
  cioId: string;
  id: string | null;
  email: string | null;
  attributes: Attributes;
}

/** A relationship to an anonymous id, waiting for that id's person. */
export interface PendingRelationshipRow {
  objectPk: number;
  typeId: string;
  objectId: string;
  attributes: Attributes;
}

const parse = (json: string) => JSON.parse(json) as Attributes;

/** Person–object relationships, and those waiting for an anonymous id's person: the one place for their SQL. */
export const relationshipsStore = {
  async find(db: Db, workspacePk: number, personPk: number, objectPk: number): Promise<RelationshipRecord | null> {
    const row = await db
      .selectFrom('relationships')
      .select(['attributes', 'updated_at'])
      .where('workspace_pk', '=', workspacePk)
      .where('person_pk', '=', personPk)
      .where('object_pk', '=', objectPk)
      .executeTakeFirst();
    return row ? { attributes: parse(row.attributes), updatedAt: Number(row.updated_at) } : null;
  },

  async upsert(
    db: Db,
    workspacePk: number,
    personPk: number,
    objectPk: number,
    attributes: Attributes,
    now: number,
  ): Promise<void> {
    const values = { attributes: JSON.stringify(attributes), updated_at: now };
    await db
      .insertInto('relationships')
      .values({ workspace_pk: workspacePk, person_pk: personPk, object_pk: objectPk, ...values })
      .onConflict((oc) => oc.columns(['workspace_pk', 'person_pk', 'object_pk']).doUpdateSet(values))
      .execute();
  },

  /** Removes one relationship; false when there was none. */
  async delete(db: Db, workspacePk: number, personPk: number, objectPk: number): Promise<boolean> {
    const r = await db
      .deleteFrom('relationships')
      .where('workspace_pk', '=', workspacePk)
      .where('person_pk', '=', personPk)
      .where('object_pk', '=', objectPk)
      .executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  },

  /** Everyone related to the object (pks only), for recording an object's deletion on each of them. */
  async personPksOf(db: Db, workspacePk: number, objectPk: number): Promise<number[]> {
    const rows = await db
      .selectFrom('relationships')
      .select('person_pk')
      .where('workspace_pk', '=', workspacePk)
      .where('object_pk', '=', objectPk)
      .execute();
    return rows.map((r) => r.person_pk);
  },

  /** Merge: the secondary's relationships go to the primary, except to objects the primary is already related to. */
  async moveToPerson(db: Db, workspacePk: number, fromPk: number, toPk: number): Promise<void> {
    await db
      .deleteFrom('relationships')
      .where('workspace_pk', '=', workspacePk)
      .where('person_pk', '=', fromPk)
      .where('object_pk', 'in', (eb) =>
        eb
          .selectFrom('relationships as kept')
          .select('kept.object_pk')
          .where('kept.workspace_pk', '=', workspacePk)
          .where('kept.person_pk', '=', toPk),
      )
      .execute();
    await db
      .updateTable('relationships')
      .set({ person_pk: toPk })
      .where('workspace_pk', '=', workspacePk)
      .where('person_pk', '=', fromPk)
      .execute();
  },

  /** A person's relationships by object pk, after `afterObjectPk`, at most `limit`. */
  async listForPerson(
    db: Db,
    workspacePk: number,
    personPk: number,
    limit: number,
    afterObjectPk = 0,
  ): Promise<PersonRelationshipRow[]> {
    const rows = await db
      .selectFrom('relationships as r')
      .innerJoin('objects as o', 'o.pk', 'r.object_pk')
      .select(['r.object_pk', 'o.object_type_id', 'o.object_id', 'r.attributes'])
      .where('r.workspace_pk', '=', workspacePk)
      .where('r.person_pk', '=', personPk)
      .where('r.object_pk', '>', afterObjectPk)
      .orderBy('r.object_pk')
      .limit(limit)
      .execute();
    return rows.map((r) => ({
      objectPk: r.object_pk,
      typeId: r.object_type_id,
      objectId: r.object_id,
      attributes: parse(r.attributes),
    }));
  },

  /** An object's relationships by person pk, after `afterPersonPk`, at most `limit`. */
  async listForObject(
    db: Db,
    workspacePk: number,
    objectPk: number,
    limit: number,
    afterPersonPk = 0,
  ): Promise<ObjectRelationshipRow[]> {
    const rows = await db
      .selectFrom('relationships as r')
      .innerJoin('people as p', 'p.pk', 'r.person_pk')
      .select(['r.person_pk', 'p.cio_id', 'p.id', 'p.email', 'r.attributes'])
      .where('r.workspace_pk', '=', workspacePk)
      .where('r.object_pk', '=', objectPk)
      .where('r.person_pk', '>', afterPersonPk)
      .orderBy('r.person_pk')
      .limit(limit)
      .execute();
    return rows.map((r) => ({
      personPk: r.person_pk,
      cioId: r.cio_id,
      id: r.id,
      email: r.email,
      attributes: parse(r.attributes),
    }));
  },

  /** Deletes up to `limit` pending relationships last touched before `cutoff`; returns how many. */
  async purgePendingBefore(db: Db, workspacePk: number, cutoff: number, limit: number): Promise<number> {
    const r = await db
      .deleteFrom('pending_relationships')
      .where(({ eb, refTuple, selectFrom }) =>
        eb(
          refTuple('workspace_pk', 'anonymous_id', 'object_pk'),
          'in',
          selectFrom('pending_relationships')
            .select(['workspace_pk', 'anonymous_id', 'object_pk'])
            .where('workspace_pk', '=', workspacePk)
            .where('updated_at', '<', cutoff)
            .limit(limit)
            .$asTuple('workspace_pk', 'anonymous_id', 'object_pk'),
        ),
      )
      .executeTakeFirst();
    return Number(r.numDeletedRows);
  },

  async findPending(db: Db, workspacePk: number, anonymousId: string, objectPk: number): Promise<Attributes | null> {
    const row = await db
      .selectFrom('pending_relationships')
      .select('attributes')
      .where('workspace_pk', '=', workspacePk)
      .where('anonymous_id', '=', anonymousId)
      .where('object_pk', '=', objectPk)
      .executeTakeFirst();
    return row ? parse(row.attributes) : null;
  },

  async upsertPending(
    db: Db,
    workspacePk: number,
    anonymousId: string,
    objectPk: number,
    attributes: Attributes,
    now: number,
  ): Promise<void> {
    const values = { attributes: JSON.stringify(attributes), updated_at: now };
    await db
      .insertInto('pending_relationships')
      .values({ workspace_pk: workspacePk, anonymous_id: anonymousId, object_pk: objectPk, ...values })
      .onConflict((oc) => oc.columns(['workspace_pk', 'anonymous_id', 'object_pk']).doUpdateSet(values))
      .execute();
  },

  async deletePending(db: Db, workspacePk: number, anonymousId: string, objectPk: number): Promise<boolean> {
    const r = await db
      .deleteFrom('pending_relationships')
      .where('workspace_pk', '=', workspacePk)
      .where('anonymous_id', '=', anonymousId)
      .where('object_pk', '=', objectPk)
      .executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  },

  /** Removes and returns everything waiting for the anonymous id (it now belongs to a person). */
  async takePending(db: Db, workspacePk: number, anonymousId: string): Promise<PendingRelationshipRow[]> {
    const rows = await db
      .selectFrom('pending_relationships as r')
      .innerJoin('objects as o', 'o.pk', 'r.object_pk')
      .select(['r.object_pk', 'o.object_type_id', 'o.object_id', 'r.attributes'])
      .where('r.workspace_pk', '=', workspacePk)
      .where('r.anonymous_id', '=', anonymousId)
      .orderBy('r.object_pk')
      .execute();
    if (rows.length > 0)
      await db
        .deleteFrom('pending_relationships')
        .where('workspace_pk', '=', workspacePk)
        .where('anonymous_id', '=', anonymousId)
        .execute();
    return rows.map((r) => ({
      objectPk: r.object_pk,
      typeId: r.object_type_id,
      objectId: r.object_id,
      attributes: parse(r.attributes),
    }));
  },
};
