import { parseAttribute, type AttributeChanges } from '../../domain/attributes.js';
import { parseDevicePayload } from '../../domain/devices.js';
import { RosterError, shown } from '../../domain/errors.js';
import { parseEventPayload } from '../../domain/events.js';
import { parseIdentifyPayload } from '../../domain/identify-payload.js';
import { parseReference, type Reference } from '../../domain/identifiers.js';
import { parseCallTimestamp } from '../../domain/timestamps.js';
import type { IdentifierMode } from '../../domain/workspace.js';
import type { Command, PersonLink } from '../commands.js';
import { convertIsoDates, traitsToAttributes } from './traits.js';

/** What the mapping needs to know about the workspace. */
export interface SegmentMappingSettings {
  identifiers: IdentifierMode;
  convertTimestamps: boolean;
}

/** A message that will not be applied, and why (logged; Segment's convention answers 200 all the same). */
export interface Rejection {
  outcome: string;
  reason: string;
  reference: string | null;
}

/** One Segment message, mapped: its commands, or why it is dropped. */
export type MappedMessage =
  | { messageId: string | null; commands: Command[]; rejected?: undefined }
  | { messageId: string | null; commands: []; rejected: Rejection };

type Msg = Record<string, unknown>;

const deviceEvents = new Set(['Application Installed', 'Application Opened', 'Device Created or Updated']);
const deviceDeleteEvents = new Set(['Application Uninstalled', 'Device Deleted']);
const personEvents: Record<string, 'delete' | 'suppress' | 'unsuppress'> = {
  'User Deleted': 'delete',
  'User Suppressed': 'suppress',
  'User Unsuppressed': 'unsuppress',
};

const asObject = (v: unknown): Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};

/** userId/anonymousId/groupId/previousId: strings or numbers; empty and null mean absent. */
function idField(v: unknown): string | undefined {
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  if (typeof v === 'string' && v.trim() !== '') return v;
  return undefined;
}

/** The message's time in unix ms; an unreadable timestamp means "now", as Customer.io's backend does. */
function messageTime(msg: Msg): number | undefined {
  try {
    return parseCallTimestamp(msg.timestamp ?? msg.originalTimestamp);
  } catch {
    return undefined;
  }
}

function reject(
  messageId: string | null,
  outcome: string,
  reason: string,
  reference: string | null = null,
): MappedMessage {
  return { messageId, commands: [], rejected: { outcome, reason, reference } };
}

/**
 * Maps one Segment message onto Roster commands (segment-mapping.md). Pure: no lookups; the appliers decide
 * anything that depends on who exists.
 */
export function mapSegmentMessage(msg: Msg, settings: SegmentMappingSettings): MappedMessage {
  const messageId = idField(msg.messageId) ?? null;
  const userId = idField(msg.userId);
  const anonymousId = idField(msg.anonymousId);
  const type = typeof msg.type === 'string' ? msg.type.toLowerCase() : '';
  const reference = userId ?? anonymousId ?? null;
  try {
    const userRef = userId === undefined ? undefined : parseReference(userId, settings.identifiers);
    const convert = (v: unknown) => (settings.convertTimestamps ? convertIsoDates(v) : v);
    const timestamp = messageTime(msg);
    const ok = (...commands: Command[]): MappedMessage => ({ messageId, commands });
    const noIdentifier = () => reject(messageId, 'no_identifier', `${type} without userId or anonymousId`, reference);

    switch (type) {
      case 'identify': {
        const traits = asObject(msg.traits);
        const attrs = traitsToAttributes(traits, settings.convertTimestamps);
        if (anonymousId !== undefined) attrs.anonymous_id = anonymousId;
        const payload = parseIdentifyPayload(attrs, settings.identifiers, timestamp);
        let ref: Reference | undefined = userRef;
        if (!ref && settings.identifiers === 'email_or_id' && payload.bodyEmail !== undefined)
          ref = parseReference(payload.bodyEmail, settings.identifiers);
        if (!ref) return reject(messageId, 'no_identifier', 'identify without userId or an email trait', reference);
        return ok({ kind: 'identify', ref, payload });
      }
      case 'track': {
        const name = typeof msg.event === 'string' ? msg.event : '';
        const properties = asObject(msg.properties);
        const context = asObject(msg.context);
        const device = asObject(context.device);
        const personOp = personEvents[name];
        if (personOp) return userRef ? ok({ kind: personOp, ref: userRef }) : noIdentifier();
        if (deviceDeleteEvents.has(name) && userRef && typeof device.token === 'string')
          return ok({ kind: 'delete_device', ref: userRef, token: device.token });
        const event = parseEventPayload({ name, id: messageId, timestamp, data: convert(properties) });
        const commands: Command[] = [];
        if (deviceEvents.has(name) && userRef && typeof device.token === 'string') {
          const appVersion = asObject(context.app).version;
          commands.push({
            kind: 'add_device',
            ref: userRef,
            device: parseDevicePayload(
              {
                token: device.token,
                platform: typeof device.type === 'string' && device.type ? device.type : 'unknown',
                last_used: timestamp,
                attributes: { ...(appVersion === undefined ? {} : { app_version: appVersion }), ...properties },
              },
              'token',
            ),
          });
        }
        if (userRef) commands.push({ kind: 'event', ref: userRef, event });
        else if (anonymousId !== undefined) commands.push({ kind: 'anonymous_event', anonymousId, event });
        else return noIdentifier();
        return ok(...commands);
      }
      case 'page':
      case 'screen': {
        const properties = asObject(msg.properties);
        const page = asObject(asObject(msg.context).page);
        const candidates = type === 'page' ? [properties.url, page.url, msg.name] : [msg.name, properties.name];
        const name = candidates.find((c): c is string => typeof c === 'string' && c.trim() !== '');
        if (name === undefined) return reject(messageId, 'invalid_event', `${type} without a name`, reference);
        const event = parseEventPayload({ name, type, id: messageId, timestamp, data: convert(properties) });
        if (userRef) return ok({ kind: 'event', ref: userRef, event });
        if (anonymousId !== undefined) return ok({ kind: 'anonymous_event', anonymousId, event });
        return noIdentifier();
      }
      case 'group': {
        const groupId = idField(msg.groupId);
        if (groupId === undefined) return reject(messageId, 'invalid_object', 'group without groupId', reference);
        const traits = asObject(convert(msg.traits));
        const typeId = idField(traits.object_type_id ?? traits.objectTypeId) ?? '1';
        const person: PersonLink | undefined = userRef
          ? { ref: userRef }
          : anonymousId !== undefined
            ? { anonymousId }
            : undefined;
        const changes: AttributeChanges = {};
        for (const [k, v] of Object.entries(traits))
          if (k !== 'object_type_id' && k !== 'objectTypeId') changes[k] = parseAttribute(k, v);
        return ok({
          kind: 'object_identify',
          object: { typeId, objectId: groupId },
          changes,
          timestamp,
          relationships: person ? [{ person, attributes: {} }] : [],
        });
      }
      case 'alias': {
        const previousId = idField(msg.previousId);
        if (!userRef || previousId === undefined)
          return reject(messageId, 'no_identifier', 'alias needs userId and previousId', reference);
        return ok({ kind: 'alias', userRef, previousId });
      }
      case 'delete':
        return userRef ? ok({ kind: 'delete', ref: userRef }) : noIdentifier();
      default:
        return reject(messageId, 'invalid_type', `unknown message type "${shown(msg.type)}"`, reference);
    }
  } catch (err) {
    if (err instanceof RosterError) return reject(messageId, err.code, err.message, reference);
    throw err;
  }
}
