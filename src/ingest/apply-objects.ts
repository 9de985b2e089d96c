import type { AttributeChanges } from '../domain/attributes.js';
import { RosterError } from '../domain/errors.js';
import { describeReference } from '../domain/identifiers.js';
import {
  mergeObjectAttributes,
  parseObjectId,
  parseObjectTypeId,
  type ObjectRef,
  type PersonLink,
  type PersonRelationships,
} from '../domain/objects.js';
import { activitiesStore } from '../store/activities.js';
import { objectsStore, type ObjectRecord } from '../store/objects.js';
import { peopleStore, type PersonRecord } from '../store/people.js';
import { relationshipsStore } from '../store/relationships.js';
import type { Db } from '../store/types.js';
import type { CallContext, Command, Outcome } from './commands.js';
import {
  createFromReference,
  dropIfSuppressed,
  linkedPerson,
  logOutcome,
  personNotFound,
  suppressionKeyOf,
} from './people-resolver.js';

/** Who a relationship is with: a person, or an anonymous id that no person holds yet. */
type Target = { personPk: number } | { anonymousId: string };

/** One relationship to add or remove. */
interface Pair {
  person: PersonLink;
  object: ObjectRef;
  attributes: AttributeChanges;
}

const identifiersOf = (o: ObjectRef) => ({ object_type_id: o.typeId, object_id: o.objectId });
const describeObject = (o: ObjectRef) => `object ${o.typeId}/${o.objectId}`;
const describeLink = (link: PersonLink) => ('ref' in link ? describeReference(link.ref) : link.anonymousId);

/** Holds every surface's object reference to the same rules (the Segment mapping builds its own). */
function checkObjectRef(o: ObjectRef): void {
  parseObjectTypeId(o.typeId);
  parseObjectId(o.objectId);
}

/**
 * The person a relationship names. Adding to an unknown id or email creates the person (as events do); an unknown
 * cio_id is 404; a suppressed identifier is dropped. An anonymous id names the person it is linked to, else itself.
 */
async function resolveLink(
  db: Db,
  ctx: CallContext,
  link: PersonLink,
  action: 'add' | 'delete',
): Promise<{ target: Target } | { outcome: Outcome }> {
  const { ws } = ctx;
  if ('anonymousId' in link) {
    const owner = await linkedPerson(db, ws.pk, link.anonymousId);
    return { target: owner === null ? { anonymousId: link.anonymousId } : { personPk: owner } };
  }
  const { ref } = link;
  if (action === 'add') {
    const dropped = await dropIfSuppressed(db, ctx, ref, [suppressionKeyOf(ref)]);
    if (dropped) return { outcome: dropped };
  }
  const person = await peopleStore.findByRef(db, ws.pk, ref);
  if (person) return { target: { personPk: person.pk } };
  if (action === 'delete') {
    await logOutcome(db, ctx, describeReference(ref), 'person_not_found', 'No relationship to delete.');
    return { outcome: { status: 'ok' } };
  }
  const created = await createFromReference(db, ctx, ref);
  if (created) return { target: { personPk: created.pk } };
  return { outcome: await personNotFound(db, ctx, ref) };
}

/** The object a relationship names; created empty when a relationship is added to an object not seen before. */
async function findObject(db: Db, ctx: CallContext, ref: ObjectRef, create: boolean): Promise<ObjectRecord | null> {
  const found = await objectsStore.find(db, ctx.ws.pk, ref);
  if (found || !create) return found;
  const record: Omit<ObjectRecord, 'pk'> = {
    workspacePk: ctx.ws.pk,
    typeId: ref.typeId,
    objectId: ref.objectId,
    attributes: {},
    timestamps: {},
    createdAt: Math.floor(ctx.receivedAt / 1000),
    updatedAt: ctx.receivedAt,
  };
  return { ...record, pk: await objectsStore.insert(db, record) };
}

/**
 * Adds (or updates the attributes of) one relationship. A relationship over the limits fails alone: its error is
 * returned and logged, and nothing of it is written.
 */
