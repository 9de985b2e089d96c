import {
  mergeAttributes,
  parseAttribute,
  type AttributeChanges,
  type Attributes,
  type AttributeTimestamps,
  type MergedAttributes,
} from './attributes.js';
import { fail, RosterError, type ErrorCode } from './errors.js';
import { parseTypedReference, toIdString, type Reference } from './identifiers.js';
import { byteLength, limits } from './limits.js';
import { parseCreatedAt } from './timestamps.js';
import type { IdentifierMode } from './workspace.js';

/** An object (a Segment group, a Customer.io object): its type id (a string of digits, "1" by default) and id. */
export interface ObjectRef {
  typeId: string;
  objectId: string;
}

/** The person side of a relationship: a person by reference, or an anonymous id (identify_anonymous). */
export type PersonLink = { ref: Reference } | { anonymousId: string };

/** A relationship seen from the person: which object, and the relationship's attribute changes. */
export interface RelationshipChange {
  object: ObjectRef;
  attributes: AttributeChanges;
}

/** A relationship seen from the object: which person, and the relationship's attribute changes. */
export interface LinkChange {
  person: PersonLink;
  attributes: AttributeChanges;
}

/** `cio_relationships` of a person identify: relationships to add to, or remove from, the identified person. */
export interface PersonRelationships {
  action: 'add' | 'delete';
  items: RelationshipChange[];
}

/** An object identify's body (v2 `attributes` plus the top-level `created_at`), validated. */
export interface ObjectAttributesPayload {
  changes: AttributeChanges;
  /** Unix seconds. */
  createdAt?: number;
}

// Customer.io: "Object type IDs are string-formatted integers that begin at 1 and increment for each new type."
const typeIdShape = /^[1-9][0-9]{0,9}$/;

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);

/** An object type id: `"1"`, `"2"`, … (a whole number is accepted and stored as its string). */
export function parseObjectTypeId(raw: unknown, field = 'object_type_id'): string {
  const value = typeof raw === 'number' && Number.isInteger(raw) ? String(raw) : raw;
  if (typeof value !== 'string' || !typeIdShape.test(value))
    throw fail('invalid_identifier', `${field}: a whole number from 1, sent as a string like "1".`, field);
  return value;
}

/** An object id: the same rules as a person id (1..150 bytes, numbers stored as their string, no junk values). */
export const parseObjectId = (raw: unknown, field = 'object_id'): string => toIdString(raw, field);

/** An anonymous id naming the person side of a relationship or event: a non-empty string of at most 150 bytes. */
export function parseAnonymousId(raw: unknown, field = 'anonymous_id'): string {
  if (typeof raw !== 'string' || raw.trim() === '' || byteLength(raw) > limits.identifierBytes)
    throw fail('invalid_identifier', `${field}: must be a non-empty string of at most 150 bytes.`, field);
  return raw;
}

/**
 * `{object_type_id, object_id}`. A `cio_object_id` is refused: Roster gives objects no id of its own, so such a
 * reference could never name anything.
 */
export function parseObjectIdentifiers(raw: unknown, field = 'identifiers'): ObjectRef {
  if (!isPlainObject(raw))
    throw fail('invalid_identifier', `${field}: required, an object with object_type_id and object_id.`, field);
  if (Object.hasOwn(raw, 'cio_object_id'))
    throw fail(
      'invalid_identifier',
      `${field}: cio_object_id is not supported; Roster names objects by object_type_id and object_id.`,
      'cio_object_id',
    );
  const extra = Object.keys(raw).find((k) => k !== 'object_type_id' && k !== 'object_id');
  if (extra !== undefined) throw fail('invalid_identifier', `${field}: "${extra}" is not an object identifier.`, extra);
  if (raw.object_type_id === undefined)
    throw fail('invalid_identifier', `${field}: object_type_id is required.`, 'object_type_id');
  if (raw.object_id === undefined) throw fail('invalid_identifier', `${field}: object_id is required.`, 'object_id');
  return { typeId: parseObjectTypeId(raw.object_type_id), objectId: parseObjectId(raw.object_id) };
}

/** A person named by exactly one of `id`, `email`, `cio_id` or `anonymous_id`. */
export function parsePersonLink(raw: unknown, field: string, mode: IdentifierMode): PersonLink {
  if (!isPlainObject(raw))
    throw fail(
      'invalid_identifier',
      `${field}: required, an object with one of id, email, cio_id or anonymous_id.`,
      field,
    );
  const entries = Object.entries(raw);
  if (entries.length !== 1) throw fail('invalid_identifier', `${field}: you cannot pass multiple identifiers.`, field);
  const [type, value] = entries[0]!;
  if (type === 'anonymous_id') return { anonymousId: parseAnonymousId(value) };
  return { ref: parseTypedReference(type, value, mode) };
}

/**
 * An attribute map (object attributes, relationship attributes): each name and value within the limits, at most 300
 * per call; `null`/`""` remove. Keys in `skip` are left for the caller.
 */
