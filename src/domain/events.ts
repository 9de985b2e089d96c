import { fail } from './errors.js';
import { byteLength, limits } from './limits.js';
import { parseCallTimestamp } from './timestamps.js';

export type EventType = 'event' | 'page' | 'screen';
const eventTypes = new Set<string>(['event', 'page', 'screen']);

/** A person or anonymous event, validated. */
export interface EventPayload {
  name: string;
  type: EventType;
  /** Sender's event id (Segment messageId): deduplicates within the workspace. */
  eventId?: string;
  /** Unix ms. */
  timestamp?: number;
  data: Record<string, unknown>;
}

/** Validates an event body `{name, type?, id?, timestamp?, data?}` against the Track API limits. */
export function parseEventPayload(body: unknown, dataKey: 'data' | 'attributes' = 'data'): EventPayload {
  if (body === null || typeof body !== 'object' || Array.isArray(body))
    throw fail('invalid_body', 'The body must be a JSON object.');
  const input = body as Record<string, unknown>;
  if (typeof input.name !== 'string' || input.name.trim().length === 0)
    throw fail('invalid_event', 'name: required, a non-empty string.', 'name');
  const name = input.name.trim();
  if (byteLength(name) > limits.eventNameBytes)
    throw fail('invalid_event', `name: at most ${limits.eventNameBytes} bytes.`, 'name');
  const type = input.type ?? 'event';
  if (typeof type !== 'string' || !eventTypes.has(type))
    throw fail('invalid_event', 'type: must be event, page or screen.', 'type');
  const payload: EventPayload = { name, type: type as EventType, data: {} };
  if (input.id !== undefined && input.id !== null && input.id !== '') {
    if (
      (typeof input.id !== 'string' && typeof input.id !== 'number') ||
      byteLength(String(input.id)) > limits.eventIdBytes
    )
      throw fail('invalid_event', `id: a string of at most ${limits.eventIdBytes} bytes.`, 'id');
    payload.eventId = String(input.id);
  }
  const ts = parseCallTimestamp(input.timestamp);
  if (ts !== undefined) payload.timestamp = ts;
  const data = input[dataKey];
  if (data !== undefined && data !== null) {
    if (typeof data !== 'object' || Array.isArray(data))
      throw fail('invalid_event', `${dataKey}: must be a JSON object.`, dataKey);
    if (byteLength(JSON.stringify(data)) > limits.eventDataBytes)
      throw fail('invalid_event', `${dataKey}: at most ${limits.eventDataBytes} bytes of JSON.`, dataKey);
    payload.data = data as Record<string, unknown>;
  }
  return payload;
}
