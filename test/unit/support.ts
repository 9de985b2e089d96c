import { RosterError, type ErrorCode } from '../../src/domain/errors.js';

/** What a call refused with: the stable code and field of its RosterError, or `code: null` when it did not throw. */
export interface Refusal {
  code: ErrorCode | null;
  field?: string | undefined;
  status?: number;
}

/** Runs `fn` and reports its RosterError by code (never by message). Any other exception is rethrown. */
export function refusalOf(fn: () => unknown): Refusal {
  try {
    fn();
  } catch (error) {
    if (error instanceof RosterError) return { code: error.code, field: error.field, status: error.status };
    throw error;
  }
  return { code: null };
}

/** A string of exactly `bytes` UTF-8 bytes made of `unit` (whose byte length must divide `bytes`). */
export function ofBytes(bytes: number, unit = 'a'): string {
  const unitBytes = Buffer.byteLength(unit, 'utf8');
  if (bytes % unitBytes !== 0) throw new Error(`${bytes} is not a multiple of ${unitBytes}`);
  return unit.repeat(bytes / unitBytes);
}

/**
 * Table rows paired with a readable title, for `it.each(named(rows, title))('%s', (_title, row) => …)`.
 * (Vitest's `$field` interpolation quotes strings and cuts them at 40 characters; `%s` prints the title whole.)
 */
export function named<T>(rows: readonly T[], title: (row: T) => string): [string, T][] {
  return rows.map((row) => [title(row), row]);
}

/** A short, unambiguous rendering of a test input for titles: strings quoted, long ones abbreviated by size. */
export function show(value: unknown): string {
  if (typeof value === 'string')
    return value.length > 40
      ? `"${value.slice(0, 12)}…" (${Buffer.byteLength(value, 'utf8')} bytes)`
      : JSON.stringify(value);
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'symbol') return value.toString();
  if (value === undefined || typeof value === 'number' || typeof value === 'boolean') return String(value);
  const json = JSON.stringify(value);
  return json.length > 60 ? `${json.slice(0, 24)}… (${Buffer.byteLength(json, 'utf8')} bytes JSON)` : json;
}
