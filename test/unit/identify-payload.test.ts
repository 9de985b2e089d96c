/**
 * identity.md, body identifiers and "Attributes", as an identify body (v1 body, v2 `attributes`, Segment traits)
 * is validated: identifiers set apart, limits enforced per call, `_update`, `_timestamp`/`timestamp`, `created_at`,
 * `unsubscribed`, removal by null/"". A refused body throws, so nothing of it can be applied.
 */
import { describe, expect, it } from 'vitest';
import { parseIdentifyPayload } from '../../src/domain/identify-payload.js';
import { identifierModes } from '../../src/domain/workspace.js';
import { named, ofBytes, refusalOf, show } from './support.js';

const inBothModes = <T extends object>(rows: T[]) =>
  rows.flatMap((r) => identifierModes.map((mode) => ({ ...r, mode })));

/** A body of `count` plain attributes a0..a{count-1}. */
const attributesBody = (count: number): Record<string, unknown> =>
  Object.fromEntries(Array.from({ length: count }, (_, i) => [`a${i}`, i]));

describe('parseIdentifyPayload: the body', () => {
  it.each(
    named(
      inBothModes([
        { name: 'null', body: null },
        { name: 'an array', body: [{ a: 1 }] },
        { name: 'a string', body: 'a=1' },
        { name: 'a number', body: 42 },
      ]),
      (r) => `[${r.mode}] ${r.name} → invalid_body`,
    ),
  )('%s', (_title, { body, mode }) => {
    expect(refusalOf(() => parseIdentifyPayload(body, mode))).toMatchObject({ code: 'invalid_body', status: 400 });
  });

  it.each(identifierModes)('[%s] an empty body changes nothing and asks nothing', (mode) => {
    expect(parseIdentifyPayload({}, mode)).toEqual({ removeEmail: false, updateOnly: false, changes: {} });
  });

  it.each(identifierModes)('[%s] plain attributes become changes; identifiers and controls do not', (mode) => {
    const p = parseIdentifyPayload(
      {
        id: 'u1',
        email: 'jane@example.com',
        cio_id: 'abc',
        anonymous_id: 'anon-1',
        _update: true,
        _timestamp: 1_629_224_941,
        created_at: 1_600_000_000,
        first_name: 'Jane',
        plan: { tier: 'pro' },
      },
      mode,
    );
    expect(p).toEqual({
      bodyId: 'u1',
      bodyEmail: 'jane@example.com',
      removeEmail: false,
      anonymousId: 'anon-1',
      updateOnly: true,
      timestamp: 1_629_224_941_000,
      createdAt: 1_600_000_000,
      changes: { first_name: 'Jane', plan: { tier: 'pro' } },
    });
  });
});

describe('parseIdentifyPayload: body id (the id-reference rules, cio_ reserved)', () => {
  it.each(
    named(
      inBothModes([
        { raw: 'u1', id: 'u1' },
        { raw: 42, id: '42' },
        { raw: 'jane@example.com', id: 'jane@example.com' },
      ]),
      (r) => `[${r.mode}] id ${show(r.raw)} → body id ${show(r.id)}`,
    ),
  )('%s', (_title, { raw, id, mode }) => {
    expect(parseIdentifyPayload({ id: raw }, mode).bodyId).toBe(id);
  });

  it.each(
    named(
      inBothModes([
        { name: 'cio_abc', raw: 'cio_abc', code: 'reserved_prefix' },
        { name: 'junk "null"', raw: 'null', code: 'invalid_identifier' },
        { name: 'junk "UNDEFINED"', raw: 'UNDEFINED', code: 'invalid_identifier' },
        { name: 'junk "[object Object]"', raw: '[object Object]', code: 'invalid_identifier' },
        { name: 'junk "NaN"', raw: 'NaN', code: 'invalid_identifier' },
        { name: '151 bytes', raw: ofBytes(151), code: 'invalid_identifier' },
        { name: 'an object', raw: { id: 1 }, code: 'invalid_identifier' },
        { name: 'a boolean', raw: true, code: 'invalid_identifier' },
      ]),
      (r) => `[${r.mode}] id ${r.name} → ${r.code}`,
    ),
  )('%s', (_title, { raw, code, mode }) => {
    expect(refusalOf(() => parseIdentifyPayload({ id: raw, first_name: 'Jane' }, mode)).code).toBe(code);
  });

  // An identifier cannot be removed by an identify; an absent, null or empty body id simply names no id.
  it.each(
    named(
      inBothModes([{ raw: undefined }, { raw: null }, { raw: '' }]),
      (r) => `[${r.mode}] id ${show(r.raw)} → no body id, nothing removed`,
    ),
  )('%s', (_title, { raw, mode }) => {
    const p = parseIdentifyPayload({ id: raw }, mode);
    expect(p.bodyId).toBeUndefined();
    expect(p.changes).toEqual({});
  });

  it.each(identifierModes)('[%s] cio_id in a body is ignored: it can never be set', (mode) => {
    const p = parseIdentifyPayload({ cio_id: 'abc123', first_name: 'Jane' }, mode);
    expect(p.changes).toEqual({ first_name: 'Jane' });
    expect(p).not.toHaveProperty('cioId');
  });
});

