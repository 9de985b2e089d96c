import type { DevicePayload } from '../domain/devices.js';
import { RosterError } from '../domain/errors.js';
import { describeReference, type Reference } from '../domain/identifiers.js';
import { activitiesStore } from '../store/activities.js';
import { devicesStore } from '../store/devices.js';
import { peopleStore } from '../store/people.js';
import { suppressionsStore, type SuppressionKey } from '../store/suppressions.js';
import type { Db } from '../store/types.js';
import type { CallContext, Outcome } from './commands.js';
import {
  dropIfSuppressed,
  createFromReference,
  logOutcome,
  personNotFound,
  suppressionKeyOf,
} from './people-resolver.js';

/** Deletes the person and all their data. Deleting someone who is not there is a no-op, logged (idempotent). */
export async function applyDelete(db: Db, ctx: CallContext, ref: Reference, reportMissing = false): Promise<Outcome> {
  const person = await peopleStore.findByRef(db, ctx.ws.pk, ref);
  if (!person) {
    await logOutcome(db, ctx, describeReference(ref), 'person_not_found', 'Nothing to delete.');
    if (reportMissing)
      return {
        status: 'error',
        error: new RosterError('person_not_found', `No person matches ${describeReference(ref)}.`),
      };
    return { status: 'ok' };
  }
  await peopleStore.deleteCascade(db, ctx.ws.pk, person.pk);
  return { status: 'ok' };
}

/** Deletes the person, then suppresses their identifiers (or just the reference's, for someone unknown). */
export async function applySuppress(db: Db, ctx: CallContext, ref: Reference): Promise<Outcome> {
  const person = await peopleStore.findByRef(db, ctx.ws.pk, ref);
  const keys: SuppressionKey[] = [];
  if (person) {
    if (person.id !== null) keys.push({ kind: 'id', value: person.id });
    if (person.emailKey !== null) keys.push({ kind: 'email', value: person.emailKey });
    await peopleStore.deleteCascade(db, ctx.ws.pk, person.pk);
  } else {
    const key = suppressionKeyOf(ref);
    if (key === null) return personNotFound(db, ctx, ref);
    keys.push(key);
  }
  await suppressionsStore.suppress(db, ctx.ws.pk, keys, ctx.receivedAt);
  return { status: 'ok' };
}

/** Frees a suppressed identifier (and any suppressed with it). The profile is not restored. */
export async function applyUnsuppress(
  db: Db,
  ctx: CallContext,
  ref: Reference,
  reportMissing = false,
): Promise<Outcome> {
  const key = suppressionKeyOf(ref);
  const freed = key === null ? 0 : await suppressionsStore.unsuppress(db, ctx.ws.pk, key);
  if (freed === 0 && reportMissing) return { status: 'error', error: new RosterError('suppression_not_found') };
  return { status: 'ok' };
}

export async function applyAddDevice(
  db: Db,
  ctx: CallContext,
  ref: Reference,
  device: DevicePayload,
): Promise<Outcome> {
  const dropped = await dropIfSuppressed(db, ctx, ref, [suppressionKeyOf(ref)]);
  if (dropped) return dropped;
  const person = (await peopleStore.findByRef(db, ctx.ws.pk, ref)) ?? (await createFromReference(db, ctx, ref));
  if (!person) return personNotFound(db, ctx, ref);
  await devicesStore.upsert(db, ctx.ws.pk, person.pk, device, ctx.receivedAt);
  await activitiesStore.record(
    db,
    ctx.ws.pk,
    person.pk,
    'device_update',
    { token: device.token, platform: device.platform, attributes: device.attributes },
    ctx.receivedAt,
  );
  return { status: 'ok' };
}

export async function applyDeleteDevice(db: Db, ctx: CallContext, ref: Reference, token: string): Promise<Outcome> {
  const person = await peopleStore.findByRef(db, ctx.ws.pk, ref);
  if (!person) {
    await logOutcome(db, ctx, describeReference(ref), 'person_not_found', 'No device to delete.');
    return { status: 'ok' };
  }
  if (await devicesStore.delete(db, ctx.ws.pk, person.pk, token))
    await activitiesStore.record(db, ctx.ws.pk, person.pk, 'device_delete', { token }, ctx.receivedAt);
  return { status: 'ok' };
}
