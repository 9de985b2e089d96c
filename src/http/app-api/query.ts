import { fail } from '../../domain/errors.js';

/** `limit` for an App API list: a whole number from 1 to `max`, `fallback` when absent. */
export function parseLimit(raw: unknown, max: number, fallback: number): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > max)
    throw fail('invalid_query', `limit: a whole number from 1 to ${max}.`, 'limit');
  return n;
}
