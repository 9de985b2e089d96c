/** domain/people-csv.ts: which person a CSV row names, and a row as an identify call. */
import { describe, expect, it } from 'vitest';
import { identifyFromRow, referenceFromRow } from '../../src/domain/people-csv.js';
import type { IdentifierMode } from '../../src/domain/workspace.js';
import { named, refusalOf } from './support.js';

describe('referenceFromRow: cio_id, else id, else email (email_or_id only)', () => {
  const rows: { row: Record<string, string>; mode: IdentifierMode; ref?: unknown; code?: string }[] = [
    { row: { id: 'u1', email: 'a@example.com' }, mode: 'email_or_id', ref: { kind: 'id', value: 'u1' } },
    {
      row: { id: '', email: ' A@example.com' },
      mode: 'email_or_id',
      ref: { kind: 'email', value: 'A@example.com', key: 'a@example.com' },
    },
    { row: { cio_id: 'abc', id: 'u1' }, mode: 'email_or_id', ref: { kind: 'cio_id', value: 'abc' } },
    { row: { cio_id: 'cio_abc' }, mode: 'id_only', ref: { kind: 'cio_id', value: 'abc' } },
    { row: { id: 'u1', email: 'a@example.com' }, mode: 'id_only', ref: { kind: 'id', value: 'u1' } },
    { row: { email: 'a@example.com' }, mode: 'id_only', code: 'no_identifier' },
    { row: { id: '  ', email: '', plan: 'x' }, mode: 'email_or_id', code: 'no_identifier' },
    { row: { id: 'cio_x' }, mode: 'email_or_id', code: 'reserved_prefix' },
    { row: { email: 'not-an-email' }, mode: 'email_or_id', code: 'invalid_email' },
    { row: { id: 'null' }, mode: 'email_or_id', code: 'invalid_identifier' },
    { row: { cio_id: 'a-b' }, mode: 'email_or_id', code: 'invalid_identifier' },
  ];
  it.each(named(rows, (r) => `${JSON.stringify(r.row)} (${r.mode}) → ${r.code ?? JSON.stringify(r.ref)}`))(
    '%s',
    (_t, { row, mode, ref, code }) => {
      if (code) expect(refusalOf(() => referenceFromRow(row, mode)).code).toBe(code);
      else expect(referenceFromRow(row, mode)).toEqual(ref);
    },
  );
});

describe('identifyFromRow', () => {
  it('other filled cells are attributes; empty cells are not sent; the email of an id row is a body email', () => {
    const { ref, payload } = identifyFromRow(
      { id: 'u1', email: 'a@example.com', plan: 'pro', country: '', unsubscribed: 'true', created_at: '1700000000' },
      'email_or_id',
    );
    expect(ref).toEqual({ kind: 'id', value: 'u1' });
    expect(payload.bodyEmail).toBe('a@example.com');
    expect(payload.bodyId).toBeUndefined();
    expect(payload.createdAt).toBe(1700000000);
    expect(Object.keys(payload.changes).sort()).toEqual(['plan', 'unsubscribed']);
  });
  it('a cio_id row carries id and email as body identifiers (rule 2)', () => {
    const { payload } = identifyFromRow({ cio_id: 'abc', id: 'u9', email: 'n@example.com' }, 'email_or_id');
    expect([payload.bodyId, payload.bodyEmail]).toEqual(['u9', 'n@example.com']);
  });
  it('a bad attribute or value refuses the row with its code', () => {
    expect(refusalOf(() => identifyFromRow({ id: 'u1', unsubscribed: 'maybe' }, 'id_only')).code).toBe(
      'invalid_unsubscribed',
    );
    expect(refusalOf(() => identifyFromRow({ id: 'u1', created_at: 'yesterday' }, 'id_only')).code).toBe(
      'invalid_timestamp',
    );
    expect(refusalOf(() => identifyFromRow({ id: 'u1', __proto__x: 'x', constructor: 'y' }, 'id_only')).code).toBe(
      'invalid_attribute',
    );
  });
});