async function addRelationship(
  db: Db,
  ctx: CallContext,
  target: Target,
  object: ObjectRecord,
  changes: AttributeChanges,
  callTs: number,
  reference: string,
): Promise<RosterError | null> {
  const { ws } = ctx;
  const current =
    'personPk' in target
      ? (await relationshipsStore.find(db, ws.pk, target.personPk, object.pk))?.attributes
      : await relationshipsStore.findPending(db, ws.pk, target.anonymousId, object.pk);
  let merged;
  try {
    merged = mergeObjectAttributes('relationship', current ?? {}, {}, changes, callTs);
  } catch (err) {
    if (!(err instanceof RosterError)) throw err;
    await logOutcome(db, ctx, reference, err.code, `${describeObject(object)}: ${err.message}`);
    return err;
  }
  // Relating again with nothing new changes nothing, and leaves no activity.
  if (current && merged.changed.length === 0) return null;
  if ('anonymousId' in target) {
    await relationshipsStore.upsertPending(db, ws.pk, target.anonymousId, object.pk, merged.attributes, ctx.receivedAt);
    return null;
  }
  await relationshipsStore.upsert(db, ws.pk, target.personPk, object.pk, merged.attributes, ctx.receivedAt);
  await activitiesStore.record(
    db,
    ws.pk,
    target.personPk,
    'relationship_add',
    { ...identifiersOf(object), relationship_attributes: merged.attributes },
    ctx.receivedAt,
  );
  return null;
}

async function deleteRelationship(db: Db, ctx: CallContext, target: Target, object: ObjectRecord): Promise<void> {
  const { ws } = ctx;
  if ('anonymousId' in target) {
    await relationshipsStore.deletePending(db, ws.pk, target.anonymousId, object.pk);
    return;
  }
  if (await relationshipsStore.delete(db, ws.pk, target.personPk, object.pk))
    await activitiesStore.record(
      db,
      ws.pk,
      target.personPk,
      'relationship_delete',
      identifiersOf(object),
      ctx.receivedAt,
    );
}

/**
 * Applies relationship changes one by one. Each that fails (an unknown cio_id, a relationship over the limits) fails
 * alone and is logged; the others are applied. The call answers with the first failure, if any.
 */
async function applyPairs(
  db: Db,
  ctx: CallContext,
  action: 'add' | 'delete',
  pairs: Pair[],
  callTs: number,
  known?: ObjectRecord,
): Promise<Outcome> {
  let failure: RosterError | null = null;
  for (const pair of pairs) {
    const link = await resolveLink(db, ctx, pair.person, action);
    if ('outcome' in link) {
      if (link.outcome.status === 'error') failure ??= link.outcome.error;
      continue;
    }
    const object = known ?? (await findObject(db, ctx, pair.object, action === 'add'));
    if (!object) {
      await logOutcome(db, ctx, describeLink(pair.person), 'object_not_found', `No ${describeObject(pair.object)}.`);
      continue;
    }
    if (action === 'delete') await deleteRelationship(db, ctx, link.target, object);
    else {
      const error = await addRelationship(
        db,
        ctx,
        link.target,
        object,
        pair.attributes,
        callTs,
        describeLink(pair.person),
      );
      failure ??= error;
    }
  }
  return failure ? { status: 'error', error: failure } : { status: 'ok' };
}

