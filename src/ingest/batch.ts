import { normalizeEmail, type Reference } from '../domain/identifiers.js';
import { eventsStore } from '../store/events.js';
import { peopleStore, type PeopleKeys } from '../store/people.js';
import { segmentMessagesStore } from '../store/segment-messages.js';
import { suppressionsStore, type SuppressionKey } from '../store/suppressions.js';
import { onPostgres, type Db } from '../store/types.js';
import { unitOf } from '../store/unit-of-work.js';
import { dedupedByEventId } from './apply-segment.js';
import type { CallContext, Command } from './commands.js';
import { suppressionKeyOf } from './people-resolver.js';

function addRef(keys: PeopleKeys, ref: Reference): void {
  if (ref.kind === 'id') keys.ids.push(ref.value);
  else if (ref.kind === 'email') keys.emailKeys.push(ref.key);
  else keys.cioIds.push(ref.value);
}

/** The identifiers by which a command names people (anyone it finds another way it locks as it goes). */
function addNamed(keys: PeopleKeys, ctx: CallContext, cmd: Command): void {
  switch (cmd.kind) {
    case 'identify':
      addRef(keys, cmd.ref);
      if (cmd.payload.bodyId !== undefined) keys.ids.push(cmd.payload.bodyId);
      if (cmd.payload.bodyEmail !== undefined && ctx.ws.settings.identifiers === 'email_or_id')
        keys.emailKeys.push(normalizeEmail(cmd.payload.bodyEmail));
      if (cmd.payload.anonymousId !== undefined) keys.anonymousIds.push(cmd.payload.anonymousId);
      return;
    case 'anonymous_event':
      if (cmd.anonymousId !== null) keys.anonymousIds.push(cmd.anonymousId);
      return;
    case 'event':
    case 'delete':
    case 'suppress':
    case 'add_device':
    case 'delete_device':
      addRef(keys, cmd.ref);
      return;
    case 'merge':
      addRef(keys, cmd.primary);
      addRef(keys, cmd.secondary);
      return;
    case 'alias':
      addRef(keys, cmd.userRef);
      // previousId is read by its shape when applied; as an id it names the person most aliases merge away.
      keys.ids.push(cmd.previousId);
      return;
    case 'object_identify':
      for (const r of cmd.relationships) if ('ref' in r.person) addRef(keys, r.person.ref);
      return;
    case 'relationships':
      for (const pair of cmd.pairs) if ('ref' in pair.person) addRef(keys, pair.person.ref);
      return;
    case 'segment_message':
      for (const c of cmd.commands) addNamed(keys, ctx, c);
      return;
    default:
      return;
  }
}

interface Keys {
  people: PeopleKeys;
  suppressions: SuppressionKey[];
  eventIds: string[];
  messageIds: string[];
}

/** What a command the unit of work can take reads: its suppression keys, event ids and message ids. */
function addDeferrable(keys: Keys, ctx: CallContext, cmd: Command): void {
  const suppression = (ref: Reference) => {
    const k = suppressionKeyOf(ref);
    if (k) keys.suppressions.push(k);
  };
  switch (cmd.kind) {
    case 'identify':
      suppression(cmd.ref);
      if (cmd.payload.bodyId !== undefined) keys.suppressions.push({ kind: 'id', value: cmd.payload.bodyId });
      if (cmd.payload.bodyEmail !== undefined && ctx.ws.settings.identifiers === 'email_or_id')
        keys.suppressions.push({ kind: 'email', value: normalizeEmail(cmd.payload.bodyEmail) });
      return;
    case 'event':
      suppression(cmd.ref);
      if (cmd.event.eventId !== undefined) keys.eventIds.push(cmd.event.eventId);
      return;
    case 'segment_message':
      if (cmd.messageId !== null && !dedupedByEventId(cmd)) keys.messageIds.push(cmd.messageId);
      for (const c of cmd.commands) addDeferrable(keys, ctx, c);
      return;
    default:
      return;
  }
}

/**
 * Commands whose every read and write goes through the unit of work (the bulk of all traffic: identifies and
 * events). Anything else is applied directly, between two flushes of the unit.
 */
export function deferrable(cmd: Command): boolean {
  switch (cmd.kind) {
    case 'identify':
      return cmd.payload.anonymousId === undefined && !cmd.payload.relationships;
    case 'event':
      return true;
    case 'segment_message':
      return cmd.commands.every(deferrable);
    default:
      return false;
  }
}

/** How many people the commands could create at most (each deferrable identify or event creates at most one). */
export function possibleCreates(items: { cmd: Command }[]): number {
  const count = (cmd: Command): number =>
    cmd.kind === 'identify' || cmd.kind === 'event'
      ? 1
      : cmd.kind === 'segment_message'
        ? cmd.commands.reduce((n, c) => n + count(c), 0)
        : 0;
  return items.reduce((n, { cmd }) => n + count(cmd), 0);
}

/**
 * Before a transaction applies its commands, reads every existing person they name in one statement per workspace,
 * and on PostgreSQL locks them there, in pk order: two processes whose transactions name the same people queue on
 * the first of them instead of each locking half and deadlocking (each command locks its people again as it reads
 * them: already held, no wait). With a unit of work attached, what was read is kept, with the suppressed
 * identifiers, stored event ids and seen message ids of the deferrable commands, each in one query.
 */
export async function prefetch(
  db: Db,
  items: { ctx: CallContext; cmd: Command }[],
  onLocked?: () => void,
): Promise<void> {
  const unit = unitOf(db);
  if (!unit && !onPostgres(db)) return onLocked?.();
  const byWorkspace = new Map<number, Keys>();
  for (const { ctx, cmd } of items) {
    let keys = byWorkspace.get(ctx.ws.pk);
    if (!keys) {
      keys = {
        people: { ids: [], emailKeys: [], cioIds: [], anonymousIds: [] },
        suppressions: [],
        eventIds: [],
        messageIds: [],
      };
      byWorkspace.set(ctx.ws.pk, keys);
    }
    addNamed(keys.people, ctx, cmd);
    if (unit && deferrable(cmd)) addDeferrable(keys, ctx, cmd);
  }
  const workspaces = [...byWorkspace.keys()].sort((a, b) => a - b);
  // PostgreSQL saves a round trip a key and takes its row locks in one pk order this way; the same round trips read
  // the suppressions.
  const pg = onPostgres(db);
  if (pg)
    for (const pk of workspaces) {
      const keys = byWorkspace.get(pk)!;
      await peopleStore.prefetch(db, pk, keys.people, keys.suppressions);
    }
  onLocked?.();
  if (!unit) return;
  for (const pk of workspaces) {
    const keys = byWorkspace.get(pk)!;
    if (!pg) {
      // SQLite saves a statement (and its promise chain) a key: one query per kind of key, its keys in one JSON
      // parameter (types.ts keyList).
      await peopleStore.prefetch(db, pk, keys.people);
      await suppressionsStore.prefetch(db, pk, keys.suppressions);
    }
    await eventsStore.prefetch(db, pk, keys.eventIds);
    await segmentMessagesStore.prefetch(db, pk, keys.messageIds);
  }
}
