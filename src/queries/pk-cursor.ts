import { fail } from '../domain/errors.js';

/**
 * The opaque `start`/`next` cursor of a list ordered by primary key: the last pk given out, tagged with the list's
 * name so one list's cursor is refused by another. Rows written meanwhile never shift a page (keyset, not OFFSET).
 */
export const encodePkCursor = (list: string, pk: number): string => Buffer.from(`${list}:${pk}`).toString('base64url');

/** The pk after which a page starts: 0 when `start` is absent or empty; 400 `invalid_query` for a foreign cursor. */
export function decodePkCursor(list: string, raw: unknown): number {
  if (raw === undefined || raw === '') return 0;
  if (typeof raw === 'string') {
    const text = Buffer.from(raw, 'base64url').toString('utf8');
    const m = /^([a-z_]+):([0-9]{1,15})$/.exec(text);
    if (m && m[1] === list) return Number(m[2]);
  }
  throw fail('invalid_query', 'start: not a cursor this API gave out.', 'start');
}

/** Cuts a page fetched with limit + 1 rows: the rows to give out and the `next` cursor ("" on the last page). */
export function pageOf<T>(
  list: string,
  rows: T[],
  limit: number,
  pkOf: (row: T) => number,
): { rows: T[]; next: string } {
  if (rows.length <= limit) return { rows, next: '' };
  const page = rows.slice(0, limit);
  return { rows: page, next: encodePkCursor(list, pkOf(page[page.length - 1]!)) };
}
