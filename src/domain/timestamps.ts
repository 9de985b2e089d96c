import { fail } from './errors.js';

// Strict ISO-8601 date or date-time; looser shapes (ids, phone numbers) must not be taken for dates.
const isoDate =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|([+-])(\d{2}):?(\d{2}))?)?$/;

/** The value of `count` ASCII digits of `s` from `from`, or -1 when one of them is not a digit. */
function digitsAt(s: string, from: number, count: number): number {
  let n = 0;
  for (let i = from; i < from + count; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    n = n * 10 + c;
  }
  return n;
}

const isLeapYear = (y: number): boolean => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
const daysInMonth = (y: number, mo: number): number =>
  mo === 2 ? (isLeapYear(y) ? 29 : 28) : mo === 4 || mo === 6 || mo === 9 || mo === 11 ? 30 : 31;
/** 400 Gregorian years, in milliseconds: Date.UTC reads years 0–99 as 1900–1999, so those are computed 400 on. */
const gregorianCycleMs = 146_097 * 86_400_000;

/** A UTC wall-clock time in unix milliseconds, or undefined when no such moment exists (Feb 30, hour 25). */
function utcMs(y: number, mo: number, d: number, h: number, mi: number, sec: number, ms: number): number | undefined {
  if (mo < 1 || mo > 12 || d < 1 || d > daysInMonth(y, mo) || h > 23 || mi > 59 || sec > 59) return undefined;
  return y < 100
    ? Date.UTC(y + 400, mo - 1, d, h, mi, sec, ms) - gregorianCycleMs
    : Date.UTC(y, mo - 1, d, h, mi, sec, ms);
}

/**
 * `YYYY-MM-DDTHH:MM:SS.sssZ`, Date#toISOString's form (what JavaScript clients such as analytics-node send), read by
 * character codes: every Segment message's timestamp comes here, and the regex with its eleven groups took ~4× as long.
 * Null when the value is not of that form (it may still be ISO-8601 of another).
 */
function canonicalIsoToUnixMs(v: string): number | undefined | null {
  if (v.length !== 24 || v.charCodeAt(23) !== 90 /* Z */ || v.charCodeAt(10) !== 84 /* T */) return null;
  const y = digitsAt(v, 0, 4);
  const mo = digitsAt(v, 5, 2);
  const d = digitsAt(v, 8, 2);
  const h = digitsAt(v, 11, 2);
  const mi = digitsAt(v, 14, 2);
  const sec = digitsAt(v, 17, 2);
  const ms = digitsAt(v, 20, 3);
  const punctuated =
    v.charCodeAt(4) === 45 && v.charCodeAt(7) === 45 && v.charCodeAt(13) === 58 && v.charCodeAt(16) === 58;
  if (!punctuated || v.charCodeAt(19) !== 46 || y < 0 || mo < 0 || d < 0 || h < 0 || mi < 0 || sec < 0 || ms < 0)
    return null;
  return utcMs(y, mo, d, h, mi, sec, ms);
}

/**
 * Parses a strict ISO-8601 string to unix milliseconds, or undefined. Impossible dates (Feb 30, hour 25) are refused,
 * a time without an offset is UTC (never the server's zone), and fractions beyond milliseconds are cut.
 */
function isoToUnixMs(value: string): number | undefined {
  const canonical = canonicalIsoToUnixMs(value);
  if (canonical !== null) return canonical;
  const m = isoDate.exec(value);
  if (!m) return undefined;
  // No arrays or closures per call: Segment messages' other timestamp forms come here.
  const utc = utcMs(
    Number(m[1]),
    Number(m[2]),
    Number(m[3]),
    m[4] === undefined ? 0 : Number(m[4]),
    m[5] === undefined ? 0 : Number(m[5]),
    m[6] === undefined ? 0 : Number(m[6]),
    m[7] === undefined ? 0 : Number(m[7].slice(0, 3).padEnd(3, '0')),
  );
  if (utc === undefined || m[9] === undefined) return utc;
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
