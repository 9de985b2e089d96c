import { createHmac, timingSafeEqual } from 'node:crypto';
import { fail } from './errors.js';

/** How long an export download link works (Customer.io: 15 minutes). */
export const downloadLinkTtlMs = 15 * 60 * 1000;

/** The signing key of download links, derived from the server's master key so it is never the key itself. */
export const downloadLinkKey = (masterKey: Buffer): Buffer =>
  createHmac('sha256', masterKey).update('roster export download link v1').digest();

const signature = (key: Buffer, exportId: number, exp: number): string =>
  createHmac('sha256', key).update(`${exportId}.${exp}`).digest('base64url');

/** The query of a signed link to an export's CSV: `exp` (unix seconds) and `sig`, an HMAC over the id and `exp`. */
export function signDownload(key: Buffer, exportId: number, expiresAtMs: number): { exp: number; sig: string } {
  const exp = Math.floor(expiresAtMs / 1000);
  return { exp, sig: signature(key, exportId, exp) };
}

/**
 * Checks a link's `exp` and `sig` for the export: 401 `invalid_signature` when anything was altered (or is missing),
 * 403 `link_expired` when it was genuine but its time has passed.
 */
export function verifyDownload(key: Buffer, exportId: number, rawExp: unknown, rawSig: unknown, nowMs: number): void {
  if (typeof rawExp !== 'string' || !/^[0-9]{1,12}$/.test(rawExp) || typeof rawSig !== 'string')
    throw fail('invalid_signature');
  const exp = Number(rawExp);
  const expected = Buffer.from(signature(key, exportId, exp));
  const given = Buffer.from(rawSig);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw fail('invalid_signature');
  if (exp * 1000 <= nowMs) throw fail('link_expired');
}
