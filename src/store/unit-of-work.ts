import { sql } from 'kysely';
import { bulkInsert, type BulkTable } from './bulk.js';
import { jsonLines, pgColumnParam } from './pg-arrays.js';
import type { PersonRecord } from './people.js';
import { onPostgres, type Db } from './types.js';

/** The identifier kinds a person is found by: id, normalised email (email_or_id workspaces), cio_id. */
export type PersonKeyKind = 'id' | 'email' | 'cio_id';

/**
 * Values by workspace, kind and identifier. Nested maps rather than one map of `ws\0kind\0value` strings: a batch
 * looks identifiers up several times each, and every lookup built a new key string and hashed it (~3% of the Segment
 * mix's time), where the identifier strings themselves keep their hash once computed.
 */
class KeyedMap<V> {
  private readonly byWorkspace = new Map<number, Map<string, Map<string, V>>>();

  get(workspacePk: number, kind: string, value: string): V | undefined {
    return this.byWorkspace.get(workspacePk)?.get(kind)?.get(value);
  }

  has(workspacePk: number, kind: string, value: string): boolean {
    return this.byWorkspace.get(workspacePk)?.get(kind)?.has(value) ?? false;
  }

  set(workspacePk: number, kind: string, value: string, v: V): void {
    let byKind = this.byWorkspace.get(workspacePk);
    if (byKind === undefined) this.byWorkspace.set(workspacePk, (byKind = new Map()));
    let values = byKind.get(kind);
    if (values === undefined) byKind.set(kind, (values = new Map()));
    values.set(value, v);
  }

  clear(): void {
    this.byWorkspace.clear();
  }
}

/**
 * PostgreSQL: the sequence of people.pk, as an uncorrelated subquery: PostgreSQL looks it up once per statement. Called
 * in each row, `pg_get_serial_sequence` scanned the catalogs each time: 250 keys took 1.7 ms instead of 0.25.
 */
export const peoplePkSequence = sql`(select pg_get_serial_sequence('people', 'pk'))::regclass`;

/** A person written in this unit: as first read (null when created here) and as they are now. */
export interface UnitPerson {
  before: PersonRecord | null;
  now: PersonRecord;
  emailNorm: string | null;
}

/** Rows for a table, written after the people. */
export type TableRows = [BulkTable, unknown[][]];

/**
 * Writes a unit's people: creations (with their allocated pks) and updates, in one go, then the rows of the other
 * tables given (on PostgreSQL all in one statement).
 */
export type PeopleFlusher = (db: Db, created: UnitPerson[], updated: UnitPerson[], after: TableRows[]) => Promise<void>;

export const activityTable: BulkTable = {
  table: 'activities',
  columns: ['workspace_pk', 'person_pk', 'type', 'name', 'data', 'ts'],
  pgTypes: ['int', 'int', 'text', 'text', jsonLines, 'bigint'],
};
const eventPgTypes = ['int', 'int', 'text', 'text', 'text', 'text', jsonLines, 'bigint', 'bigint', 'int'];
export const eventTable: BulkTable = {
  table: 'events',
  columns: [
    'workspace_pk',
    'person_pk',
    'anonymous_id',
    'event_id',
    'type',
    'name',
    'data',
    'ts',
    'received_at',
    'merged',
  ],
  pgTypes: eventPgTypes,
  ignoreDuplicates: true,
  // PostgreSQL: events is partitioned by time, so its event ids are unique in event_ids. The rows whose id that
  // insert takes (the first of each id; rows without an id always) are stored, in the order given.
  pgStatement: `with given as (
      select r.*, row_number() over (partition by r.workspace_pk, r.event_id order by r.n) as nth
      from unnest(${eventPgTypes.map((type, i) => pgColumnParam(type, i + 1)).join(', ')}) with ordinality
        as r(workspace_pk, person_pk, anonymous_id, event_id, type, name, data, ts, received_at, merged, n)),
    taken as (
      insert into event_ids (workspace_pk, event_id) select workspace_pk, event_id from given
      where event_id is not null and nth = 1 on conflict do nothing returning workspace_pk, event_id)
    insert into events (workspace_pk, person_pk, anonymous_id, event_id, type, name, data, ts, received_at, merged)
    select g.workspace_pk, g.person_pk, g.anonymous_id, g.event_id, g.type, g.name, g.data, g.ts, g.received_at,
      g.merged from given g
    where g.event_id is null
      or (g.nth = 1 and exists (select 1 from taken t where t.workspace_pk = g.workspace_pk and t.event_id = g.event_id))
    order by g.n`,
};
export const messageTable: BulkTable = {
  table: 'segment_messages',
  columns: ['workspace_pk', 'message_id', 'received_at'],
  pgTypes: ['int', 'text', 'bigint'],
  ignoreDuplicates: true,
};
export const logTable: BulkTable = {
  table: 'integration_log',
  columns: ['workspace_pk', 'ts', 'surface', 'message_id', 'reference', 'outcome', 'reason'],
  pgTypes: ['int', 'bigint', 'text', 'text', 'text', 'text', 'text'],
};

