import { RosterError } from '../domain/errors.js';
import { describeReference, normalizeEmail, type Reference } from '../domain/identifiers.js';
import { mergePeople } from '../domain/merge.js';
import { activitiesStore } from '../store/activities.js';
import { anonymousIdsStore } from '../store/anonymous-ids.js';
import { devicesStore } from '../store/devices.js';
import { eventsStore } from '../store/events.js';
import { peopleStore } from '../store/people.js';
import { relationshipsStore } from '../store/relationships.js';
import { segmentsStore } from '../store/segments.js';
import type { Db } from '../store/types.js';
import type { CallContext, Outcome } from './commands.js';
import { personNotFound } from './people-resolver.js';

/** Merges the secondary into the primary (identity.md, Merge); the secondary is deleted, its history moves. */
export async function applyMerge(
  db: Db,
  ctx: CallContext,
  primaryRef: Reference,
  secondaryRef: Reference,
): Promise<Outcome> {
  const { ws } = ctx;
  const primary = await peopleStore.findByRef(db, ws.pk, primaryRef);
  if (!primary) return personNotFound(db, ctx, primaryRef);
  const secondary = await peopleStore.findByRef(db, ws.pk, secondaryRef);
  if (!secondary) return personNotFound(db, ctx, secondaryRef);
  if (primary.pk === secondary.pk)
    return { status: 'error', error: new RosterError('invalid_merge', 'primary and secondary are the same person.') };

  const merged = mergePeople(primary, secondary);
  await eventsStore.moveToPerson(db, ws.pk, secondary.pk, primary.pk);
  await devicesStore.moveToPerson(db, ws.pk, secondary.pk, primary.pk);
  await anonymousIdsStore.moveToPerson(db, ws.pk, secondary.pk, primary.pk);
  await relationshipsStore.moveToPerson(db, ws.pk, secondary.pk, primary.pk);
  await activitiesStore.moveToPerson(db, ws.pk, secondary.pk, primary.pk);
  await segmentsStore.moveToPerson(db, ws.pk, secondary.pk, primary.pk);
  // The secondary goes first so its identifiers are free for the primary to take.
  await peopleStore.deleteCascade(db, ws.pk, secondary.pk);
  const emailNorm = merged.email === null ? null : normalizeEmail(merged.email);
  await peopleStore.update(
    db,
    {
      ...primary,
      ...merged,
      emailKey: ws.settings.identifiers === 'email_or_id' ? emailNorm : null,
      updatedAt: ctx.receivedAt,
    },
    emailNorm,
  );
  await activitiesStore.record(
    db,
    ws.pk,
    primary.pk,
    'merged',
    {
      secondary: {
        cio_id: secondary.cioId,
        id: secondary.id,
        email: secondary.email,
        created_at: secondary.createdAt,
        attributes: secondary.attributes,
      },
      reference: describeReference(secondaryRef),
    },
    ctx.receivedAt,
  );
  return { status: 'ok' };
}