describe('parseIdentifyPayload: body email (a valid address in both modes)', () => {
  it.each(
    named(
      inBothModes([
        { raw: 'Jane@Example.com', email: 'Jane@Example.com' },
        { raw: '  jane@example.com ', email: 'jane@example.com' },
      ]),
      (r) => `[${r.mode}] email ${show(r.raw)} → body email ${show(r.email)}`,
    ),
  )('%s', (_title, { raw, email, mode }) => {
    const p = parseIdentifyPayload({ email: raw }, mode);
    expect(p.bodyEmail).toBe(email);
    expect(p.changes).toEqual({});
  });

  it.each(
    named(
      inBothModes([
        { raw: 'jane' },
        { raw: 'jane@example' },
        { raw: 'null' },
        { raw: `${'a'.repeat(243)}@example.com` },
        { raw: 42 },
        { raw: { address: 'jane@example.com' } },
      ]),
      (r) => `[${r.mode}] email ${show(r.raw)} → invalid_email`,
    ),
  )('%s', (_title, { raw, mode }) => {
    expect(refusalOf(() => parseIdentifyPayload({ email: raw }, mode))).toMatchObject({
      code: 'invalid_email',
      field: 'email',
    });
  });

  it.each(
    named(
      [
        { mode: 'id_only' as const, raw: null, removeEmail: true },
        { mode: 'id_only' as const, raw: '', removeEmail: true },
        { mode: 'email_or_id' as const, raw: null, removeEmail: false },
        { mode: 'email_or_id' as const, raw: '', removeEmail: false },
      ],
      (r) =>
        `[${r.mode}] email ${show(r.raw)} → ${r.removeEmail ? 'removes the email attribute' : 'ignored (an identifier is not removed by identify)'}`,
    ),
  )('%s', (_title, { raw, mode, removeEmail }) => {
    const p = parseIdentifyPayload({ email: raw }, mode);
    expect(p.removeEmail).toBe(removeEmail);
    expect(p.bodyEmail).toBeUndefined();
  });
});

describe('parseIdentifyPayload: anonymous_id', () => {
  it.each(
    named(
      [
        { name: 'a string', raw: 'anon-1', result: 'anon-1' },
        { name: '150 bytes', raw: ofBytes(150), result: ofBytes(150) },
        { name: '150 bytes in 75 characters', raw: ofBytes(150, 'é'), result: ofBytes(150, 'é') },
        { name: 'null (none)', raw: null, result: undefined },
        { name: 'empty (none)', raw: '', result: undefined },
      ],
      (r) => `${r.name} → ${r.result === undefined ? 'no anonymous id' : 'linked'}`,
    ),
  )('%s', (_title, { raw, result }) => {
    expect(parseIdentifyPayload({ anonymous_id: raw }, 'email_or_id').anonymousId).toBe(result);
  });

  it.each(
    named(
      [
        { name: '151 bytes', raw: ofBytes(151) },
        { name: '152 bytes in 76 characters', raw: ofBytes(152, 'é') },
        { name: 'a number', raw: 42 },
        { name: 'an object', raw: { id: 'anon-1' } },
      ],
      (r) => `${r.name} → invalid_identifier`,
    ),
  )('%s', (_title, { raw }) => {
    expect(refusalOf(() => parseIdentifyPayload({ anonymous_id: raw }, 'email_or_id'))).toMatchObject({
      code: 'invalid_identifier',
      field: 'anonymous_id',
    });
  });
});