/**
 * A write transaction's unit of work (the writer's group commit): what it has read, and what it will write.
 *
 * Reads: people by identifier, suppressed identifiers, seen event ids and Segment message ids, each answered from
 * memory once read (or prefetched for the whole batch in one query), including "not there". Writes: new and
 * changed people, activities, events, remembered message ids and integration-log rows are kept and written at
 * the end in a few multi-row statements, before the commit. Within the transaction the unit is the truth: every
 * identifier a person takes or gives up is recorded, so a later command of the batch sees it as the database
 * would. Commands that write any other way (merge, delete, anonymous links, objects) run after `flush()` with the
 * unit detached, and `forget()` then drops what it read.
 */
export class UnitOfWork {
  private readonly people = new KeyedMap<PersonRecord | null>();
  private readonly byPk = new Map<number, PersonRecord>();
  private readonly suppressed = new KeyedMap<boolean>();
  private readonly seenEvents = new KeyedMap<boolean>();
  private readonly seenMessages = new KeyedMap<boolean>();
  private created = new Map<number, UnitPerson>();
  private updated = new Map<number, UnitPerson>();
  private activities: unknown[][] = [];
  private events: unknown[][] = [];
  private messages: unknown[][] = [];
  private log: unknown[][] = [];
  private pks: number[] = [];
  private nextSqlitePk: number | null = null;

  constructor(
    readonly db: Db,
    private readonly flushPeople: PeopleFlusher,
    /** How many people this unit may create, at most: PostgreSQL allocates that many keys at once. */
    private readonly expectedCreates = 16,
  ) {}

  // ---- people ----

  /** The person holding the identifier, null when known to be no one, undefined when not yet read. */
  person(workspacePk: number, kind: PersonKeyKind, value: string): PersonRecord | null | undefined {
    return this.people.get(workspacePk, kind, value);
  }

  /** The unit's version of a person read from the database (it may have changed them since). */
  current(p: PersonRecord): PersonRecord {
    return this.byPk.get(p.pk) ?? p;
  }

  /** Records a person as read, under every identifier they hold. */
  remember(p: PersonRecord): void {
    if (this.byPk.has(p.pk)) return;
    this.byPk.set(p.pk, p);
    this.setKeys(p);
  }

  /** Records that no one holds the identifier. */
  rememberAbsent(workspacePk: number, kind: PersonKeyKind, value: string): void {
    if (!this.people.has(workspacePk, kind, value)) this.people.set(workspacePk, kind, value, null);
  }

  private setKeys(p: PersonRecord): void {
    this.people.set(p.workspacePk, 'cio_id', p.cioId, p);
    if (p.id !== null) this.people.set(p.workspacePk, 'id', p.id, p);
    if (p.emailKey !== null) this.people.set(p.workspacePk, 'email', p.emailKey, p);
  }

  /** A new person, written at flush; returns the pk it will have. */
  async create(p: Omit<PersonRecord, 'pk'>, emailNorm: string | null): Promise<number> {
    const pk = await this.allocatePk();
    const now = { ...p, pk };
    this.created.set(pk, { before: null, now, emailNorm });
    this.byPk.set(pk, now);
    this.setKeys(now);
    return pk;
  }

  /** A changed person, written at flush; identifiers they gave up are free from now on. */
  update(now: PersonRecord, emailNorm: string | null, before: PersonRecord): void {
    const old = this.byPk.get(now.pk) ?? before;
    if (old.id !== null && old.id !== now.id) this.people.set(now.workspacePk, 'id', old.id, null);
    if (old.emailKey !== null && old.emailKey !== now.emailKey)
      this.people.set(now.workspacePk, 'email', old.emailKey, null);
    this.byPk.set(now.pk, now);
    this.setKeys(now);
    const pending = this.created.get(now.pk);
    if (pending)
      Object.assign(pending, { now, emailNorm }); // still to be inserted: insert it as it is now
    else this.updated.set(now.pk, { before: this.updated.get(now.pk)?.before ?? before, now, emailNorm });
  }

