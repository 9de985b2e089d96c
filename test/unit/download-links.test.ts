/** download-links.ts: a signed export link works until it expires, and any alteration is refused. */
import { describe, expect, it } from 'vitest';
import { downloadLinkKey, signDownload, verifyDownload } from '../../src/domain/download-links.js';
import { named, refusalOf } from './support.js';

const key = downloadLinkKey(Buffer.alloc(32, 7));
const now = 1_700_000_000_000;
const { exp, sig } = signDownload(key, 42, now + 60_000);

describe('verifyDownload', () => {
  const rows: { title: string; id: number; exp: unknown; sig: unknown; at: number; code: string | null }[] = [
    { title: 'the genuine link, in time', id: 42, exp: String(exp), sig, at: now, code: null },
    { title: 'a second before it expires', id: 42, exp: String(exp), sig, at: exp * 1000 - 1000, code: null },
    { title: 'at its expiry', id: 42, exp: String(exp), sig, at: exp * 1000, code: 'link_expired' },
    { title: 'after its expiry', id: 42, exp: String(exp), sig, at: now + 3_600_000, code: 'link_expired' },
    { title: 'another export id', id: 43, exp: String(exp), sig, at: now, code: 'invalid_signature' },
    { title: 'exp pushed later', id: 42, exp: String(exp + 3600), sig, at: now, code: 'invalid_signature' },
    {
      title: 'a changed signature',
      id: 42,
      exp: String(exp),
      sig: sig.slice(0, -1) + (sig.endsWith('A') ? 'B' : 'A'),
      at: now,
      code: 'invalid_signature',
    },
    { title: 'a truncated signature', id: 42, exp: String(exp), sig: sig.slice(1), at: now, code: 'invalid_signature' },
    { title: 'no signature', id: 42, exp: String(exp), sig: undefined, at: now, code: 'invalid_signature' },
    { title: 'no exp', id: 42, exp: undefined, sig, at: now, code: 'invalid_signature' },
    { title: 'exp not a number', id: 42, exp: '1e99', sig, at: now, code: 'invalid_signature' },
    {
      title: 'signed with another key',
      id: 42,
      exp: String(exp),
      sig: signDownload(downloadLinkKey(Buffer.alloc(32, 8)), 42, now + 60_000).sig,
      at: now,
      code: 'invalid_signature',
    },
  ];
  it.each(named(rows, (r) => r.title))('%s', (_t, r) => {
    const refusal = refusalOf(() => verifyDownload(key, r.id, r.exp, r.sig, r.at));
    expect(refusal.code).toBe(r.code);
  });
});
