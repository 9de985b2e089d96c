import { parseAttribute, parseUnsubscribed, type AttributeChanges } from './attributes.js';
import { fail } from './errors.js';
import { parseBodyEmail, parseBodyId } from './identifiers.js';
import { byteLength, limits } from './limits.js';
import { parseIdentifyRelationships, type PersonRelationships } from './objects.js';
import { parseCallTimestamp, parseCreatedAt } from './timestamps.js';
import type { IdentifierMode } from './workspace.js';

/** An identify call's body, validated: identifiers apart, attribute changes ready to merge. */
export interface IdentifyPayload {
  bodyId?: string;
  bodyEmail?: string;
  /** id_only workspaces: `email: null` removes the email attribute. */
  removeEmail: boolean;
  anonymousId?: string;
  updateOnly: boolean;
  /** Unix ms of the call, when the sender gave one. */
  timestamp?: number;
  /** Unix seconds. */
  createdAt?: number;
  changes: AttributeChanges;
  /** `cio_relationships`: object relationships added to or removed from the person after the identify. */
  relationships?: PersonRelationships;
}

// Keys with a meaning of their own; never stored as plain attributes.
const handledKeys = new Set([
  'id',
  'email',
  'cio_id',
  'anonymous_id',
  '_timestamp',
  '_update',
  'created_at',
  'cio_relationships',
]);

/** Validates an identify body (v1 body, v2 `attributes`, or Segment traits already mapped). */
export function parseIdentifyPayload(body: unknown, mode: IdentifierMode, timestampRaw?: unknown): IdentifyPayload {
  if (body === null || typeof body !== 'object' || Array.isArray(body))
    throw fail('invalid_body', 'The body must be a JSON object of attributes.');
  const input = body as Record<string, unknown>;
  const payload: IdentifyPayload = { removeEmail: false, updateOnly: false, changes: {} };
  const attributeCount = Object.keys(input).filter((k) => !handledKeys.has(k)).length;
  if (attributeCount > limits.attributesPerCall)
    throw fail('too_many_attributes', `A call may carry at most ${limits.attributesPerCall} attributes.`);

  if (input.id !== undefined && input.id !== null && input.id !== '') payload.bodyId = parseBodyId(input.id);
  if (input.email === null || input.email === '') payload.removeEmail = mode === 'id_only';
  else if (input.email !== undefined) payload.bodyEmail = parseBodyEmail(input.email);
  if (input.anonymous_id !== undefined && input.anonymous_id !== null && input.anonymous_id !== '') {
    if (typeof input.anonymous_id !== 'string' || byteLength(input.anonymous_id) > limits.identifierBytes)
      throw fail('invalid_identifier', 'anonymous_id: must be a string of at most 150 bytes.', 'anonymous_id');
    payload.anonymousId = input.anonymous_id;
  }
  if (input._update !== undefined) {
    if (typeof input._update !== 'boolean') throw fail('invalid_body', '_update: must be a boolean.', '_update');
    payload.updateOnly = input._update;
  }
  const ts = parseCallTimestamp(
    timestampRaw ?? input._timestamp,
    timestampRaw === undefined ? '_timestamp' : 'timestamp',
  );
  if (ts !== undefined) payload.timestamp = ts;
  if (input.created_at !== undefined && input.created_at !== null && input.created_at !== '')
    payload.createdAt = parseCreatedAt(input.created_at);
  if (input.cio_relationships !== undefined && input.cio_relationships !== null)
    payload.relationships = parseIdentifyRelationships(input.cio_relationships);

  for (const [key, raw] of Object.entries(input)) {
    if (handledKeys.has(key)) continue;
    if (key === 'unsubscribed') {
      payload.changes.unsubscribed = parseUnsubscribed(raw);
      continue;
    }
    payload.changes[key] = parseAttribute(key, raw);
  }
  return payload;
}
