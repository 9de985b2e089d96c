/**
 * identity.md, "Events": name ≤ 100 bytes, data ≤ 100,000 bytes of JSON, `id` deduplicates, type event/page/screen.
 */
import { describe, expect, it } from 'vitest';
import { parseEventPayload } from '../../src/domain/events.js';
import { named, ofBytes, refusalOf, show } from './support.js';

/** A data object whose JSON encoding is exactly `bytes` bytes long. */
const dataOfBytes = (bytes: number): Record<string, string> => ({ d: 'x'.repeat(bytes - '{"d":""}'.length) });

describe('parseEventPayload: a minimal event', () => {
  it('{name} → an event of type "event" with empty data', () => {
    expect(parseEventPayload({ name: 'signed_up' })).toEqual({ name: 'signed_up', type: 'event', data: {} });
  });

  it('every field given', () => {
    expect(
      parseEventPayload({
        name: 'purchase',
        type: 'event',
        id: '01J0000000000000000000000A',
        timestamp: 1_629_224_941,
        data: { price: 23.45, sku: 'A-1' },
      }),
    ).toEqual({
      name: 'purchase',
      type: 'event',
      eventId: '01J0000000000000000000000A',
      timestamp: 1_629_224_941_000,
      data: { price: 23.45, sku: 'A-1' },
    });
  });

  it.each(
    named(
      [
        { name: 'null', body: null },
        { name: 'an array', body: [{ name: 'x' }] },
        { name: 'a string', body: 'signed_up' },
      ],
      (r) => `a body that is ${r.name} → invalid_body`,
    ),
  )('%s', (_title, { body }) => {
    expect(refusalOf(() => parseEventPayload(body)).code).toBe('invalid_body');
  });
});

describe('parseEventPayload: name (required, ≤ 100 bytes, trimmed)', () => {
  it.each(
    named(
      [
        { row: '100 ASCII bytes', raw: ofBytes(100), name: ofBytes(100) },
        { row: '100 bytes in 50 × "é"', raw: ofBytes(100, 'é'), name: ofBytes(100, 'é') },
        { row: 'spaces around are trimmed before counting', raw: ` ${ofBytes(100)}  `, name: ofBytes(100) },
        { row: 'a page URL', raw: 'https://example.com/pricing', name: 'https://example.com/pricing' },
      ],
      (r) => `${r.row} → accepted`,
    ),
  )('%s', (_title, { raw, name }) => {
    expect(parseEventPayload({ name: raw }).name).toBe(name);
  });

  it.each(
    named(
      [
        { row: '101 ASCII bytes', raw: ofBytes(101) },
        { row: '102 bytes in 51 × "é" (51 characters)', raw: ofBytes(102, 'é') },
        { row: 'missing', raw: undefined },
        { row: 'empty', raw: '' },
        { row: 'only spaces', raw: '   ' },
        { row: 'a number', raw: 42 },
        { row: 'null', raw: null },
      ],
      (r) => `${r.row} → invalid_event`,
    ),
  )('%s', (_title, { raw }) => {
    expect(refusalOf(() => parseEventPayload({ name: raw }))).toMatchObject({
      code: 'invalid_event',
      field: 'name',
      status: 400,
    });
  });
});

describe('parseEventPayload: type', () => {
  it.each(['event', 'page', 'screen'] as const)('type "%s" is accepted', (type) => {
    expect(parseEventPayload({ name: 'x', type }).type).toBe(type);
  });

  it.each(['track', 'identify', 'PAGE', 1])('type %s → invalid_event', (type) => {
    expect(refusalOf(() => parseEventPayload({ name: 'x', type }))).toMatchObject({
      code: 'invalid_event',
      field: 'type',
    });
  });
});