describe('parseIdentifyPayload: _update', () => {
  it.each(
    named(
      inBothModes([
        { raw: true, updateOnly: true },
        { raw: false, updateOnly: false },
        { raw: undefined, updateOnly: false },
      ]),
      (r) => `[${r.mode}] _update: ${show(r.raw)} → updateOnly ${r.updateOnly}`,
    ),
  )('%s', (_title, { raw, updateOnly, mode }) => {
    const p = parseIdentifyPayload({ _update: raw }, mode);
    expect(p.updateOnly).toBe(updateOnly);
    expect(p.changes).toEqual({});
  });

  it.each(['true', 1, null])('_update: %s (not a boolean) → invalid_body', (raw) => {
    expect(refusalOf(() => parseIdentifyPayload({ _update: raw }, 'email_or_id'))).toMatchObject({
      code: 'invalid_body',
      field: '_update',
    });
  });
});

describe('parseIdentifyPayload: the call time orders attributes (_timestamp in v1, timestamp in v2/Segment)', () => {
  it.each(
    named(
      [
        {
          name: 'v1 _timestamp in unix seconds',
          body: { _timestamp: 1_629_224_941 },
          ts: undefined,
          ms: 1_629_224_941_000,
        },
        {
          name: 'v1 _timestamp as ISO-8601',
          body: { _timestamp: '2021-08-17T18:29:01Z' },
          ts: undefined,
          ms: 1_629_224_941_000,
        },
        { name: 'v2 timestamp given beside the attributes', body: {}, ts: 1_629_224_941, ms: 1_629_224_941_000 },
        {
          name: 'v2 timestamp wins over an _timestamp in the attributes',
          body: { _timestamp: 1 },
          ts: 1_629_224_941,
          ms: 1_629_224_941_000,
        },
        { name: 'none given (the caller uses the time received)', body: {}, ts: undefined, ms: undefined },
      ],
      (r) => `${r.name} → ${r.ms === undefined ? 'no call time' : `${r.ms} ms`}`,
    ),
  )('%s', (_title, { body, ts, ms }) => {
    const p = parseIdentifyPayload({ ...body, plan: 'pro' }, 'email_or_id', ts);
    expect(p.timestamp).toBe(ms);
    expect(p.changes).toEqual({ plan: 'pro' });
  });

  it.each(
    named(
      [
        { name: 'v1 _timestamp "yesterday"', body: { _timestamp: 'yesterday' }, ts: undefined, field: '_timestamp' },
        { name: 'v1 _timestamp negative', body: { _timestamp: -5 }, ts: undefined, field: '_timestamp' },
        { name: 'v2 timestamp "soon"', body: {}, ts: 'soon', field: 'timestamp' },
      ],
      (r) => `${r.name} → invalid_timestamp`,
    ),
  )('%s', (_title, { body, ts, field }) => {
    expect(refusalOf(() => parseIdentifyPayload(body, 'email_or_id', ts))).toMatchObject({
      code: 'invalid_timestamp',
      field,
    });
  });
});

describe('parseIdentifyPayload: created_at (unix seconds or ISO-8601; never sent → left alone)', () => {
  it.each(
    named(
      [
        { raw: 1_629_224_941, createdAt: 1_629_224_941 },
        { raw: '1629224941', createdAt: 1_629_224_941 },
        { raw: '2021-08-17T18:29:01Z', createdAt: 1_629_224_941 },
        { raw: '2021-08-17T20:29:01+02:00', createdAt: 1_629_224_941 },
        { raw: '2021-08-17', createdAt: 1_629_158_400 },
        { raw: undefined, createdAt: undefined },
        { raw: null, createdAt: undefined },
        { raw: '', createdAt: undefined },
      ],
      (r) => `created_at ${show(r.raw)} → ${r.createdAt === undefined ? 'not sent: left alone' : r.createdAt}`,
    ),
  )('%s', (_title, { raw, createdAt }) => {
    const p = parseIdentifyPayload({ created_at: raw }, 'email_or_id');
    expect(p.createdAt).toBe(createdAt);
    expect(p.changes).not.toHaveProperty('created_at');
  });

  it.each(['next week', '17/08/2021', true, { at: 1 }, -1])('created_at %s → invalid_timestamp', (raw) => {
    expect(refusalOf(() => parseIdentifyPayload({ created_at: raw }, 'email_or_id')).code).toBe('invalid_timestamp');
  });
});

