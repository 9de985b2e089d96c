import type { Selectable } from 'kysely';
import { randomFillSync } from 'node:crypto';
import type { Attributes, AttributeTimestamps } from '../domain/attributes.js';
import { normalizeEmail, type Reference } from '../domain/identifiers.js';
import type { PersonIdentity } from '../domain/identify.js';
import type { Database, PeopleTable } from './schema.js';
import { PreparedFamily, PreparedQuery } from './prepared.js';
import { keyList, lockRows, onPostgres, type Db } from './types.js';
import { peoplePkSequence, unitOf, type PersonKeyKind, type TableRows, type UnitPerson } from './unit-of-work.js';
import { attributeKeysStore } from './attribute-keys.js';
import { jsonLines, pgArray, pgColumnParam, pgColumns } from './pg-arrays.js';
import { bulkInsert, pgInsertWrite, pgWriteTogether, type BulkTable, type PgWrite } from './bulk.js';
import { eventsStore } from './events.js';
import type { SuppressionKey } from './suppressions.js';
import { sql, type ExpressionBuilder } from 'kysely';

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

const timeChars = 5;
const timeRange = 36 ** timeChars; // seconds: wraps every ~700 days
const randomRange = 36n ** 8n; // 8 base-36 characters: 41.4 random bits

/**
 * A new cio_id: 13 base-36 characters, URL-safe and never derived from the person: 5 from the second it was made
 * (wrapping every ~700 days), 8 from 41 random bits. The time first keeps each second's new ids next to each other
 * in the people_cio_id index: with 64 random bits every new person dirtied a leaf page of that index somewhere
 * else, and a commit wrote them all to the WAL (writes of 400 new people per transaction into a 400,000-person
 * table took 30 µs a row against 10 µs time-ordered). Two people made in the same second share an id with
 * probability n² / 2^42.4 (n people that second); the writer re-runs a batch whose insert lost that draw.
 */