describe('parseEventPayload: id deduplicates (string or number, ≤ 150 bytes)', () => {
  it.each(
    named(
      [
        { raw: 'msg-1', eventId: 'msg-1' },
        { raw: 42, eventId: '42' },
        { raw: ofBytes(150), eventId: ofBytes(150) },
        { raw: undefined, eventId: undefined },
        { raw: null, eventId: undefined },
        { raw: '', eventId: undefined },
      ],
      (r) => `id ${show(r.raw)} → ${r.eventId === undefined ? 'no event id' : `event id ${show(r.eventId)}`}`,
    ),
  )('%s', (_title, { raw, eventId }) => {
    expect(parseEventPayload({ name: 'x', id: raw }).eventId).toBe(eventId);
  });

  it.each(
    named(
      [
        { raw: ofBytes(151), row: '151 bytes' },
        { raw: { id: 1 }, row: 'an object' },
        { raw: true, row: 'a boolean' },
      ],
      (r) => `id of ${r.row} → invalid_event`,
    ),
  )('%s', (_title, { raw }) => {
    expect(refusalOf(() => parseEventPayload({ name: 'x', id: raw }))).toMatchObject({
      code: 'invalid_event',
      field: 'id',
    });
  });
});

describe('parseEventPayload: timestamp', () => {
  it.each(
    named(
      [
        { raw: 1_629_224_941, ms: 1_629_224_941_000 },
        { raw: '2021-08-17T18:29:01Z', ms: 1_629_224_941_000 },
        { raw: undefined, ms: undefined },
      ],
      (r) => `timestamp ${show(r.raw)} → ${String(r.ms)}`,
    ),
  )('%s', (_title, { raw, ms }) => {
    expect(parseEventPayload({ name: 'x', timestamp: raw }).timestamp).toBe(ms);
  });

  it('an unreadable timestamp → invalid_timestamp', () => {
    expect(refusalOf(() => parseEventPayload({ name: 'x', timestamp: 'later' })).code).toBe('invalid_timestamp');
  });
});

describe('parseEventPayload: data (a JSON object of at most 100,000 bytes)', () => {
  it.each(
    named(
      [
        { row: 'exactly 100,000 bytes of JSON', data: dataOfBytes(100_000), ok: true },
        { row: '100,001 bytes of JSON', data: dataOfBytes(100_001), ok: false },
        { row: 'an empty object', data: {}, ok: true },
        { row: 'nested objects and arrays', data: { items: [{ sku: 'A', qty: 2 }], total: { amount: 5 } }, ok: true },
      ],
      (r) => `${r.row} → ${r.ok ? 'accepted' : 'invalid_event'}`,
    ),
  )('%s', (_title, { data, ok }) => {
    if (ok) expect(parseEventPayload({ name: 'x', data }).data).toEqual(data);
    else
      expect(refusalOf(() => parseEventPayload({ name: 'x', data }))).toMatchObject({
        code: 'invalid_event',
        field: 'data',
      });
  });

  it('multi-byte data is counted in bytes: 50,000 × "é" inside the object is over 100,000 bytes', () => {
    expect(refusalOf(() => parseEventPayload({ name: 'x', data: { d: 'é'.repeat(50_000) } })).code).toBe(
      'invalid_event',
    );
  });

  it.each(
    named(
      [
        { row: 'an array', data: [1, 2] },
        { row: 'a string', data: 'hello' },
        { row: 'a number', data: 5 },
      ],
      (r) => `data that is ${r.row} → invalid_event`,
    ),
  )('%s', (_title, { data }) => {
    expect(refusalOf(() => parseEventPayload({ name: 'x', data })).code).toBe('invalid_event');
  });

  it('null data → empty data', () => {
    expect(parseEventPayload({ name: 'x', data: null }).data).toEqual({});
  });

  it('v2 reads the event data from `attributes`, with the same limit', () => {
    expect(parseEventPayload({ name: 'x', attributes: { a: 1 }, data: { b: 2 } }, 'attributes').data).toEqual({ a: 1 });
    expect(
      refusalOf(() => parseEventPayload({ name: 'x', attributes: dataOfBytes(100_001) }, 'attributes')),
    ).toMatchObject({
      code: 'invalid_event',
      field: 'attributes',
    });
  });
});