  /** PostgreSQL: how many keys to allocate now for the people this unit may create (0 when it has enough). */
  pksWanted(): number {
    return this.pks.length > 0 ? 0 : Math.max(16, this.expectedCreates);
  }

  /** PostgreSQL: keys allocated for the people this unit creates (read along with something else). */
  providePks(pks: readonly number[]): void {
    this.pks.push(...pks);
  }

  private async allocatePk(): Promise<number> {
    if (onPostgres(this.db)) {
      if (this.pks.length === 0) {
        const n = this.pksWanted();
        const r = await sql<{ pk: number }>`select nextval(${peoplePkSequence})::int8 as pk
          from generate_series(1, ${n})`.execute(this.db);
        this.pks = r.rows.map((row) => Number(row.pk));
      }
      return this.pks.shift()!;
    }
    // SQLite: the writer holds the write lock for the whole transaction, so the next rowid is ours to hand out.
    if (this.nextSqlitePk === null) {
      const r = await sql<{ seq: number | null }>`select max(coalesce((select seq from sqlite_sequence
        where name = 'people'), 0), coalesce((select max(pk) from people), 0)) as seq`.execute(this.db);
      this.nextSqlitePk = Number(r.rows[0]?.seq ?? 0) + 1;
    }
    return this.nextSqlitePk++;
  }

  // ---- suppressions, event ids, message ids ----

  /** Whether the identifier is suppressed; undefined when not yet read. */
  isSuppressed(workspacePk: number, kind: string, value: string): boolean | undefined {
    return this.suppressed.get(workspacePk, kind, value);
  }

  rememberSuppression(workspacePk: number, kind: string, value: string, suppressed: boolean): void {
    this.suppressed.set(workspacePk, kind, value, suppressed);
  }

  /** Whether an event with this id is stored (or will be, by this unit); undefined when not yet read. */
  eventSeen(workspacePk: number, eventId: string): boolean | undefined {
    return this.seenEvents.get(workspacePk, 'e', eventId);
  }

  rememberEvent(workspacePk: number, eventId: string, seen: boolean): void {
    this.seenEvents.set(workspacePk, 'e', eventId, seen);
  }

  messageSeen(workspacePk: number, messageId: string): boolean | undefined {
    return this.seenMessages.get(workspacePk, 'm', messageId);
  }

  rememberMessage(workspacePk: number, messageId: string, seen: boolean): void {
    this.seenMessages.set(workspacePk, 'm', messageId, seen);
  }

  // ---- rows written at flush ----

  addActivity(row: unknown[]): void {
    this.activities.push(row);
  }

  addEvent(row: unknown[]): void {
    this.events.push(row);
  }

  addMessage(row: unknown[]): void {
    this.messages.push(row);
  }

  addLog(row: unknown[]): void {
    this.log.push(row);
  }

  /** Writes everything kept so far: people first (their rows must exist before what points at them). */
  async flush(): Promise<void> {
    const created = [...this.created.values()];
    const updated = [...this.updated.values()];
    this.created = new Map();
    this.updated = new Map();
    const { activities, events, messages, log } = this;
    this.activities = [];
    this.events = [];
    this.messages = [];
    this.log = [];
    // Events last: their statement (PostgreSQL) is one of its own, and on SQLite the order is as it always was.
    const after: TableRows[] = [
      [activityTable, activities],
      [messageTable, messages],
      [logTable, log],
    ];
    await this.flushPeople(
      this.db,
      created,
      updated,
      after.filter(([, rows]) => rows.length > 0),
    );
    await bulkInsert(this.db, eventTable, events);
  }

  /** Drops everything read, after a command that wrote behind the unit's back. */
  forget(): void {
    this.people.clear();
    this.byPk.clear();
    this.suppressed.clear();
    this.seenEvents.clear();
    this.seenMessages.clear();
    this.nextSqlitePk = null;
  }
}

const attached = new WeakMap<Db, UnitOfWork>();

/** The unit of work the transaction's writes go through, if its writer attached one. */
export const unitOf = (db: Db): UnitOfWork | undefined => attached.get(db);

export function attachUnit(unit: UnitOfWork): void {
  attached.set(unit.db, unit);
}

export function detachUnit(unit: UnitOfWork): void {
  attached.delete(unit.db);
}
