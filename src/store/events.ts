import { sql } from 'kysely';
import type { EventPayload } from '../domain/events.js';
import { bulkInsert } from './bulk.js';
import { PreparedQuery } from './prepared.js';
import { keyList, onPostgres, type Db } from './types.js';
import { eventTable, unitOf } from './unit-of-work.js';

// SQLite, every event: compiled once. Parameters in column order; a repeated event id is dropped by the unique index.
// (PostgreSQL: events is partitioned by time and its event ids are unique in event_ids; see eventTable.)
const insertEvent = new PreparedQuery((db) =>
  db
    .insertInto('events')
    .values({
      workspace_pk: 0,
      person_pk: null,
      anonymous_id: null,
      event_id: null,
      type: '',
      name: '',
      data: '',
      ts: 0,
      received_at: 0,
      merged: 0,
    })
    .onConflict((oc) => oc.doNothing()),
);

/**
 * Events: append-only, deduplicated by the sender's event id within a workspace, forever. SQLite: a unique index on
 * events. PostgreSQL: the table `event_ids`, written in the same statement as the event; deleting an event (with its
 * person, or by retention) frees its id on both.
 */
export const eventsStore = {
  /** Stores the event; false when its id was seen before in this workspace (the duplicate is dropped). */
  async insert(
    db: Db,
    workspacePk: number,
    owner: { personPk: number } | { anonymousId: string | null },
    e: EventPayload,
    now: number,
  ): Promise<boolean> {
    const row = [
      workspacePk,
      'personPk' in owner ? owner.personPk : null,
      'anonymousId' in owner ? owner.anonymousId : null,
      e.eventId ?? null,
      e.type,
      e.name,
      JSON.stringify(e.data),
      e.timestamp ?? now,
      now,
      0,
    ];
    const unit = unitOf(db);
    if (unit) {
      if (e.eventId !== undefined) {
        if (await eventsStore.exists(db, workspacePk, e.eventId)) return false;
        unit.rememberEvent(workspacePk, e.eventId, true);
      }
      // Stored at flush; a concurrent process storing the same id first makes this row a dropped duplicate.
      unit.addEvent(row);
      return true;
    }
    if (onPostgres(db)) return (await bulkInsert(db, eventTable, [row])) > 0;
    const result = await insertEvent.run(db, row);
    return Number(result.numAffectedRows ?? 0n) > 0;
  },

  /** Reads which of the event ids are stored into the transaction's unit of work, in one query. */
  async prefetch(db: Db, workspacePk: number, eventIds: string[]): Promise<void> {
    const unit = unitOf(db);
    if (!unit || eventIds.length === 0) return;
    const rows = await db
      .selectFrom(idTable(db))
      .select('event_id')
      .where('workspace_pk', '=', workspacePk)
      .where('event_id', 'in', keyList(db, [...new Set(eventIds)]))
      .execute();
    for (const id of eventIds) unit.rememberEvent(workspacePk, id, false);
    for (const r of rows) if (r.event_id !== null) unit.rememberEvent(workspacePk, r.event_id, true);
  },

  async exists(db: Db, workspacePk: number, eventId: string): Promise<boolean> {
    const unit = unitOf(db);
    const known = unit?.eventSeen(workspacePk, eventId);
    if (known !== undefined) return known;
    const row = await db
      .selectFrom(idTable(db))
      .select('event_id')
      .where('workspace_pk', '=', workspacePk)
      .where('event_id', '=', eventId)
      .executeTakeFirst();
    unit?.rememberEvent(workspacePk, eventId, row !== undefined);
    return row !== undefined;
  },

  /** Moves an anonymous id's unlinked events to a person; returns how many moved. */
  async adoptAnonymous(db: Db, workspacePk: number, anonymousId: string, personPk: number): Promise<number> {
    const result = await db
      .updateTable('events')
      .set({ person_pk: personPk })
      .where('workspace_pk', '=', workspacePk)
      .where('anonymous_id', '=', anonymousId)
      .where('person_pk', 'is', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  },

  /** Moves a merged-away person's events to the primary, marking them merged so they never trigger messages. */
  async moveToPerson(db: Db, workspacePk: number, fromPk: number, toPk: number): Promise<number> {
    const result = await db
      .updateTable('events')
      .set({ person_pk: toPk, merged: 1 })
      .where('workspace_pk', '=', workspacePk)
      .where('person_pk', '=', fromPk)
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  },

  /**
   * Deletes up to `batch` anonymous events (never linked to a person) of the workspace older than `before` (unix ms);
   * returns how many. Served by the (workspace_pk, person_pk, ts) index.
   */
  async purgeAnonymousBefore(db: Db, workspacePk: number, before: number, batch: number): Promise<number> {
    if (onPostgres(db)) {
      // A join on (pk, received_at) would hash every partition: the batch's keys go in as arrays instead, probed in
      // each partition's primary key. The purge's conditions are checked again on the row, under its lock. The
      // deleted events' ids are freed in the same statement.
      const r = await sql<{ n: number }>`with batch as materialized (select pk, received_at from events
          where workspace_pk = ${workspacePk} and person_pk is null and ts < ${before} limit ${batch}),
        gone as (delete from events where pk = any(array(select pk from batch))
          and received_at = any(array(select received_at from batch))
          and workspace_pk = ${workspacePk} and person_pk is null and ts < ${before} returning event_id),
        freed as (delete from event_ids where workspace_pk = ${workspacePk}
          and event_id = any(array(select event_id from gone where event_id is not null)))
        select count(*)::int as n from gone`.execute(db);
      return Number(r.rows[0]?.n ?? 0);
    }
    const result = await db
      .deleteFrom('events')
      .where('pk', 'in', (eb) =>
        eb
          .selectFrom('events')
          .select('pk')
          .where('workspace_pk', '=', workspacePk)
          .where('person_pk', 'is', null)
          .where('ts', '<', before)
          .limit(batch),
      )
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  },

  /** Deletes a person's events (their ids are free again); returns how many. */
  async deleteForPerson(db: Db, workspacePk: number, personPk: number): Promise<number> {
    if (onPostgres(db)) {
      const r = await sql<{ n: number }>`with gone as (
          delete from events where workspace_pk = ${workspacePk} and person_pk = ${personPk} returning event_id),
        freed as (delete from event_ids where workspace_pk = ${workspacePk}
          and event_id = any(array(select event_id from gone where event_id is not null)))
        select count(*)::int as n from gone`.execute(db);
      return Number(r.rows[0]?.n ?? 0);
    }
    const result = await db
      .deleteFrom('events')
      .where('workspace_pk', '=', workspacePk)
      .where('person_pk', '=', personPk)
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  },

  async countForPerson(db: Db, workspacePk: number, personPk: number): Promise<number> {
    const row = await db
      .selectFrom('events')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('workspace_pk', '=', workspacePk)
      .where('person_pk', '=', personPk)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  },
};

/** Where a workspace's stored event ids are looked up: event_ids on PostgreSQL, the events themselves on SQLite. */
const idTable = (db: Db) => (onPostgres(db) ? ('event_ids' as const) : ('events' as const));
