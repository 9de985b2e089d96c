import { fail } from './errors.js';

// Strict ISO-8601 date or date-time; looser shapes (ids, phone numbers) must not be taken for dates.
const isoDate = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/;

/** True for a strict ISO-8601 date or date-time string. */
export const isIsoDate = (value: string): boolean => isoDate.test(value) && !Number.isNaN(Date.parse(value));

/** Parses an ISO-8601 string to unix seconds, or returns undefined. Fractions beyond milliseconds are cut. */
export function isoToUnixSeconds(value: string): number | undefined {
  if (!isoDate.test(value)) return undefined;
  const trimmed = value.replace(/(\.\d{3})\d+/, '$1');
  const ms = Date.parse(trimmed);
  return Number.isNaN(ms) ? undefined : Math.floor(ms / 1000);
}

/**
 * Reads a call timestamp (unix seconds, unix milliseconds, or ISO-8601) into unix milliseconds.
 * Numbers above 1e11 are taken as milliseconds: no seconds value reaches that before the year 5138.
 */
export function parseCallTimestamp(raw: unknown, field = 'timestamp'): number | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (typeof raw === 'number' && Number.isFinite(raw) && raw >= 0)
    return raw > 1e11 ? Math.floor(raw) : Math.floor(raw * 1000);
  if (typeof raw === 'string') {
    if (/^\d+(\.\d+)?$/.test(raw)) return parseCallTimestamp(Number(raw), field);
    const s = isoToUnixSeconds(raw);
    if (s !== undefined) return s * 1000;
  }
  throw fail('invalid_timestamp', `${field}: must be unix seconds or an ISO-8601 date.`, field);
}

/** Reads a `created_at` value into unix seconds. */
export function parseCreatedAt(raw: unknown): number {
  const ms = parseCallTimestamp(raw, 'created_at');
  if (ms === undefined) throw fail('invalid_timestamp', 'created_at: must be unix seconds or an ISO-8601 date.');
  return Math.floor(ms / 1000);
}
