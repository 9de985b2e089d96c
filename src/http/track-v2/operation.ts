import { parseDevicePayload, parseDeviceToken } from '../../domain/devices.js';
import { fail, shown } from '../../domain/errors.js';
import { parseEventPayload } from '../../domain/events.js';
import { parseIdentifyPayload } from '../../domain/identify-payload.js';
import { parseTypedReference, type Reference } from '../../domain/identifiers.js';
import { byteLength, limits } from '../../domain/limits.js';
import {
  parseObjectAttributes,
  parseObjectIdentifiers,
  parseObjectRelationships,
  parsePersonLink,
  parsePersonLinks,
} from '../../domain/objects.js';
import { parseCallTimestamp } from '../../domain/timestamps.js';
import type { IdentifierMode } from '../../domain/workspace.js';
import type { Command } from '../../ingest/commands.js';

type Operation = Record<string, unknown>;

function singleIdentifier(raw: unknown, field: string, mode: IdentifierMode): Reference {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw))
    throw fail('invalid_identifier', `${field}: required, an object with one of id, email or cio_id.`, field);
  const entries = Object.entries(raw);
  if (entries.length !== 1) throw fail('invalid_identifier', `${field}: you cannot pass multiple identifiers.`, field);
  const [type, value] = entries[0]!;
  return parseTypedReference(type, value, mode);
}

function objectOrEmpty(raw: unknown, field: string): Record<string, unknown> {
  if (raw === undefined || raw === null) return {};
  if (typeof raw !== 'object' || Array.isArray(raw))
    throw fail('invalid_body', `${field}: must be a JSON object.`, field);
  return raw as Record<string, unknown>;
}

/** `cio_relationships` where an action needs at least one. */
function required(raw: unknown): unknown[] {
  if (!Array.isArray(raw) || raw.length === 0)
    throw fail('invalid_relationship', 'cio_relationships: required, a non-empty array.', 'cio_relationships');
  return raw;
}

/**
 * Turns one Track API v2 operation (`{type, action, identifiers, …}`) into a command. `fits`: the request body it
 * came in is at most 32 KB, so the operation is too and need not be encoded again to be measured.
 */
export function parseV2Operation(raw: unknown, mode: IdentifierMode, fits = false): Command {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw))
    throw fail('invalid_body', 'Each operation must be a JSON object.');
  if (!fits && byteLength(JSON.stringify(raw)) > limits.entityBodyBytes)
    throw fail('payload_too_large', `An operation may be at most ${limits.entityBodyBytes} bytes.`);
  const op = raw as Operation;
  if (op.type === 'person') return parsePersonOperation(op, mode);
  if (op.type === 'object') return parseObjectOperation(op, mode);
  throw fail(
    'invalid_action',
    `type: "${shown(op.type)}" is not supported; Roster takes person and object operations.`,
    'type',
  );
}

function parsePersonOperation(op: Operation, mode: IdentifierMode): Command {
  const action = op.action;
  if (action === 'merge') {
    return {
      kind: 'merge',
      primary: singleIdentifier(op.primary, 'primary', mode),
      secondary: singleIdentifier(op.secondary, 'secondary', mode),
    };
  }
  switch (action) {
    case 'event':
    case 'page':
    case 'screen': {
      // Segment's Actions destination names an anonymous visitor `identifiers: {anonymous_id}`.
      const link = parsePersonLink(op.identifiers, 'identifiers', mode);
      const event = parseEventPayload({ ...op, type: action }, 'attributes');
      return 'ref' in link
        ? { kind: 'event', ref: link.ref, event }
        : { kind: 'anonymous_event', anonymousId: link.anonymousId, event };
    }
    case 'add_relationships':
    case 'delete_relationships': {
      const person = parsePersonLink(op.identifiers, 'identifiers', mode);
      const items = parseObjectRelationships(required(op.cio_relationships));
      return {
        kind: 'relationships',
        action: action === 'add_relationships' ? 'add' : 'delete',
        pairs: items.map((item) => ({ person, object: item.object, attributes: item.attributes })),
      };
    }
  }
  const ref = singleIdentifier(op.identifiers, 'identifiers', mode);
  switch (action) {
    case 'identify': {
      const payload = parseIdentifyPayload(objectOrEmpty(op.attributes, 'attributes'), mode, op.timestamp);
      if (op.cio_relationships !== undefined && op.cio_relationships !== null)
        payload.relationships = { action: 'add', items: parseObjectRelationships(op.cio_relationships) };
      return { kind: 'identify', ref, payload };
    }
    case 'delete':
      return { kind: 'delete', ref };
    case 'suppress':
      return { kind: 'suppress', ref };
    case 'unsuppress':
      return { kind: 'unsuppress', ref };
    case 'add_device':
      return { kind: 'add_device', ref, device: parseDevicePayload(op.device, 'token') };
    case 'delete_device':
      return { kind: 'delete_device', ref, token: parseDeviceToken(objectOrEmpty(op.device, 'device').token, 'token') };
    default:
      throw fail('invalid_action', `action: "${shown(action)}" is not supported for people.`, 'action');
  }
}

/** `type: "object"`: identify / identify_anonymous (the same to Roster), delete, add/delete_relationships. */
function parseObjectOperation(op: Operation, mode: IdentifierMode): Command {
  const action = op.action;
  const known = ['identify', 'identify_anonymous', 'delete', 'add_relationships', 'delete_relationships'];
  if (typeof action !== 'string' || !known.includes(action))
    throw fail('invalid_action', `action: "${shown(action)}" is not supported for objects.`, 'action');
  const object = parseObjectIdentifiers(op.identifiers);
  switch (action) {
    case 'delete':
      return { kind: 'object_delete', object };
    case 'add_relationships':
    case 'delete_relationships':
      return {
        kind: 'relationships',
        action: action === 'add_relationships' ? 'add' : 'delete',
        pairs: parsePersonLinks(required(op.cio_relationships), mode).map((link) => ({ ...link, object })),
      };
    default: {
      const { changes, createdAt } = parseObjectAttributes(op.attributes, op.created_at);
      const links =
        op.cio_relationships === undefined || op.cio_relationships === null
          ? []
          : parsePersonLinks(op.cio_relationships, mode);
      const timestamp = parseCallTimestamp(op.timestamp);
      return { kind: 'object_identify', object, changes, timestamp, createdAt, relationships: links };
    }
  }
}
