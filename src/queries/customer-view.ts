import type { DeviceRecord } from '../store/devices.js';
import type { PersonRecord } from '../store/people.js';
import type { PersonRelationshipRow } from '../store/relationships.js';
import { personRelationshipView } from './object-view.js';

/** Customer.io's App API says "attributes are all stored as strings": scalars as text, objects as JSON. */
const asString = (v: unknown): string =>
  typeof v === 'string' ? v : typeof v === 'object' ? JSON.stringify(v) : String(v);

/** The App API `customer` object (reference/customerio-api.md §4.1). */
export function customerView(p: PersonRecord, devices: DeviceRecord[], relationships: PersonRelationshipRow[] = []) {
  const attributes: Record<string, string> = {};
  for (const [k, v] of Object.entries(p.attributes)) attributes[k] = asString(v);
  attributes.cio_id = p.cioId;
  attributes.created_at = String(p.createdAt);
  if (p.id !== null) attributes.id = p.id;
  if (p.email !== null) attributes.email = p.email;
  const timestamps: Record<string, number> = { cio_id: p.createdAt };
  for (const [k, ms] of Object.entries(p.timestamps)) timestamps[k] = Math.floor(ms / 1000);
  return {
    id: p.id,
    identifiers: { email: p.email, id: p.id, cio_id: p.cioId },
    attributes,
    timestamps,
    unsubscribed: p.unsubscribed,
    devices: devices.map((d) => ({ id: d.id, platform: d.platform, last_used: d.last_used, attributes: d.attributes })),
    relationships: relationships.map(personRelationshipView),
  };
}
