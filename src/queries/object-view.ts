import { fail } from '../domain/errors.js';
import type { ObjectRef } from '../domain/objects.js';
import { objectsStore, type ObjectRecord } from '../store/objects.js';
import type { PersonRecord } from '../store/people.js';
import { relationshipsStore, type ObjectRelationshipRow, type PersonRelationshipRow } from '../store/relationships.js';
import type { Db } from '../store/types.js';

/** A page request: at most `limit` items after the `start` cursor (a `next` this API gave out). */
export interface PageQuery {
  limit: number;
  start?: string;
}

/** Most relationships listed inside a customer object; the rest are read through `/relationships`. */
export const embeddedRelationshipsLimit = 1000;

function afterPk(start: string | undefined): number {
  if (start === undefined || start === '') return 0;
  if (!/^[0-9]{1,15}$/.test(start)) throw fail('invalid_query', 'start: not a cursor this API gave out.', 'start');
  return Number(start);
}

/** Splits one extra fetched row off into a `next` cursor. */
function page<T>(rows: T[], limit: number, keyOf: (row: T) => number) {
  const items = rows.slice(0, limit);
  const next = rows.length > limit ? String(keyOf(items[items.length - 1]!)) : '';
  return { items, next };
}

/** A relationship as a person sees it: the object's identifiers and the relationship's attributes. */
export const personRelationshipView = (r: PersonRelationshipRow) => ({
  identifiers: { object_type_id: r.typeId, object_id: r.objectId },
  relationship_attributes: r.attributes,
});

/** A relationship as an object sees it: the person's identifiers and the relationship's attributes. */
const objectRelationshipView = (r: ObjectRelationshipRow) => ({
  identifiers: { id: r.id, email: r.email, cio_id: r.cioId },
  relationship_attributes: r.attributes,
});

/** The relationships embedded in the App API customer object. */
export function personRelationshipsForView(db: Db, person: PersonRecord) {
  return relationshipsStore.listForPerson(db, person.workspacePk, person.pk, embeddedRelationshipsLimit);
}

/** `GET /v1/customers/{ref}/relationships`: the objects a person is related to, paged by `start`/`next`. */
export async function personRelationships(db: Db, person: PersonRecord, q: PageQuery) {
  const rows = await relationshipsStore.listForPerson(db, person.workspacePk, person.pk, q.limit + 1, afterPk(q.start));
  const { items, next } = page(rows, q.limit, (r) => r.objectPk);
  return { cio_relationships: items.map(personRelationshipView), next };
}

/** The object named by `ref`, or null. */
export const findObject = (db: Db, workspacePk: number, ref: ObjectRef) => objectsStore.find(db, workspacePk, ref);

/** `GET /v1/objects/{type}/{id}/relationships`: the people related to an object, paged by `start`/`next`. */
export async function objectRelationships(db: Db, object: ObjectRecord, q: PageQuery) {
  const rows = await relationshipsStore.listForObject(db, object.workspacePk, object.pk, q.limit + 1, afterPk(q.start));
  const { items, next } = page(rows, q.limit, (r) => r.personPk);
  return { cio_relationships: items.map(objectRelationshipView), next };
}

/** `GET /v1/objects/{type}/{id}`: the object, its attributes and (a page of) the people related to it. */
export async function objectView(db: Db, object: ObjectRecord, q: PageQuery) {
  const { cio_relationships, next } = await objectRelationships(db, object, q);
  return {
    object: {
      object_type_id: object.typeId,
      object_id: object.objectId,
      attributes: object.attributes,
      created_at: object.createdAt,
      updated_at: Math.floor(object.updatedAt / 1000),
      relationships: cio_relationships,
    },
    next,
  };
}