describe('parseIdentifyPayload: attribute values, removal and refused names', () => {
  it.each(identifierModes)('[%s] null and "" are removals; other values are kept', (mode) => {
    const p = parseIdentifyPayload({ nickname: null, title: '', plan: 'pro', seats: 0, vip: false }, mode);
    expect(p.changes).toEqual({ nickname: null, title: null, plan: 'pro', seats: 0, vip: false });
  });

  it.each(
    named(
      inBothModes([
        {
          name: '__proto__ (as JSON.parse builds it)',
          body: JSON.parse('{"__proto__": {"admin": true}}') as object,
          field: '__proto__',
        },
        { name: 'constructor', body: { constructor: 'x' }, field: 'constructor' },
        { name: 'prototype', body: { prototype: 1 }, field: 'prototype' },
        { name: 'a name of 151 bytes', body: { [ofBytes(151)]: 'v' }, field: ofBytes(151) },
        { name: 'a value of 1001 bytes JSON', body: { bio: 'a'.repeat(999) }, field: 'bio' },
      ]),
      (r) => `[${r.mode}] ${r.name} → invalid_attribute naming it`,
    ),
  )('%s', (_title, { body, field, mode }) => {
    expect(refusalOf(() => parseIdentifyPayload({ first_name: 'Jane', ...body }, mode))).toMatchObject({
      code: 'invalid_attribute',
      field,
      status: 400,
    });
  });

  it('a __proto__ key never reaches the changes as a prototype', () => {
    const body = JSON.parse('{"plan":"pro","__proto__":{"admin":true}}') as unknown;
    expect(refusalOf(() => parseIdentifyPayload(body, 'email_or_id')).code).toBe('invalid_attribute');
  });
});

describe('parseIdentifyPayload: unsubscribed', () => {
  it.each(
    named(
      inBothModes([
        { raw: true, result: true },
        { raw: 'true', result: true },
        { raw: 1, result: true },
        { raw: '1', result: true },
        { raw: false, result: false },
        { raw: 'false', result: false },
        { raw: 0, result: false },
        { raw: '0', result: false },
        { raw: null, result: null },
        { raw: '', result: null },
      ]),
      (r) =>
        `[${r.mode}] unsubscribed ${show(r.raw)} → ${r.result === null ? 'removed' : r.result ? 'unsubscribed: true' : 'unsubscribed: false'}`,
    ),
  )('%s', (_title, { raw, result, mode }) => {
    expect(parseIdentifyPayload({ unsubscribed: raw }, mode).changes).toEqual({ unsubscribed: result });
  });

  it.each(
    named(
      inBothModes([{ raw: 'yes' }, { raw: 2 }, { raw: 'no' }, { raw: [] }]),
      (r) => `[${r.mode}] unsubscribed ${show(r.raw)} → invalid_unsubscribed`,
    ),
  )('%s', (_title, { raw, mode }) => {
    expect(refusalOf(() => parseIdentifyPayload({ unsubscribed: raw, plan: 'pro' }, mode)).code).toBe(
      'invalid_unsubscribed',
    );
  });
});

describe('parseIdentifyPayload: at most 300 attributes per call', () => {
  it.each(
    named(
      inBothModes([
        { name: '300 attributes', body: attributesBody(300), ok: true },
        { name: '301 attributes', body: attributesBody(301), ok: false },
        {
          name: '300 attributes, of which some are removals, + 1',
          body: { ...attributesBody(300), gone: null },
          ok: false,
        },
        {
          name: '300 attributes plus id, email, cio_id, anonymous_id, _update, _timestamp, created_at',
          body: {
            ...attributesBody(300),
            id: 'u1',
            email: 'jane@example.com',
            cio_id: 'abc',
            anonymous_id: 'anon-1',
            _update: false,
            _timestamp: 1_629_224_941,
            created_at: 1_629_224_941,
          },
          ok: true,
        },
        { name: '299 attributes + unsubscribed', body: { ...attributesBody(299), unsubscribed: true }, ok: true },
        { name: '300 attributes + unsubscribed', body: { ...attributesBody(300), unsubscribed: true }, ok: false },
      ]),
      (r) => `[${r.mode}] ${r.name} → ${r.ok ? 'accepted' : 'too_many_attributes'}`,
    ),
  )('%s', (_title, { body, ok, mode }) => {
    if (ok) expect(Object.keys(parseIdentifyPayload(body, mode).changes).length).toBeLessThanOrEqual(300);
    else
      expect(refusalOf(() => parseIdentifyPayload(body, mode))).toMatchObject({
        code: 'too_many_attributes',
        status: 400,
      });
  });
});
