import { parseDevicePayload, parseDeviceToken } from '../../domain/devices.js';
import { fail } from '../../domain/errors.js';
import { parseEventPayload } from '../../domain/events.js';
import { parseIdentifyPayload } from '../../domain/identify-payload.js';
import { parseTypedReference, type Reference } from '../../domain/identifiers.js';
import { byteLength, limits } from '../../domain/limits.js';
import type { IdentifierMode } from '../../domain/workspace.js';
import type { Command } from '../../ingest/commands.js';

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

/** Turns one Track API v2 operation (`{type, action, identifiers, …}`) into a command. */
export function parseV2Operation(raw: unknown, mode: IdentifierMode): Command {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw))
    throw fail('invalid_body', 'Each operation must be a JSON object.');
  if (byteLength(JSON.stringify(raw)) > limits.entityBodyBytes)
    throw fail('payload_too_large', `An operation may be at most ${limits.entityBodyBytes} bytes.`);
  const op = raw as Record<string, unknown>;
  if (op.type !== 'person')
    throw fail(
      'invalid_action',
      `type: "${String(op.type)}" is not supported; Roster takes person operations.`,
      'type',
    );
  const action = op.action;
  if (action === 'merge') {
    return {
      kind: 'merge',
      primary: singleIdentifier(op.primary, 'primary', mode),
      secondary: singleIdentifier(op.secondary, 'secondary', mode),
    };
  }
  const ref = singleIdentifier(op.identifiers, 'identifiers', mode);
  switch (action) {
    case 'identify':
      return {
        kind: 'identify',
        ref,
        payload: parseIdentifyPayload(objectOrEmpty(op.attributes, 'attributes'), mode, op.timestamp),
      };
    case 'event':
    case 'page':
    case 'screen':
      return { kind: 'event', ref, event: parseEventPayload({ ...op, type: action }, 'attributes') };
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
      throw fail('invalid_action', `action: "${String(action)}" is not supported for people.`, 'action');
  }
}
