import { mergeAttributes } from '../domain/attributes.js';
import { describeReference, normalizeEmail, type Reference } from '../domain/identifiers.js';
import type { IdentifyPayload } from '../domain/identify-payload.js';
import { resolveIdentify, type Conflict, type IdentifyLookups } from '../domain/identify.js';
import { activitiesStore } from '../store/activities.js';
import { anonymousIdsStore } from '../store/anonymous-ids.js';
import { eventsStore } from '../store/events.js';
import { identityOf, peopleStore, type PersonRecord } from '../store/people.js';
import type { Db } from '../store/types.js';
import { adoptPendingRelationships, relatePerson } from './apply-objects.js';
import type { CallContext, Outcome } from './commands.js';
import { createPerson, dropIfSuppressed, personNotFound, suppressionKeyOf } from './people-resolver.js';
import { recordConflicts } from './rule-c.js';

/** Applies an identify call under identity.md: decides, merges attributes, writes, records rule C. */
export async function applyIdentify(db: Db, ctx: CallContext, ref: Reference, p: IdentifyPayload): Promise<Outcome> {
  const { ws } = ctx;
  const emailIsIdentifier = ws.settings.identifiers === 'email_or_id';
  const emailKey = p.bodyEmail === undefined ? undefined : normalizeEmail(p.bodyEmail);
  const dropped = await dropIfSuppressed(db, ctx, ref, [
    suppressionKeyOf(ref),
    p.bodyId === undefined ? null : { kind: 'id', value: p.bodyId },
    emailKey === undefined || !emailIsIdentifier ? null : { kind: 'email', value: emailKey },
  ]);
  if (dropped) return dropped;

  // Look up only the people the decision can need.
  const byRef = await peopleStore.findByRef(db, ws.pk, ref);
  const byEmail =
    emailIsIdentifier && emailKey !== undefined && byRef?.emailKey !== emailKey
      ? await peopleStore.findByRef(db, ws.pk, { kind: 'email', value: p.bodyEmail!, key: emailKey })
      : null;
  const byId =
    p.bodyId !== undefined && byRef?.id !== p.bodyId
      ? await peopleStore.findByRef(db, ws.pk, { kind: 'id', value: p.bodyId })
      : null;
  const lookups: IdentifyLookups = {
    byRef: byRef && identityOf(byRef),
    byEmail: byEmail && identityOf(byEmail),
    byId: byId && identityOf(byId),
  };
  const decision = resolveIdentify(
    ws.settings,
    { ref, bodyId: p.bodyId, bodyEmail: p.bodyEmail, updateOnly: p.updateOnly },
    lookups,
  );
  if (decision.action === 'not_found') return personNotFound(db, ctx, ref);

  const callTs = p.timestamp ?? ctx.receivedAt;
  const conflicts: Conflict[] = [...decision.conflicts];
  let person: PersonRecord;
  if (decision.action === 'create') {
    const merged = mergeAttributes({}, {}, p.changes, callTs);
    person = await createPerson(db, ctx, {
      id: decision.setId ?? null,
      email: decision.setEmail ?? null,
      attributes: merged.attributes,
      timestamps: merged.timestamps,
      createdAt: p.createdAt ?? Math.floor(callTs / 1000),
    });
  } else {
    const current = [byRef, byEmail, byId].find((x) => x?.pk === decision.pk)!;
    const merged = mergeAttributes(current.attributes, current.timestamps, p.changes, callTs);
    const next: PersonRecord = { ...current, attributes: merged.attributes, timestamps: merged.timestamps };
    const changed: Record<string, unknown> = {};
    for (const key of merged.changed) changed[key] = merged.attributes[key] ?? null;
    if (decision.setId !== undefined && decision.setId !== current.id) next.id = changed.id = decision.setId;
    if (decision.setEmail !== undefined && decision.setEmail !== current.email)
      next.email = changed.email = decision.setEmail;
    if (p.removeEmail && current.email !== null) next.email = changed.email = null;
    if (p.createdAt !== undefined && p.createdAt !== current.createdAt)
      next.createdAt = changed.created_at = p.createdAt;
    if (Object.keys(changed).length > 0) {
      const emailNorm = next.email === null ? null : normalizeEmail(next.email);
      next.emailKey = emailIsIdentifier ? emailNorm : null;
      next.unsubscribed = next.attributes.unsubscribed === true;
      next.updatedAt = ctx.receivedAt;
      await peopleStore.update(db, next, emailNorm, current);
      await activitiesStore.record(db, ws.pk, next.pk, 'attribute_change', { changes: changed }, ctx.receivedAt);
    } else if (Object.keys(p.changes).length > 0) {
      // No value changed (a key removed that was absent, a value sent again), but the keys' times moved on: store
      // them, or an older call delivered later would overwrite what this newer one said (identity.md, Order).
      // update() writes only the columns that differ: here attribute_ts, or nothing.
      await peopleStore.update(db, next, current.email === null ? null : normalizeEmail(current.email), current);
    }
    person = next;
  }

  if (p.anonymousId !== undefined) {
    const owner = await anonymousIdsStore.ownerOrLock(db, ws.pk, p.anonymousId);
    if (owner === null) {
      await anonymousIdsStore.link(db, ws.pk, p.anonymousId, person.pk, ctx.receivedAt);
      const moved = await eventsStore.adoptAnonymous(db, ws.pk, p.anonymousId, person.pk);
      await activitiesStore.record(
        db,
        ws.pk,
        person.pk,
        'anon_merge',
        { anonymous_id: p.anonymousId, events: moved },
        ctx.receivedAt,
      );
      await adoptPendingRelationships(db, ctx, p.anonymousId, person.pk);
    } else if (owner !== person.pk) {
      conflicts.push({ field: 'anonymous_id', value: p.anonymousId, reason: 'identifier_in_use' });
    }
  }

  // cio_relationships apply to whoever the identify resolved to; a failing one is logged and answered, never undone.
  const relationshipError = p.relationships ? await relatePerson(db, ctx, person, p.relationships, callTs) : null;
  if (conflicts.length === 0)
    return relationshipError
      ? { status: 'error', error: relationshipError }
      : { status: 'ok', created: decision.action === 'create' };
  await recordConflicts(db, ctx, person.pk, describeReference(ref), conflicts);
  return { status: 'conflict', conflicts };
}
