import type { Selectable } from 'kysely';
import { randomFillSync } from 'node:crypto';
import type { Attributes, AttributeTimestamps } from '../domain/attributes.js';
import { normalizeEmail, type Reference } from '../domain/identifiers.js';
import type { PersonIdentity } from '../domain/identify.js';
import type { PeopleTable } from './schema.js';
import { PreparedFamily, PreparedQuery } from './prepared.js';
import { lockRows, type Db } from './types.js';

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

// Random bytes drawn 4 KB at a time: one randomBytes call per person was a visible share of ingest time.
const pool = Buffer.alloc(4096);
let poolOffset = pool.length;

/** A new cio_id: 13 base-36 characters from 64 random bits, URL-safe and never derived from the person. */
export function newCioId(): string {
  if (poolOffset + 8 > pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const id = pool.readBigUInt64BE(poolOffset).toString(36).padStart(13, '0');
  poolOffset += 8;
  return id;
}

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

/** Identifiers that name people: ids, normalised emails (email_or_id workspaces), cio_ids, linked anonymous ids. */
export interface PeopleKeys {
  ids: string[];
  emailKeys: string[];
  cioIds: string[];
  anonymousIds: string[];
}

/** People queries and writes: the one place for people SQL. */
export const peopleStore = {
  async findByRef(db: Db, workspacePk: number, ref: Reference): Promise<PersonRecord | null> {
    const value = ref.kind === 'email' ? ref.key : ref.value;
    const row = await (lockRows(db) ? findForUpdate : findBy)[ref.kind].first(db, [workspacePk, value]);
    return row ? toPersonRecord(row) : null;
  },

  /** Locks (PostgreSQL) the people holding any of the keys, in pk order, until the transaction ends. */
  async lockInOrder(db: Db, workspacePk: number, keys: PeopleKeys): Promise<void> {
    const ids = [...new Set(keys.ids)];
    const emailKeys = [...new Set(keys.emailKeys)];
    const cioIds = [...new Set(keys.cioIds)];
    const anonymousIds = [...new Set(keys.anonymousIds)];
    if (ids.length + emailKeys.length + cioIds.length + anonymousIds.length === 0) return;
    await db
      .selectFrom('people')
      .select('pk')
      .where('workspace_pk', '=', workspacePk)
      .where((eb) =>
        eb.or([
          ...(ids.length ? [eb('id', 'in', ids)] : []),
          ...(emailKeys.length ? [eb('email_key', 'in', emailKeys)] : []),
          ...(cioIds.length ? [eb('cio_id', 'in', cioIds)] : []),
          ...(anonymousIds.length
            ? [
                eb(
                  'pk',
                  'in',
                  eb
                    .selectFrom('anonymous_ids')
                    .select('person_pk')
                    .where('workspace_pk', '=', workspacePk)
                    .where('anonymous_id', 'in', anonymousIds),
                ),
              ]
            : []),
        ]),
      )
      .orderBy('pk')
      .forUpdate()
      .execute();
  },

  /** Locks the person's row until the transaction ends (PostgreSQL); false when they are gone. */
  async lockByPk(db: Db, pk: number): Promise<boolean> {
    const row = await db.selectFrom('people').select('pk').where('pk', '=', pk).forUpdate().executeTakeFirst();
    return row !== undefined;
  },

  async findByPk(db: Db, pk: number): Promise<PersonRecord | null> {
    const row = await db.selectFrom('people').selectAll().where('pk', '=', pk).executeTakeFirst();
    return row ? toPersonRecord(row) : null;
  },

  /** Everyone whose email matches, in either workspace mode (several people in id_only workspaces). */
  async findAllByEmail(db: Db, workspacePk: number, emailNorm: string): Promise<PersonRecord[]> {
    const byKey = await peopleStore.findByRef(db, workspacePk, { kind: 'email', value: emailNorm, key: emailNorm });
    if (byKey) return [byKey];
    // id_only workspaces: email is an attribute, and several people may share it (partial index, email_key null).
    const rows = await db
      .selectFrom('people')
      .selectAll()
      .where('workspace_pk', '=', workspacePk)
      .where('email_key', 'is', null)
      .where('email_norm', '=', emailNorm)
      .orderBy('pk')
      .limit(1000)
      .execute();
    return rows.map(toPersonRecord);
  },

  async insert(db: Db, p: Omit<PersonRecord, 'pk'>, emailNorm: string | null): Promise<number> {
    const row = toRow(p, emailNorm);
    const result = await insertPerson.first(
      db,
      personColumns.map((c) => row[c]),
    );
    return Number(result!.pk);
  },

  /**
   * Writes the person's row, setting only the columns that differ from `before`: SQLite rewrites every index whose
   * column is SET, even to the same value, so an attribute change must not touch the identifier indexes.
   */
  async update(db: Db, p: PersonRecord, emailNorm: string | null, before?: PersonRecord): Promise<void> {
    const row = toRow(p, emailNorm);
    const old = before ? toRow(before, before.email === null ? null : normalizeEmail(before.email)) : undefined;
    const changed = personColumns.filter((c) => c !== 'workspace_pk' && c !== 'cio_id' && (!old || old[c] !== row[c]));
    if (changed.length === 0) return;
    await updatePerson.get(changed.join(',')).run(db, [...changed.map((c) => row[c]), p.pk]);
  },

  /** Removes the person and everything that hangs off them, in the caller's transaction. */
  async deleteCascade(db: Db, workspacePk: number, pk: number): Promise<void> {
    await db.deleteFrom('events').where('workspace_pk', '=', workspacePk).where('person_pk', '=', pk).execute();
    await db.deleteFrom('activities').where('workspace_pk', '=', workspacePk).where('person_pk', '=', pk).execute();
    await db.deleteFrom('devices').where('workspace_pk', '=', workspacePk).where('person_pk', '=', pk).execute();
    await db.deleteFrom('anonymous_ids').where('workspace_pk', '=', workspacePk).where('person_pk', '=', pk).execute();
    await db.deleteFrom('relationships').where('workspace_pk', '=', workspacePk).where('person_pk', '=', pk).execute();
    await db
      .deleteFrom('segment_members')
      .where('workspace_pk', '=', workspacePk)
      .where('person_pk', '=', pk)
      .execute();
    await db.deleteFrom('people').where('pk', '=', pk).execute();
  },
};

type PersonRow = Omit<Selectable<PeopleTable>, 'pk'>;
const personColumns = [
  'workspace_pk',
  'cio_id',
  'id',
  'email',
  'email_norm',
  'email_key',
  'attributes',
  'attribute_ts',
  'unsubscribed',
  'created_at_s',
  'updated_at',
] as const satisfies readonly (keyof PersonRow)[];

function toRow(p: Omit<PersonRecord, 'pk'>, emailNorm: string | null): PersonRow {
  return {
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
  };
}

// The hot-path statements, compiled once (see prepared.ts); parameters follow the column order above.
const findByColumn = (column: 'cio_id' | 'id' | 'email_key', forUpdate: boolean) =>
  new PreparedQuery((db) =>
    db
      .selectFrom('people')
      .selectAll()
      .where('workspace_pk', '=', 0)
      .where(column, '=', '')
      .$if(forUpdate, (q) => q.forUpdate()),
  );
const findBy = {
  cio_id: findByColumn('cio_id', false),
  id: findByColumn('id', false),
  email: findByColumn('email_key', false),
};
// Inside a PostgreSQL write transaction the row is locked as it is read: a concurrent writer in another process
// waits and then reads the committed result, instead of both merging into the same old attributes (lost update).
const findForUpdate = {
  cio_id: findByColumn('cio_id', true),
  id: findByColumn('id', true),
  email: findByColumn('email_key', true),
};

const placeholderRow = Object.fromEntries(personColumns.map((c) => [c, null])) as unknown as PersonRow;
const insertPerson = new PreparedQuery((db) => db.insertInto('people').values(placeholderRow).returning('pk'));
const updatePerson = new PreparedFamily((db, key) =>
  db
    .updateTable('people')
    .set(Object.fromEntries(key.split(',').map((c) => [c, null])) as Partial<PersonRow>)
    .where('pk', '=', 0),
);