export function newCioId(now = Date.now()): string {
  if (poolOffset + 8 > pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const random = pool.readBigUInt64BE(poolOffset) % randomRange;
  poolOffset += 8;
  const time = Math.floor(now / 1000) % timeRange;
  return time.toString(36).padStart(timeChars, '0') + random.toString(36).padStart(8, '0');
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

/** A person's row as an array, in recordColumns' order: how the SQLite prefetch reads them (no row objects). */
const recordColumns = [
  'pk',
  'workspace_pk',
  'cio_id',
  'id',
  'email',
  'email_key',
  'attributes',
  'attribute_ts',
  'unsubscribed',
  'created_at_s',
  'updated_at',
] as const;
type RecordRow = readonly [
  pk: number,
  workspacePk: number,
  cioId: string,
  id: string | null,
  email: string | null,
  emailKey: string | null,
  attributes: string,
  attributeTs: string,
  unsubscribed: number,
  createdAtS: number,
  updatedAt: number,
];

// toPersonRecord's rules, by position. Building the row object toPersonRecord reads (and reading the column list from
// personColumns, email_norm included) made the Segment mix 3–5% slower in process, so the two mappings stay apart.
const recordOf = (r: RecordRow): PersonRecord => ({
  pk: r[0],
  workspacePk: r[1],
  cioId: r[2],
  id: r[3],
  email: r[4],
  emailKey: r[5],
  attributes: JSON.parse(r[6]) as Attributes,
  timestamps: JSON.parse(r[7]) as AttributeTimestamps,
  unsubscribed: r[8] === 1,
  createdAt: Number(r[9]),
  updatedAt: Number(r[10]),
});

/**
 * SQLite: everyone in a workspace holding one of a kind of key, as array rows (recordColumns). Parameters: the
 * workspace pk, the keys as a JSON array (keyList). Building a row object per person cost a batch's read of its
 * people a third of its time.
 */
const holdersOf = (column: 'id' | 'email_key' | 'cio_id') =>
  new PreparedQuery((db) =>
    db
      .selectFrom('people')
      .select([...recordColumns])
      .where('workspace_pk', '=', 0)
      .where(column, 'in', sql<string>`(select value from json_each(${'[]'}))`),
  );
const holders = { id: holdersOf('id'), email_key: holdersOf('email_key'), cio_id: holdersOf('cio_id') };

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
    const unit = unitOf(db);
    const known = unit?.person(workspacePk, ref.kind, value);
    if (known !== undefined) return known;
    const row = await (lockRows(db) ? findForUpdate : findBy)[ref.kind].first(db, [workspacePk, value]);
    if (!unit) return row ? toPersonRecord(row) : null;
    if (!row) {
      unit.rememberAbsent(workspacePk, ref.kind, value);
      return null;
    }
    const person = unit.current(toPersonRecord(row));
    unit.remember(person);
    return person;
  },

  /**
   * Reads (and on PostgreSQL locks, in pk order) everyone holding one of the keys, into the transaction's unit of
   * work, which then also knows which of the keys no one holds. One query for a whole batch. On PostgreSQL the same
   * round trips read which of `suppressions` are suppressed and allocate the keys of the people the unit may create.
   */
  async prefetch(db: Db, workspacePk: number, keys: PeopleKeys, suppressions: SuppressionKey[] = []): Promise<void> {
    const unit = unitOf(db);
    const ids = [...new Set(keys.ids)];
    const emailKeys = [...new Set(keys.emailKeys)];
    const cioIds = [...new Set(keys.cioIds)];
    const anonymousIds = [...new Set(keys.anonymousIds)];
    if (ids.length + emailKeys.length + cioIds.length + anonymousIds.length === 0) return;
    let people: PersonRecord[];
    if (lockRows(db)) {
      // PostgreSQL: one statement, so the rows are locked in one pk order.
      const held = await lockHolders(
        db,
        workspacePk,
        { ids, emailKeys, cioIds, anonymousIds },
        unit ? suppressions : [],
        unit?.pksWanted() ?? 0,
      );
      people = held.rows.map(toPersonRecord);
      if (unit) {
        unit.providePks(held.pks);
        for (const k of suppressions) unit.rememberSuppression(workspacePk, k.kind, k.value, false);
        for (const [kind, value] of held.suppressed) unit.rememberSuppression(workspacePk, kind, value, true);
      }
    } else {
      // SQLite (no locks): one query per kind of key, since it answers an OR of IN lists by scanning the workspace.
      const holding = async (column: keyof typeof holders, values: string[]) =>
        values.length === 0
          ? []
          : (await holders[column].arrays<RecordRow>(db, [workspacePk, JSON.stringify(values)])).map(recordOf);
      people = [
        ...(await holding('id', ids)),
        ...(await holding('email_key', emailKeys)),
        ...(await holding('cio_id', cioIds)),
        ...(anonymousIds.length
          ? (await peopleHolding(db, workspacePk, { anonymousIds }).execute()).map(toPersonRecord)
          : []),
      ];
    }
    if (!unit) return;
    for (const person of people) unit.remember(unit.current(person));
    const absent = (kind: PersonKeyKind, values: string[]) => {
      for (const v of values) unit.rememberAbsent(workspacePk, kind, v);
    };
    absent('id', ids);
    absent('email', emailKeys);
    absent('cio_id', cioIds);
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
  /**
   * The identifiers of everyone with this (normalised) email, in pk order: the holder of the email key, or in id_only
   * workspaces, where email is an attribute and several people may share it, everyone with that email. One statement
   * through the two partial indexes, and only the columns the answer needs (`GET /v1/customers?email=`).
   */
  async identifiersByEmail(db: Db, workspacePk: number, emailNorm: string) {
    const rows = await peopleByEmail.arrays<[number, string | null, string | null, string]>(db, [
      workspacePk,
      emailNorm,
      workspacePk,
      emailNorm,
    ]);
    return rows.map(([pk, email, id, cioId]) => ({ pk: Number(pk), email, id, cio_id: cioId }));
  },

  async insert(db: Db, p: Omit<PersonRecord, 'pk'>, emailNorm: string | null): Promise<number> {
    const unit = unitOf(db);
    if (unit) return unit.create(p, emailNorm);
    const row = toRow(p, emailNorm);
    const result = await insertPerson.first(
      db,
      personColumns.map((c) => row[c]),
    );
    await attributeKeysStore.note(db, p.workspacePk, Object.keys(p.attributes));
    return Number(result!.pk);
  },

  /**
   * Writes the person's row, setting only the columns that differ from `before`: SQLite rewrites every index whose
   * column is SET, even to the same value, so an attribute change must not touch the identifier indexes.
   */
  async update(db: Db, p: PersonRecord, emailNorm: string | null, before?: PersonRecord): Promise<void> {
    const unit = unitOf(db);
    if (unit && before) return unit.update(p, emailNorm, before);
    const changed = await writeChangedColumns(db, p, emailNorm, before);
    if (changed.includes('attributes')) await attributeKeysStore.note(db, p.workspacePk, Object.keys(p.attributes));
  },

  /**
   * Writes a unit of work's people: the new ones in multi-row inserts with the pks the unit gave them, then the
   * changed ones (PostgreSQL: one UPDATE from column arrays; SQLite: one cached UPDATE each, of changed columns).
   */
  async writeUnit(db: Db, created: UnitPerson[], updated: UnitPerson[], after: TableRows[]): Promise<void> {
    const createdRows = () =>
      created.map((c) => {
        const row = toRow(c.now, c.emailNorm);
        return [c.now.pk, ...personColumns.map((col) => row[col])];
      });
    // Updates first: an identifier a changed person gave up may have been taken by a new one.
    if (onPostgres(db)) {
      // One statement, in this order: updates, creations, then the other tables' rows (activities point at people).
      const writes: PgWrite[] = [];
      if (updated.length > 0) {
        const rows = updated.map((u) => {
          const row = toRow(u.now, u.emailNorm);
          return [u.now.pk, ...mutableColumns.map((c) => row[c])];
        });
        writes.push({ key: 'people:update', text: pgBulkUpdate, params: pgColumns(rows, updateTypes) });
      }
      if (created.length > 0) writes.push(pgInsertWrite(peopleTable, createdRows()));
      for (const [table, rows] of after) writes.push(pgInsertWrite(table, rows));
      await pgWriteTogether(db, writes);
    } else {
      for (const u of updated) await writeChangedColumns(db, u.now, u.emailNorm, u.before ?? undefined);
      if (created.length > 0) await bulkInsert(db, peopleTable, createdRows());
      for (const [table, rows] of after) await bulkInsert(db, table, rows);
    }
    // Only names a person did not have before: the ones they had are recorded already (or by migration 0014).
    const keys = new Map<number, Set<string>>();
    for (const list of [updated, created])
      for (const { now, before } of list)
        for (const key in now.attributes) {
          if (before !== null && Object.hasOwn(before.attributes, key)) continue;
          let set = keys.get(now.workspacePk);
          if (set === undefined) keys.set(now.workspacePk, (set = new Set()));
          set.add(key);
        }
    for (const [workspacePk, set] of keys) await attributeKeysStore.note(db, workspacePk, set);
  },

  /** Removes the person and everything that hangs off them, in the caller's transaction. */
  async deleteCascade(db: Db, workspacePk: number, pk: number): Promise<void> {
    await eventsStore.deleteForPerson(db, workspacePk, pk);
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

const mutableColumns = personColumns.filter((c) => c !== 'workspace_pk' && c !== 'cio_id');
const pgTypes: Record<(typeof personColumns)[number], string> = {
  workspace_pk: 'int',
  cio_id: 'text',
  id: 'text',
  email: 'text',
  email_norm: 'text',
  email_key: 'text',
  attributes: jsonLines,
  attribute_ts: jsonLines,
  unsubscribed: 'int',
  created_at_s: 'bigint',
  updated_at: 'bigint',
};
const updateTypes = ['bigint', ...mutableColumns.map((c) => pgTypes[c])];
const peopleTable: BulkTable = {
  table: 'people',
  columns: ['pk', ...personColumns],
  pgTypes: ['bigint', ...personColumns.map((c) => pgTypes[c])],
};
const pgBulkUpdate = (first: number, guard: string | null) =>
  `update people as p set ${mutableColumns.map((c) => `"${c}" = v."${c}"`).join(', ')} ` +
  `from unnest($${first}::bigint[], ${mutableColumns.map((c, i) => pgColumnParam(pgTypes[c], i + first + 1)).join(', ')}) ` +
  `as v(pk, ${mutableColumns.map((c) => `"${c}"`).join(', ')}) where p.pk = v.pk` +
  (guard === null ? '' : ` and ${guard}`);

/**
 * PostgreSQL: first takes an advisory lock for each id and email the keys name (hash buckets, in bucket order), then
 * reads and locks everyone holding one of the keys (one statement, pk order). A process about to create a person
 * under an id or email, or to give one to someone, holds its bucket until it commits, so another process naming the
 * same id waits and then finds the person, instead of creating them too and failing on the unique index (which,
 * batch after batch, could fail every time). Both lock steps go in one fixed order, buckets then rows, so processes
 * queue instead of deadlocking. The first statement also allocates `pkCount` person keys; the second also reads which
 * of `suppressions` are suppressed: two round trips in all.
 */
async function lockHolders(
  db: Db,
  workspacePk: number,
  keys: PeopleKeys,
  suppressions: SuppressionKey[],
  pkCount: number,
): Promise<{ rows: Selectable<PeopleTable>[]; suppressed: [string, string][]; pks: number[] }> {
  const lockKeys = [...keys.ids.map((v) => `id:${v}`), ...keys.emailKeys.map((v) => `email:${v}`)];
  let pks: number[] = [];
  if (lockKeys.length + pkCount > 0) {
    const r = await sql<{
      pks: string[];
    }>`select (select count(*) from (select pg_advisory_xact_lock(${workspacePk}::int4, b)
        from (select distinct (hashtextextended(k, 0) & ${identifierBuckets - 1})::int4 as b
          from unnest(${pgArray(lockKeys)}::text[]) as k order by b offset 0) as buckets) as locked) as locked,
      array(select nextval(${peoplePkSequence})::int8 from generate_series(1, ${pkCount}::int)) as pks`.execute(db);
    pks = r.rows[0]!.pks.map(Number);
  }
  const holds = [
    ...(keys.ids.length ? [sql`(id is not null and id = any(${pgArray(keys.ids)}::text[]))`] : []),
    ...(keys.emailKeys.length
      ? [sql`(email_key is not null and email_key = any(${pgArray(keys.emailKeys)}::text[]))`]
      : []),
    ...(keys.cioIds.length ? [sql`cio_id = any(${pgArray(keys.cioIds)}::text[])`] : []),
    ...(keys.anonymousIds.length
      ? [
          sql`pk in (select person_pk from anonymous_ids where workspace_pk = ${workspacePk}
            and anonymous_id = any(${pgArray(keys.anonymousIds)}::text[]))`,
        ]
      : []),
  ];
  const suppressedIds = suppressions.filter((k) => k.kind === 'id').map((k) => k.value);
  const suppressedEmails = suppressions.filter((k) => k.kind === 'email').map((k) => k.value);
  // The people as rows, then one more row (every people column null) carrying the suppressed keys: aggregating the
  // people into JSON cost PostgreSQL about 5% of its time under the batch load, for the server to parse it back.
  const r = await sql<Selectable<PeopleTable> & { suppressed: [string, string][] | null }>`with held as materialized (
      select * from people where workspace_pk = ${workspacePk} and (${sql.join(holds, sql` or `)})
      order by pk for update)
    select held.*, null::json as suppressed from held
    union all
    select (null::people).*, ${
      suppressions.length === 0
        ? sql`'[]'::json`
        : sql`(select coalesce(json_agg(json_build_array(s.kind, s.value)), '[]'::json) from suppressions s
        where s.workspace_pk = ${workspacePk} and ((s.kind = 'id' and s.value = any(${pgArray(suppressedIds)}::text[]))
          or (s.kind = 'email' and s.value = any(${pgArray(suppressedEmails)}::text[]))))`
    }`.execute(db);
  const rows = r.rows.filter((row) => row.suppressed === null);
  const suppressed = r.rows.find((row) => row.suppressed !== null)?.suppressed ?? [];
  return { rows, suppressed, pks };
}

// Advisory locks per workspace on 2^31 buckets of identifiers (a 31-bit hash). The lock table holds one lock per
// distinct bucket a batch names, however many buckets there are, so only collisions depend on the count: with 2^20,
// two batches of 250 identifies (500 ids and emails each) shared a bucket about one time in five, and the later one
// waited for the earlier to commit for nothing.
const identifierBuckets = 2 ** 31;

/**
 * Everyone with an email (normalised): its email key's holder, and those sharing it as an attribute (id_only
 * workspaces), at most 1,000, oldest first. Parameters: workspace pk, email, workspace pk, email.
 */
const peopleByEmail = new PreparedQuery((db) => {
  const byKey = db
    .selectFrom('people')
    .select(['pk', 'email', 'id', 'cio_id'])
    .where('workspace_pk', '=', 0)
    .where('email_key', '=', '');
  const shared = db
    .selectFrom('people')
    .select(['pk', 'email', 'id', 'cio_id'])
    .where('workspace_pk', '=', 0)
    .where('email_key', 'is', null)
    .where('email_norm', '=', '');
  return byKey.unionAll(shared).orderBy('pk').limit(sql.lit(1000));
});

/**
 * `column in (values)` on a column whose index is partial (`where column is not null`). PostgreSQL proves the
 * index's predicate from an IN list of at most 100 values, so past that the `is not null` is spelled out; SQLite
 * would read that as a range (`column > null`) and scan it, so it gets the IN list alone.
 */
function inList(eb: ExpressionBuilder<Database, 'people'>, db: Db, column: 'id' | 'email_key', values: string[]) {
  const list = eb(column, 'in', keyList(db, values));
  return onPostgres(db) ? eb.and([eb(column, 'is not', null), list]) : list;
}

/**
 * Everyone in the workspace holding one of the keys; in pk order on PostgreSQL, which locks them in that order.
 * (SQLite would read them through the (workspace_pk, pk) index to have them sorted: a scan of the workspace.)
 */
function peopleHolding(db: Db, workspacePk: number, keys: Partial<PeopleKeys>) {
  const { ids = [], emailKeys = [], cioIds = [], anonymousIds = [] } = keys;
  return db
    .selectFrom('people')
    .selectAll()
    .where('workspace_pk', '=', workspacePk)
    .where((eb) =>
      eb.or([
        ...(ids.length ? [inList(eb, db, 'id', ids)] : []),
        ...(emailKeys.length ? [inList(eb, db, 'email_key', emailKeys)] : []),
        ...(cioIds.length ? [eb('cio_id', 'in', keyList(db, cioIds))] : []),
        ...(anonymousIds.length
          ? [
              eb(
                'pk',
                'in',
                eb
                  .selectFrom('anonymous_ids')
                  .select('person_pk')
                  .where('workspace_pk', '=', workspacePk)
                  .where('anonymous_id', 'in', keyList(db, anonymousIds)),
              ),
            ]
          : []),
      ]),
    )
    .$if(onPostgres(db), (q) => q.orderBy('pk'));
}

/** Writes the person's row, setting only the columns that differ from `before` (all when it is missing). */
async function writeChangedColumns(db: Db, p: PersonRecord, emailNorm: string | null, before?: PersonRecord) {
  const row = toRow(p, emailNorm);
  const old = before ? toRow(before, before.email === null ? null : normalizeEmail(before.email)) : undefined;
  const changed = personColumns.filter((c) => c !== 'workspace_pk' && c !== 'cio_id' && (!old || old[c] !== row[c]));
  if (changed.length > 0) await updatePerson.get(changed.join(',')).run(db, [...changed.map((c) => row[c]), p.pk]);
  return changed;
}

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
