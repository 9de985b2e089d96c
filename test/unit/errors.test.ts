/**
 * errors.ts and limits.ts: every refusal has a stable code and HTTP status, and the limits are those identity.md
 * states (Customer.io's published Track API limits).
 */
import { describe, expect, it } from 'vitest';
import { errorCatalogue, fail, RosterError, type ErrorCode } from '../../src/domain/errors.js';
import { bodyAtMost, byteLength, limits } from '../../src/domain/limits.js';
import { named } from './support.js';

describe('RosterError', () => {
  const statuses: { code: ErrorCode; status: number }[] = [
    { code: 'invalid_identifier', status: 400 },
    { code: 'invalid_email', status: 400 },
    { code: 'reserved_prefix', status: 400 },
    { code: 'invalid_attribute', status: 400 },
    { code: 'too_many_attributes', status: 400 },
    { code: 'invalid_unsubscribed', status: 400 },
    { code: 'invalid_timestamp', status: 400 },
    { code: 'invalid_event', status: 400 },
    { code: 'invalid_relationship', status: 400 },
    { code: 'person_not_found', status: 404 },
    { code: 'object_not_found', status: 404 },
    { code: 'identifier_in_use', status: 409 },
    { code: 'identifier_change_requires_cio_id', status: 409 },
  ];
  it.each(named(statuses, (r) => `${r.code} → HTTP ${r.status}`))('%s', (_title, { code, status }) => {
    const error = new RosterError(code);
    expect(error).toBeInstanceOf(Error);
    expect(error.code).toBe(code);
    expect(error.status).toBe(status);
  });

  it('fail() carries the code and the field at fault', () => {
    const error = fail('invalid_attribute', undefined, 'plan');
    expect({ code: error.code, field: error.field, status: error.status }).toEqual({
      code: 'invalid_attribute',
      field: 'plan',
      status: 400,
    });
  });

  it('every catalogued code has a 4xx or 5xx status', () => {
    for (const entry of Object.values(errorCatalogue)) expect(entry.status).toBeGreaterThanOrEqual(400);
  });
});

describe('limits (identity.md, Words / Attributes / Events)', () => {
  it.each(
    named(
      [
        { name: 'identifier', key: 'identifierBytes' as const, value: 150 },
        { name: 'email', key: 'emailBytes' as const, value: 254 },
        { name: 'attribute name', key: 'attributeNameBytes' as const, value: 150 },
        { name: 'attribute value (JSON)', key: 'attributeValueBytes' as const, value: 1000 },
        { name: 'attributes per call', key: 'attributesPerCall' as const, value: 300 },
        { name: 'attributes per person', key: 'attributesPerPerson' as const, value: 300 },
        {
          name: 'object or relationship attributes (JSON, in all)',
          key: 'objectAttributesTotalBytes' as const,
          value: 100_000,
        },
        { name: 'event name', key: 'eventNameBytes' as const, value: 100 },
        { name: 'event data (JSON)', key: 'eventDataBytes' as const, value: 100_000 },
      ],
      (r) => `${r.name}: ${r.value}`,
    ),
  )('%s', (_title, { key, value }) => {
    expect(limits[key]).toBe(value);
  });

  it.each(
    named(
      [
        { s: 'abc', bytes: 3 },
        { s: 'é', bytes: 2 },
        { s: '€', bytes: 3 },
        { s: '😀', bytes: 4 },
        { s: '', bytes: 0 },
      ],
      (r) => `byteLength("${r.s}") = ${r.bytes} (UTF-8)`,
    ),
  )('%s', (_title, { s, bytes }) => {
    expect(byteLength(s)).toBe(bytes);
  });
});

describe('bodyAtMost: a body small enough that no part of it needs measuring', () => {
  it.each(
    named(
      [
        { row: 'no body text', raw: undefined, max: 10, fits: false },
        { row: 'empty', raw: '', max: 10, fits: true },
        { row: 'exactly the size', raw: 'abcde', max: 5, fits: true },
        { row: 'one byte over', raw: 'abcdef', max: 5, fits: false },
        { row: 'short in characters, over in UTF-8 bytes', raw: 'éééé', max: 5, fits: false },
      ],
      (r) => `${r.row} → ${r.fits ? 'fits' : 'measured'}`,
    ),
  )('%s', (_title, { raw, max, fits }) => {
    expect(bodyAtMost(raw, max)).toBe(fits);
  });
});
