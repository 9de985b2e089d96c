import type { EventPayload } from '../domain/events.js';
import { describeReference, type Reference } from '../domain/identifiers.js';
import { eventsStore } from '../store/events.js';
import { peopleStore } from '../store/people.js';
import type { Db } from '../store/types.js';
import type { CallContext, Outcome } from './commands.js';
import {
  dropIfSuppressed,
  createFromReference,
  linkedPerson,
  logOutcome,
  personNotFound,
  suppressionKeyOf,
} from './people-resolver.js';

async function store(
  db: Db,
  ctx: CallContext,
  owner: { personPk: number } | { anonymousId: string | null },
  event: EventPayload,
  reference: string | null,
): Promise<Outcome> {
  if (await eventsStore.insert(db, ctx.ws.pk, owner, event, ctx.receivedAt)) return { status: 'ok' };
  return duplicate(db, ctx, event, reference);
}

async function duplicate(db: Db, ctx: CallContext, event: EventPayload, reference: string | null): Promise<Outcome> {
  await logOutcome(db, ctx, reference, 'duplicate', `Event id ${event.eventId} was already received.`);
  return { status: 'dropped', reason: 'duplicate' };
}

/** A person's event; an unknown id or email creates the person, an unknown cio_id is 404. */
export async function applyEvent(db: Db, ctx: CallContext, ref: Reference, event: EventPayload): Promise<Outcome> {
  const dropped = await dropIfSuppressed(db, ctx, ref, [suppressionKeyOf(ref)]);
  if (dropped) return dropped;
  const found = await peopleStore.findByRef(db, ctx.ws.pk, ref);
  // A duplicate must not leave a person behind either: check it before creating anyone.
  if (!found && event.eventId !== undefined && (await eventsStore.exists(db, ctx.ws.pk, event.eventId)))
    return duplicate(db, ctx, event, describeReference(ref));
  const person = found ?? (await createFromReference(db, ctx, ref));
  if (!person) return personNotFound(db, ctx, ref);
  return store(db, ctx, { personPk: person.pk }, event, describeReference(ref));
}

/** An anonymous event: kept under its anonymous id, or given straight to the person it is linked to. */
export async function applyAnonymousEvent(
  db: Db,
  ctx: CallContext,
  anonymousId: string | null,
  event: EventPayload,
): Promise<Outcome> {
  const owner = anonymousId === null ? null : await linkedPerson(db, ctx.ws.pk, anonymousId);
  return store(db, ctx, owner === null ? { anonymousId } : { personPk: owner }, event, anonymousId);
}
