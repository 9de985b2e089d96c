import { normalizeEmail, type Reference } from '../domain/identifiers.js';
import { describeReference } from '../domain/identifiers.js';
import { RosterError } from '../domain/errors.js';
import { activitiesStore } from '../store/activities.js';
import { anonymousIdsStore } from '../store/anonymous-ids.js';
import { integrationLogStore } from '../store/integration-log.js';
import { newCioId, peopleStore, type PersonRecord } from '../store/people.js';
import { suppressionsStore, type SuppressionKey } from '../store/suppressions.js';
import { lockRows, type Db } from '../store/types.js';
import type { CallContext, Outcome } from './commands.js';

/** The suppression key an id or email reference stands for (cio_id references have none). */
export function suppressionKeyOf(ref: Reference): SuppressionKey | null {
  if (ref.kind === 'id') return { kind: 'id', value: ref.value };
  if (ref.kind === 'email') return { kind: 'email', value: ref.key };
  return null;
}

/**
 * The person an anonymous id is linked to, or null. On PostgreSQL their row is locked first, as every other write to a
 * person locks it: a delete or merge of that person running at the same time either waits for this call, or has
 * already moved or removed the link, so nothing is written for (or lost with) a person who is gone. An id linked to
 * no one is locked instead (ownerOrLock), so an identify linking it at the same time adopts what is stored under it.
 */
export async function linkedPerson(db: Db, workspacePk: number, anonymousId: string): Promise<number | null> {
  for (;;) {
    const owner = await anonymousIdsStore.ownerOrLock(db, workspacePk, anonymousId);
    if (owner === null || !lockRows(db) || (await peopleStore.lockByPk(db, owner))) return owner;
    // Deleted or merged away while this waited for the lock: the link is gone or now names the primary.
  }
}

/** Checks the keys against the suppression list; when one is suppressed, logs the drop and returns its outcome. */
export async function dropIfSuppressed(
  db: Db,
  ctx: CallContext,
  reference: Reference,
  keys: (SuppressionKey | null)[],
): Promise<Outcome | null> {
  const present = keys.filter((k): k is SuppressionKey => k !== null);
  const hit = await suppressionsStore.anySuppressed(db, ctx.ws.pk, present);
  if (!hit) return null;
  await logOutcome(db, ctx, describeReference(reference), 'suppressed', `${hit.kind} ${hit.value} is suppressed`);
  return { status: 'dropped', reason: 'suppressed' };
}

/** Records a dropped or refused call in the workspace's integration log. */
export function logOutcome(db: Db, ctx: CallContext, reference: string | null, outcome: string, reason: string) {
  return integrationLogStore.record(
    db,
    ctx.ws.pk,
    { surface: ctx.surface, messageId: ctx.messageId, reference, outcome, reason },
    ctx.receivedAt,
  );
}

/** Answers 404 for a person that does not exist, after logging it. */
export async function personNotFound(db: Db, ctx: CallContext, ref: Reference): Promise<Outcome> {
  const reference = describeReference(ref);
  await logOutcome(db, ctx, reference, 'person_not_found', `No person matches ${reference}.`);
  return { status: 'error', error: new RosterError('person_not_found', `No person matches ${reference}.`) };
}

/** Creates an empty person with the given identifiers, recording the creation in their activity. */
export async function createPerson(
  db: Db,
  ctx: CallContext,
  init: Pick<PersonRecord, 'id' | 'email' | 'attributes' | 'timestamps' | 'createdAt'>,
): Promise<PersonRecord> {
  const emailIsIdentifier = ctx.ws.settings.identifiers === 'email_or_id';
  const emailNorm = init.email === null ? null : normalizeEmail(init.email);
  const record: Omit<PersonRecord, 'pk'> = {
    workspacePk: ctx.ws.pk,
    cioId: newCioId(),
    id: init.id,
    email: init.email,
    emailKey: emailIsIdentifier ? emailNorm : null,
    attributes: init.attributes,
    timestamps: init.timestamps,
    unsubscribed: init.attributes.unsubscribed === true,
    createdAt: init.createdAt,
    updatedAt: ctx.receivedAt,
  };
  const pk = await peopleStore.insert(db, record, emailNorm);
  await activitiesStore.record(db, ctx.ws.pk, pk, 'profile_create', { attributes: init.attributes }, ctx.receivedAt);
  return { ...record, pk };
}

/**
 * Creates the person an event or device call names when no one has that id or email yet (nothing sent is lost).
 * A cio_id reference never creates anyone: it was never Roster's to give.
 */
export async function createFromReference(db: Db, ctx: CallContext, ref: Reference): Promise<PersonRecord | null> {
  if (ref.kind === 'cio_id') return null;
  return createPerson(db, ctx, {
    id: ref.kind === 'id' ? ref.value : null,
    email: ref.kind === 'email' ? ref.value : null,
    attributes: {},
    timestamps: {},
    createdAt: Math.floor(ctx.receivedAt / 1000),
  });
}
