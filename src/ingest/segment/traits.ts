import { isoToUnixSeconds } from '../../domain/timestamps.js';

/**
 * ISO-8601 strings become unix seconds, recursively, as the classic destination's `convertToUnixTime` did.
 * Only strict ISO-8601 matches, so ids and phone numbers are never taken for dates.
 */
export function convertIsoDates(value: unknown): unknown {
  if (typeof value === 'string') return isoToUnixSeconds(value) ?? value;
  if (Array.isArray(value)) return value.map(convertIsoDates);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = convertIsoDates(v);
    return out;
  }
  return value;
}

/** Segment traits as Roster identify attributes: `createdAt`/`created_at` → `created_at`, dates converted if asked. */
export function traitsToAttributes(traits: Record<string, unknown>, convertDates: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(traits)) {
    if (k === 'createdAt') continue;
    out[k] = convertDates && k !== 'id' && k !== 'email' ? convertIsoDates(v) : v;
  }
  const created = traits.created_at ?? traits.createdAt;
  if (created !== undefined && created !== null && created !== '') out.created_at = created;
  return out;
}