export function parseAttributeChanges(
  raw: unknown,
  field: string,
  notAnObject: ErrorCode = 'invalid_body',
  skip: ReadonlySet<string> = new Set(),
): AttributeChanges {
  if (raw === undefined || raw === null) return {};
  if (!isPlainObject(raw)) throw fail(notAnObject, `${field}: must be a JSON object.`, field);
  const keys = Object.keys(raw).filter((k) => !skip.has(k));
  if (keys.length > limits.attributesPerCall)
    throw fail('too_many_attributes', `${field}: a call may carry at most ${limits.attributesPerCall} attributes.`);
  const changes: AttributeChanges = {};
  for (const key of keys) changes[key] = parseAttribute(key, raw[key]);
  return changes;
}

// The person's, not the object's: Segment copies the sender's anonymousId into every object's attributes.
const objectHandledKeys = new Set(['created_at', 'anonymous_id']);

/** An object's attributes: `created_at` read as the object's creation time, `anonymous_id` dropped. */
export function parseObjectAttributes(raw: unknown, createdAtRaw?: unknown): ObjectAttributesPayload {
  const changes = parseAttributeChanges(raw, 'attributes', 'invalid_body', objectHandledKeys);
  const payload: ObjectAttributesPayload = { changes };
  const fromAttributes = isPlainObject(raw) ? raw.created_at : undefined;
  const created = createdAtRaw ?? fromAttributes;
  if (created !== undefined && created !== null && created !== '') payload.createdAt = parseCreatedAt(created);
  return payload;
}

function listOf(raw: unknown, field: string): unknown[] {
  if (!Array.isArray(raw)) throw fail('invalid_relationship', `${field}: must be an array of relationships.`, field);
  if (raw.length > limits.relationshipsPerCall)
    throw fail(
      'invalid_relationship',
      `${field}: at most ${limits.relationshipsPerCall} relationships per call.`,
      field,
    );
  return raw;
}

function itemOf(raw: unknown, field: string): Record<string, unknown> {
  if (!isPlainObject(raw))
    throw fail('invalid_relationship', `${field}: each relationship is an object with identifiers.`, field);
  return raw;
}

const relationshipAttributes = (item: Record<string, unknown>, field: string) =>
  parseAttributeChanges(item.relationship_attributes, `${field}.relationship_attributes`, 'invalid_relationship');

/** A person's `cio_relationships` array: `[{identifiers:{object_type_id, object_id}, relationship_attributes?}]`. */
export function parseObjectRelationships(raw: unknown, field = 'cio_relationships'): RelationshipChange[] {
  return listOf(raw, field).map((entry, i) => {
    const item = itemOf(entry, `${field}[${i}]`);
    return {
      object: parseObjectIdentifiers(item.identifiers, `${field}[${i}].identifiers`),
      attributes: relationshipAttributes(item, `${field}[${i}]`),
    };
  });
}

/** An object's `cio_relationships` array: `[{identifiers:{id|email|cio_id|anonymous_id}, relationship_attributes?}]`. */
export function parsePersonLinks(raw: unknown, mode: IdentifierMode, field = 'cio_relationships'): LinkChange[] {
  return listOf(raw, field).map((entry, i) => {
    const item = itemOf(entry, `${field}[${i}]`);
    return {
      person: parsePersonLink(item.identifiers, `${field}[${i}].identifiers`, mode),
      attributes: relationshipAttributes(item, `${field}[${i}]`),
    };
  });
}

const v1Actions: Record<string, PersonRelationships['action']> = {
  add_relationships: 'add',
  delete_relationships: 'delete',
};

/**
 * `cio_relationships` in a v1 identify body: `{action: "add_relationships"|"delete_relationships", relationships:[…]}`.
 * A bare array (the v2 shape) means add; so does a missing action.
 */
export function parseIdentifyRelationships(raw: unknown): PersonRelationships {
  if (Array.isArray(raw)) return { action: 'add', items: parseObjectRelationships(raw) };
  if (!isPlainObject(raw))
    throw fail('invalid_relationship', 'cio_relationships: must be {action, relationships:[…]}.', 'cio_relationships');
  const actionRaw = raw.action ?? 'add_relationships';
  const action =
    typeof actionRaw === 'string' && Object.hasOwn(v1Actions, actionRaw) ? v1Actions[actionRaw] : undefined;
  if (action === undefined)
    throw fail(
      'invalid_relationship',
      'cio_relationships.action: must be add_relationships or delete_relationships.',
      'cio_relationships.action',
    );
  return { action, items: parseObjectRelationships(raw.relationships, 'cio_relationships.relationships') };
}

/**
 * Merges attribute changes into an object or a relationship (attributes.ts rules), then holds it to the object limits:
 * at most 300 attributes and 100,000 bytes of JSON in all.
 */
export function mergeObjectAttributes(
  what: 'object' | 'relationship',
  current: Attributes,
  currentTs: AttributeTimestamps,
  changes: AttributeChanges,
  callTs: number,
): MergedAttributes {
  let merged: MergedAttributes;
  try {
    merged = mergeAttributes(current, currentTs, changes, callTs);
  } catch (err) {
    if (err instanceof RosterError && err.code === 'too_many_attributes')
      throw fail('too_many_attributes', `An ${what} may have at most ${limits.attributesPerPerson} attributes.`);
    throw err;
  }
  if (byteLength(JSON.stringify(merged.attributes)) > limits.objectAttributesTotalBytes)
    throw fail(
      'too_many_attributes',
      `An ${what}'s attributes may total at most ${limits.objectAttributesTotalBytes} bytes of JSON.`,
    );
  return merged;
}
