import { normalizeEmail, type Reference } from '../domain/identifiers.js';
import { peopleStore, type PeopleKeys } from '../store/people.js';
import { onPostgres, type Db } from '../store/types.js';
import type { CallContext, Command } from './commands.js';

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

/**
 * PostgreSQL: before a transaction applies its commands, locks every existing person they name, in one statement and
 * in pk order. Each command locks its people again as it reads them (already held: no wait), so two processes whose
 * transactions name the same people queue on the first of them instead of each locking half and deadlocking.
 * SQLite needs none of this: its writer is alone.
 */
export async function lockNamedPeople(db: Db, items: { ctx: CallContext; cmd: Command }[]): Promise<void> {
  if (!onPostgres(db)) return;
  const byWorkspace = new Map<number, PeopleKeys>();
  for (const { ctx, cmd } of items) {
    let keys = byWorkspace.get(ctx.ws.pk);
    if (!keys) byWorkspace.set(ctx.ws.pk, (keys = { ids: [], emailKeys: [], cioIds: [], anonymousIds: [] }));
    addNamed(keys, ctx, cmd);
  }
  for (const pk of [...byWorkspace.keys()].sort((a, b) => a - b))
    await peopleStore.lockInOrder(db, pk, byWorkspace.get(pk)!);
}