/** Object identify: upserts the object (attribute merge, like people's), then relates each listed person to it. */
export async function applyObjectIdentify(
  db: Db,
  ctx: CallContext,
  cmd: Extract<Command, { kind: 'object_identify' }>,
): Promise<Outcome> {
  const { ws } = ctx;
  // Everything that can refuse the object is decided before anything is written.
  checkObjectRef(cmd.object);
  const callTs = cmd.timestamp ?? ctx.receivedAt;
  const existing = await objectsStore.find(db, ws.pk, cmd.object);
  const merged = mergeObjectAttributes(
    'object',
    existing?.attributes ?? {},
    existing?.timestamps ?? {},
    cmd.changes,
    callTs,
  );
  let object: ObjectRecord;
  if (!existing) {
    const record: Omit<ObjectRecord, 'pk'> = {
      workspacePk: ws.pk,
      typeId: cmd.object.typeId,
      objectId: cmd.object.objectId,
      attributes: merged.attributes,
      timestamps: merged.timestamps,
      createdAt: cmd.createdAt ?? Math.floor(callTs / 1000),
      updatedAt: ctx.receivedAt,
    };
    object = { ...record, pk: await objectsStore.insert(db, record) };
  } else {
    object = { ...existing, attributes: merged.attributes, timestamps: merged.timestamps };
    if (cmd.createdAt !== undefined) object.createdAt = cmd.createdAt;
    if (merged.changed.length > 0 || object.createdAt !== existing.createdAt) {
      object.updatedAt = ctx.receivedAt;
      await objectsStore.update(db, object);
    } else if (Object.keys(cmd.changes).length > 0) {
      // No value changed, but the keys' times moved on: store them, or an older call delivered later would
      // overwrite what this newer one said (per-attribute order, as for people).
      await objectsStore.update(db, object);
    }
  }
  const pairs = cmd.relationships.map((r) => ({ ...r, object: cmd.object }));
  return applyPairs(db, ctx, 'add', pairs, callTs, object);
}

/** Deletes the object and its relationships; each person related to it gets a `relationship_delete` activity. */
export async function applyObjectDelete(db: Db, ctx: CallContext, ref: ObjectRef): Promise<Outcome> {
  checkObjectRef(ref);
  const { ws } = ctx;
  const object = await objectsStore.find(db, ws.pk, ref);
  if (!object) {
    // Idempotent, like deleting a person who is not there.
    await logOutcome(db, ctx, describeObject(ref), 'object_not_found', 'Nothing to delete.');
    return { status: 'ok' };
  }
  const related = await relationshipsStore.personPksOf(db, ws.pk, object.pk);
  await objectsStore.deleteCascade(db, ws.pk, object.pk);
  for (const personPk of related)
    await activitiesStore.record(
      db,
      ws.pk,
      personPk,
      'relationship_delete',
      { ...identifiersOf(ref), reason: 'object_deleted' },
      ctx.receivedAt,
    );
  return { status: 'ok' };
}

/** v2 add_relationships/delete_relationships, from either side. Adding to an unknown object creates it. */
export async function applyRelationships(
  db: Db,
  ctx: CallContext,
  action: 'add' | 'delete',
  pairs: Pair[],
): Promise<Outcome> {
  for (const pair of pairs) checkObjectRef(pair.object);
  return applyPairs(db, ctx, action, pairs, ctx.receivedAt);
}

/** An identify's `cio_relationships`, applied to the person the identify resolved to. Returns the first failure. */
export async function relatePerson(
  db: Db,
  ctx: CallContext,
  person: PersonRecord,
  relationships: PersonRelationships,
  callTs: number,
): Promise<RosterError | null> {
  const reference = person.id ?? person.email ?? `cio_${person.cioId}`;
  let failure: RosterError | null = null;
  for (const item of relationships.items) {
    const object = await findObject(db, ctx, item.object, relationships.action === 'add');
    if (!object) continue;
    if (relationships.action === 'delete') await deleteRelationship(db, ctx, { personPk: person.pk }, object);
    else
      failure ??= await addRelationship(db, ctx, { personPk: person.pk }, object, item.attributes, callTs, reference);
  }
  return failure;
}

/**
 * An anonymous id was just linked to a person: relationships made to it while no one held it become the person's.
 * Where the person is already related to the same object, the person's own relationship is kept.
 */
export async function adoptPendingRelationships(
  db: Db,
  ctx: CallContext,
  anonymousId: string,
  personPk: number,
): Promise<void> {
  const { ws } = ctx;
  for (const pending of await relationshipsStore.takePending(db, ws.pk, anonymousId)) {
    if (await relationshipsStore.find(db, ws.pk, personPk, pending.objectPk)) continue;
    await relationshipsStore.upsert(db, ws.pk, personPk, pending.objectPk, pending.attributes, ctx.receivedAt);
    await activitiesStore.record(
      db,
      ws.pk,
      personPk,
      'relationship_add',
      { ...identifiersOf(pending), relationship_attributes: pending.attributes, anonymous_id: anonymousId },
      ctx.receivedAt,
    );
  }
}
