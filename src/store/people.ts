import type { Selectable } from 'kysely';
import { randomBytes } from 'node:crypto';
import type { Attributes, AttributeTimestamps } from '../domain/attributes.js';
import type { Reference } from '../domain/identifiers.js';
import type { PersonIdentity } from '../domain/identify.js';
import type { PeopleTable } from './schema.js';
import type { Db } from './types.js';

/** A person as the services see it. */
export interface PersonRecord {
  pk: number;
  workspacePk: number;
  cioId: string;
  id: string | null;
  email: string | null;
  emailKey: string | null;
  attributes: Attributes;
  timestamps: AttributeTimestamps;
  unsubscribed: boolean;
  /** Unix seconds. */
  createdAt: number;
  /** Unix ms. */
  updatedAt: number;
}

/** A new cio_id: 13 base-36 characters from 64 random bits, URL-safe and never derived from the person. */
export const newCioId = (): string => randomBytes(8).readBigUInt64BE().toString(36).padStart(13, '0');

export function toPersonRecord(row: Selectable<PeopleTable>): PersonRecord {
  return {
    pk: row.pk,
    workspacePk: row.workspace_pk,
    cioId: row.cio_id,
    id: row.id,
    email: row.email,
    emailKey: row.email_key,
    attributes: JSON.parse(row.attributes) as Attributes,
    timestamps: JSON.parse(row.attribute_ts) as AttributeTimestamps,
    unsubscribed: row.unsubscribed === 1,
    createdAt: Number(row.created_at_s),
    updatedAt: Number(row.updated_at),
  };
}

/** The identifiers of a person, as the identify decision table reads them. */
export const identityOf = (p: PersonRecord): PersonIdentity => ({ pk: p.pk, id: p.id, emailKey: p.emailKey });

/** People queries and writes: the one place for people SQL. */
export const peopleStore = {
  async findByRef(db: Db, workspacePk: number, ref: Reference): Promise<PersonRecord | null> {
    const column = ref.kind === 'cio_id' ? 'cio_id' : ref.kind === 'id' ? 'id' : 'email_key';
    const value = ref.kind === 'email' ? ref.key : ref.value;
    const row = await db
      .selectFrom('people')
      .selectAll()
      .where('workspace_pk', '=', workspacePk)
      .where(column, '=', value)
      .executeTakeFirst();
    return row ? toPersonRecord(row) : null;
  },

  async findByPk(db: Db, pk: number): Promise<PersonRecord | null> {
    const row = await db.selectFrom('people').selectAll().where('pk', '=', pk).executeTakeFirst();
    return row ? toPersonRecord(row) : null;
  },

  /** Everyone whose email matches, in either workspace mode (several people in id_only workspaces). */
  async findAllByEmail(db: Db, workspacePk: number, emailNorm: string): Promise<PersonRecord[]> {
    const rows = await db
      .selectFrom('people')
      .selectAll()
      .where('workspace_pk', '=', workspacePk)
      .where('email_norm', '=', emailNorm)
      .orderBy('pk')
      .limit(1000)
      .execute();
    return rows.map(toPersonRecord);
  },

  async insert(db: Db, p: Omit<PersonRecord, 'pk'>, emailNorm: string | null): Promise<number> {
    const result = await db
      .insertInto('people')
      .values({
        workspace_pk: p.workspacePk,
        cio_id: p.cioId,
        id: p.id,
        email: p.email,
        email_norm: emailNorm,
        email_key: p.emailKey,
        attributes: JSON.stringify(p.attributes),
        attribute_ts: JSON.stringify(p.timestamps),
        unsubscribed: p.unsubscribed ? 1 : 0,
        created_at_s: p.createdAt,
        updated_at: p.updatedAt,
      })
      .executeTakeFirstOrThrow();
    return Number(result.insertId);
  },

  async update(db: Db, p: PersonRecord, emailNorm: string | null): Promise<void> {
    await db
      .updateTable('people')
      .set({
        id: p.id,
        email: p.email,
        email_norm: emailNorm,
        email_key: p.emailKey,
        attributes: JSON.stringify(p.attributes),
        attribute_ts: JSON.stringify(p.timestamps),
        unsubscribed: p.unsubscribed ? 1 : 0,
        created_at_s: p.createdAt,
        updated_at: p.updatedAt,
      })
      .where('pk', '=', p.pk)
      .execute();
  },

  /** Removes the person and everything that hangs off them, in the caller's transaction. */
  async deleteCascade(db: Db, workspacePk: number, pk: number): Promise<void> {
    await db.deleteFrom('events').where('workspace_pk', '=', workspacePk).where('person_pk', '=', pk).execute();
    await db.deleteFrom('activities').where('workspace_pk', '=', workspacePk).where('person_pk', '=', pk).execute();
    await db.deleteFrom('devices').where('workspace_pk', '=', workspacePk).where('person_pk', '=', pk).execute();
    await db.deleteFrom('anonymous_ids').where('workspace_pk', '=', workspacePk).where('person_pk', '=', pk).execute();
    await db.deleteFrom('relationships').where('workspace_pk', '=', workspacePk).where('person_pk', '=', pk).execute();
    await db.deleteFrom('people').where('pk', '=', pk).execute();
  },
};
