/** domain/suppression.ts: naming a suppression list entry by type and value. */
import { describe, expect, it } from 'vitest';
import { suppressionReference } from '../../src/domain/suppression.js';
import { named, refusalOf, show } from './support.js';

describe('suppressionReference', () => {
  const rows: { type: string; value: string; ref?: unknown; code?: string }[] = [
    { type: 'id', value: 'u1', ref: { kind: 'id', value: 'u1' } },
    { type: 'email', value: ' A@Example.com', ref: { kind: 'email', value: ' A@Example.com', key: 'a@example.com' } },
    { type: 'phone', value: '1', code: 'invalid_identifier' },
    { type: 'cio_id', value: 'abc', code: 'invalid_identifier' },
    { type: 'id', value: ' ', code: 'invalid_identifier' },
    { type: 'id', value: 'a\u0000b', code: 'invalid_identifier' },
    { type: 'email', value: 'a\n@example.com', code: 'invalid_identifier' },
  ];
  it.each(named(rows, (r) => `${r.type} ${show(r.value)} → ${r.code ?? JSON.stringify(r.ref)}`))(
    '%s',
    (_t, { type, value, ref, code }) => {
      if (code) expect(refusalOf(() => suppressionReference(type, value)).code).toBe(code);
      else expect(suppressionReference(type, value)).toEqual(ref);
    },
  );
});
