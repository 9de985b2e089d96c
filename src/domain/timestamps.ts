import { fail } from './errors.js';

// Strict ISO-8601 date or date-time; looser shapes (ids, phone numbers) must not be taken for dates.
const isoDate =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|([+-])(\d{2}):?(\d{2}))?)?$/;

/**
 * Parses a strict ISO-8601 string to unix milliseconds, or undefined. Impossible dates (Feb 30, hour 25) are refused,
 * a time without an offset is UTC (never the server's zone), and fractions beyond milliseconds are cut.
 */
function isoToUnixMs(value: string): number | undefined {
  const m = isoDate.exec(value);
  if (!m) return undefined;
  // Every Segment message's timestamp is read here: no arrays or closures per call.
  const y = Number(m[1]);
  const mo = Number(m[2]);
  const d = Number(m[3]);
  const h = m[4] === undefined ? 0 : Number(m[4]);
  const mi = m[5] === undefined ? 0 : Number(m[5]);
  const sec = m[6] === undefined ? 0 : Number(m[6]);
  const ms = m[7] === undefined ? 0 : Number(m[7].slice(0, 3).padEnd(3, '0'));
  if (mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || sec > 59) return undefined;
  const utc = Date.UTC(y, mo - 1, d, h, mi, sec, ms);
  if (new Date(utc).getUTCDate() !== d) return undefined;
  if (m[9] === undefined) return utc;
  const offsetH = Number(m[10]);
  const offsetM = Number(m[11]);
  if (offsetH > 23 || offsetM > 59) return undefined;
  const sign = m[9] === '+' ? 1 : -1;
  return utc - sign * (offsetH * 60 + offsetM) * 60_000;
}

/** True for a strict ISO-8601 date or date-time string naming a real moment. */
export const isIsoDate = (value: string): boolean => isoToUnixMs(value) !== undefined;

/** Parses an ISO-8601 string to unix seconds, or returns undefined. */
export function isoToUnixSeconds(value: string): number | undefined {
  const ms = isoToUnixMs(value);
  return ms === undefined ? undefined : Math.floor(ms / 1000);
}

/** The last moment a JavaScript Date can hold, in unix milliseconds. */
const maxUnixMs = 8.64e15;

/**
 * Reads a call timestamp (unix seconds, unix milliseconds, or ISO-8601) into unix milliseconds.
 * Numbers above 1e11 are taken as milliseconds: no seconds value reaches that before the year 5138.
 */
export function parseCallTimestamp(raw: unknown, field = 'timestamp'): number | undefined {
  if (raw === undefined || raw === null) return undefined;
  // Past JavaScript's last date (year 275760) a number is no time at all; stored, it would overflow PostgreSQL's int8.
  if (typeof raw === 'number' && Number.isFinite(raw) && raw >= 0 && raw <= maxUnixMs)
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
