/**
 * identity.md, "Attributes": values and limits, removal by null/"", refused names, the shallow merge, the per-person
 * limit, per-attribute timestamp ordering, and `unsubscribed` parsing.
 */
import { describe, expect, it } from 'vitest';
import {
  encodedBytesOver,
  mergeAttributes,
  parseAttribute,
  parseUnsubscribed,
  type AttributeChanges,
  type Attributes,
  type AttributeTimestamps,
} from '../../src/domain/attributes.js';
import { named, ofBytes, refusalOf, show } from './support.js';

/** `count` attributes a0..a{count-1}, each set at `ts`. */
function manyAttributes(count: number, ts = 1000): { attributes: Attributes; timestamps: AttributeTimestamps } {
  const attributes: Attributes = {};
  const timestamps: AttributeTimestamps = {};
  for (let i = 0; i < count; i++) {
    attributes[`a${i}`] = i;
    timestamps[`a${i}`] = ts;
  }
  return { attributes, timestamps };
}

describe('parseAttribute: values', () => {
  it.each(
    [
      { name: 'a string', value: 'Jane' },
      { name: 'a number', value: 42 },
      { name: 'zero', value: 0 },
      { name: 'a negative float', value: -1.5 },
      { name: 'boolean', value: true },
      { name: 'boolean', value: false },
      { name: 'a JSON object', value: { plan: 'pro', seats: 3, tags: ['a'] } },
      { name: 'a JSON array', value: [1, 'two', { three: 3 }] },
      { name: 'an empty object', value: {} },
      { name: 'a space (not empty)', value: ' ' },
    ].map((r) => [`${r.name} ${show(r.value)} is kept as sent`, r] as const),
  )('%s', (_title, { value }) => {
    expect(parseAttribute('attr', value)).toEqual(value);
  });

  it.each(
    [
      { name: 'null', value: null },
      { name: 'empty string', value: '' },
    ].map((r) => [`${r.name} removes the attribute (parsed as a removal: null)`, r] as const),
  )('%s', (_title, { value }) => {
    expect(parseAttribute('attr', value)).toBeNull();
  });

  it.each(
    [
      { name: 'NaN', value: Number.NaN },
      { name: 'Infinity', value: Number.POSITIVE_INFINITY },
      { name: 'a bigint', value: 10n },
      { name: 'a function', value: () => 1 },
      { name: 'a symbol', value: Symbol('x') },
    ].map((r) => [`${r.name} → invalid_attribute naming the attribute`, r] as const),
  )('%s', (_title, { value }) => {
    expect(refusalOf(() => parseAttribute('attr', value))).toMatchObject({ code: 'invalid_attribute', field: 'attr' });
  });
});

describe('parseAttribute: limits (name ≤ 150 bytes, value ≤ 1000 bytes JSON-encoded)', () => {
  const name150 = ofBytes(150);
  const name151 = ofBytes(151);
  const name152multibyte = ofBytes(152, 'é');
  it.each(
    [
      { row: 'name of 150 bytes', name: name150, ok: true },
      { row: 'name of 151 bytes', name: name151, ok: false },
      { row: 'name of 150 bytes in 75 characters ("é")', name: ofBytes(150, 'é'), ok: true },
      { row: 'name of 152 bytes in 76 characters ("é")', name: name152multibyte, ok: false },
      { row: 'empty name', name: '', ok: false },
    ].map((r) => [`${r.row} → ${r.ok ? 'accepted' : 'invalid_attribute'}`, r] as const),
  )('%s', (_title, { name, ok }) => {
    if (ok) expect(parseAttribute(name, 'v')).toBe('v');
    else expect(refusalOf(() => parseAttribute(name, 'v'))).toMatchObject({ code: 'invalid_attribute', status: 400 });
  });

  it('an over-long name is refused naming the attribute', () => {
    expect(refusalOf(() => parseAttribute(name151, 'v')).field).toBe(name151);
  });

  // A string's JSON encoding adds its two quotes.
  it.each(
    [
      { row: 'string, 998 characters = 1000 bytes JSON', value: 'a'.repeat(998), ok: true },
      { row: 'string, 999 characters = 1001 bytes JSON', value: 'a'.repeat(999), ok: false },
      { row: 'string, 499 × "é" = 1000 bytes JSON', value: 'é'.repeat(499), ok: true },
      { row: 'string, 500 × "é" = 1002 bytes JSON (502 characters)', value: 'é'.repeat(500), ok: false },
      { row: 'object of exactly 1000 bytes JSON', value: { k: 'a'.repeat(1000 - '{"k":""}'.length) }, ok: true },
      { row: 'object of 1001 bytes JSON', value: { k: 'a'.repeat(1001 - '{"k":""}'.length) }, ok: false },
      { row: 'array of 1001 bytes JSON', value: ['a'.repeat(1001 - '[""]'.length)], ok: false },
      { row: 'string with escapes counted as encoded (500 quotes → 1002 bytes)', value: '"'.repeat(500), ok: false },
      // Control characters are the longest escapes (\u0001: 6 bytes): the most a string's length can say alone.
      { row: 'string, 166 × U+0001 = 998 bytes JSON', value: '\u0001'.repeat(166), ok: true },
      { row: 'string, 167 × U+0001 = 1004 bytes JSON', value: '\u0001'.repeat(167), ok: false },
    ].map((r) => [`value: ${r.row} → ${r.ok ? 'accepted' : 'invalid_attribute'}`, r] as const),
  )('%s', (_title, { value, ok }) => {
    if (ok) expect(parseAttribute('big', value)).toEqual(value);
    else
      expect(refusalOf(() => parseAttribute('big', value))).toMatchObject({ code: 'invalid_attribute', field: 'big' });
  });
});

describe('parseAttribute: __proto__, constructor and prototype are refused (Roster)', () => {
  it.each(['__proto__', 'constructor', 'prototype'])('attribute named %s → invalid_attribute', (name) => {
    expect(refusalOf(() => parseAttribute(name, 'x'))).toMatchObject({ code: 'invalid_attribute', field: name });
  });

  it.each(['__proto__', 'constructor', 'prototype'])('attribute named %s is refused even when removing', (name) => {
    expect(refusalOf(() => parseAttribute(name, null)).code).toBe('invalid_attribute');
  });

  it.each(
    [
      { row: '__proto__ inside an object (as JSON.parse builds it)', value: JSON.parse('{"a":{"__proto__":{"x":1}}}') },
      { row: 'constructor inside an object', value: { a: { constructor: 'x' } } },
      { row: 'prototype inside an array', value: [{ prototype: 1 }] },
    ].map((r) => [`${r.row} → invalid_attribute`, r] as const),
  )('%s', (_title, { value }) => {
    expect(refusalOf(() => parseAttribute('nested', value))).toMatchObject({
      code: 'invalid_attribute',
      field: 'nested',
    });
  });

  it.each(['Constructor', 'proto', 'prototype_id', 'toString'])('%s is an ordinary name', (name) => {
    expect(parseAttribute(name, 'x')).toBe('x');
  });
});

describe('encodedBytesOver: whether the JSON of a value is over a size, encoded only when type and length cannot tell', () => {
  it.each(
    [
      { row: 'a short string under a large size', value: 'abc', max: 1000, over: false },
      { row: 'a string whose JSON is exactly the size', value: 'abc', max: 5, over: false },
      { row: 'a string whose JSON is one byte over', value: 'abcd', max: 5, over: true },
      { row: 'multibyte characters counted in bytes', value: 'éé', max: 5, over: true },
      { row: 'a long number under a small size', value: -1.2345678901234568e-300, max: 10, over: true },
      { row: 'the same number under 24 bytes (its JSON is 24)', value: -1.2345678901234568e-300, max: 24, over: false },
      { row: 'a boolean under a 4-byte size', value: false, max: 4, over: true },
      { row: 'an object measured encoded', value: { k: 'v' }, max: 8, over: true },
    ].map((r) => [`${r.row} → ${r.over ? 'over' : 'not over'}`, r] as const),
  )('%s', (_title, { value, max, over }) => {
    expect(encodedBytesOver(value, max)).toBe(over);
  });
});

describe('mergeAttributes: shallow merge, null removes', () => {
  const T = 1_000;
  const rows: { row: string; current: Attributes; changes: AttributeChanges; result: Attributes; changed: string[] }[] =
    [
      {
        row: 'keys in the call replace those keys; other keys stay',
        current: { a: 1, b: 2 },
        changes: { b: 3, c: 4 },
        result: { a: 1, b: 3, c: 4 },
        changed: ['b', 'c'],
      },
      {
        row: 'the merge is shallow: an object value replaces the whole object',
        current: { prefs: { x: 1, y: 2 } },
        changes: { prefs: { x: 3 } },
        result: { prefs: { x: 3 } },
        changed: ['prefs'],
      },
      {
        row: 'null removes the attribute',
        current: { a: 1, b: 2 },
        changes: { a: null },
        result: { b: 2 },
        changed: ['a'],
      },
      {
        row: 'removing an absent attribute changes nothing',
        current: { b: 2 },
        changes: { a: null },
        result: { b: 2 },
        changed: [],
      },
      {
        row: 'setting the same value changes nothing',
        current: { a: 'x' },
        changes: { a: 'x' },
        result: { a: 'x' },
        changed: [],
      },
      {
        row: 'an equal object value changes nothing',
        current: { o: { k: [1, 2] } },
        changes: { o: { k: [1, 2] } },
        result: { o: { k: [1, 2] } },
        changed: [],
      },
      {
        row: 'an object replacing a scalar is a change, and a scalar replacing an object',
        current: { a: 1, o: { k: 1 } },
        changes: { a: { k: 1 }, o: 1 },
        result: { a: { k: 1 }, o: 1 },
        changed: ['a', 'o'],
      },
      {
        row: 'true and 1, false and 0 are different values',
        current: { a: 1, b: 0 },
        changes: { a: true, b: false },
        result: { a: true, b: false },
        changed: ['a', 'b'],
      },
      {
        row: '1 and "1" are different values',
        current: { a: 1 },
        changes: { a: '1' },
        result: { a: '1' },
        changed: ['a'],
      },
      {
        row: 'a name that is an Object.prototype member is an ordinary key',
        current: { a: 1 },
        changes: { toString: 'x', valueOf: null },
        result: { a: 1, toString: 'x' },
        changed: ['toString'],
      },
    ];
  it.each(named(rows, (r) => r.row))('%s', (_title, { current, changes, result, changed }) => {
    const merged = mergeAttributes(current, {}, changes, T);
    expect(merged.attributes).toEqual(result);
    expect(merged.changed).toEqual(changed);
  });

  it('does not modify the stored attributes or timestamps it is given', () => {
    const current = { a: 1 };
    const ts = { a: 500 };
    mergeAttributes(current, ts, { a: 2, b: 3 }, 1000);
    expect(current).toEqual({ a: 1 });
    expect(ts).toEqual({ a: 500 });
  });
});

describe('mergeAttributes: each attribute remembers the time of the call that last set it', () => {
  const rows: {
    row: string;
    stored: Attributes;
    storedTs: AttributeTimestamps;
    changes: AttributeChanges;
    callTs: number;
    result: Attributes;
    resultTs: AttributeTimestamps;
  }[] = [
    {
      row: 'an older call does not overwrite the key',
      stored: { plan: 'pro' },
      storedTs: { plan: 2000 },
      changes: { plan: 'free' },
      callTs: 1000,
      result: { plan: 'pro' },
      resultTs: { plan: 2000 },
    },
    {
      row: 'an older call does not remove the key',
      stored: { plan: 'pro' },
      storedTs: { plan: 2000 },
      changes: { plan: null },
      callTs: 1999,
      result: { plan: 'pro' },
      resultTs: { plan: 2000 },
    },
    {
      row: 'a call with the equal timestamp applies',
      stored: { plan: 'pro' },
      storedTs: { plan: 2000 },
      changes: { plan: 'free' },
      callTs: 2000,
      result: { plan: 'free' },
      resultTs: { plan: 2000 },
    },
    {
      row: 'a newer call applies and records its time',
      stored: { plan: 'pro' },
      storedTs: { plan: 2000 },
      changes: { plan: 'free' },
      callTs: 3000,
      result: { plan: 'free' },
      resultTs: { plan: 3000 },
    },
    {
      row: 'a key never set before takes any call, old or new',
      stored: { plan: 'pro' },
      storedTs: { plan: 2000 },
      changes: { seats: 5 },
      callTs: 1,
      result: { plan: 'pro', seats: 5 },
      resultTs: { plan: 2000, seats: 1 },
    },
    {
      row: 'ordering is per attribute: one key of a call is skipped, another applied',
      stored: { plan: 'pro', seats: 1 },
      storedTs: { plan: 3000, seats: 1000 },
      changes: { plan: 'free', seats: 9 },
      callTs: 2000,
      result: { plan: 'pro', seats: 9 },
      resultTs: { plan: 3000, seats: 2000 },
    },
    {
      row: 'a removal remembers its time, so an older set cannot bring the key back',
      stored: {},
      storedTs: { plan: 3000 },
      changes: { plan: 'pro' },
      callTs: 2000,
      result: {},
      resultTs: { plan: 3000 },
    },
  ];
  it.each(named(rows, (r) => r.row))('%s', (_title, { stored, storedTs, changes, callTs, result, resultTs }) => {
    const merged = mergeAttributes(stored, storedTs, changes, callTs);
    expect(merged.attributes).toEqual(result);
    expect(merged.timestamps).toEqual(resultTs);
  });

  it('a same-value call with a newer time only moves the timestamp, reporting no change', () => {
    const merged = mergeAttributes({ plan: 'pro' }, { plan: 1000 }, { plan: 'pro' }, 2000);
    expect(merged).toEqual({ attributes: { plan: 'pro' }, timestamps: { plan: 2000 }, changed: [] });
  });

  // Retried or reordered deliveries converge to the same person.
  const calls: { name: string; ts: number; changes: AttributeChanges }[] = [
    { name: 'A (t=1000)', ts: 1000, changes: { plan: 'free', seats: 1, trial: true } },
    { name: 'B (t=2000)', ts: 2000, changes: { plan: 'pro', trial: null } },
    { name: 'C (t=3000)', ts: 3000, changes: { seats: 5 } },
  ];
  const orders = [
    [0, 1, 2],
    [0, 2, 1],
    [1, 0, 2],
    [1, 2, 0],
    [2, 0, 1],
    [2, 1, 0],
    [0, 1, 1, 2, 0],
  ];
  it.each(named(orders, (order) => `deliveries in order ${order.map((i) => calls[i]!.name).join(', ')} converge`))(
    '%s',
    (_title, order) => {
      let state = { attributes: {} as Attributes, timestamps: {} as AttributeTimestamps };
      for (const i of order)
        state = mergeAttributes(state.attributes, state.timestamps, calls[i]!.changes, calls[i]!.ts);
      expect(state.attributes).toEqual({ plan: 'pro', seats: 5 });
      expect(state.timestamps).toEqual({ plan: 2000, seats: 3000, trial: 2000 });
    },
  );
});

describe('mergeAttributes: at most 300 attributes per person', () => {
  it.each(
    [
      { row: '299 stored + 1 new = 300', stored: 299, changes: { extra: 1 } as AttributeChanges, ok: true },
      { row: '300 stored + 1 new = 301', stored: 300, changes: { extra: 1 } as AttributeChanges, ok: false },
      { row: '300 stored, one replaced', stored: 300, changes: { a0: 'new' } as AttributeChanges, ok: true },
      {
        row: '300 stored, one removed and one added',
        stored: 300,
        changes: { a0: null, extra: 1 } as AttributeChanges,
        ok: true,
      },
      {
        row: '0 stored + 301 in one call',
        stored: 0,
        changes: manyAttributes(301).attributes as AttributeChanges,
        ok: false,
      },
    ].map((r) => [`${r.row} → ${r.ok ? 'accepted' : 'too_many_attributes'}`, r] as const),
  )('%s', (_title, { stored, changes, ok }) => {
    const current = manyAttributes(stored);
    const run = () => mergeAttributes(current.attributes, current.timestamps, changes, 2000);
    if (ok) expect(Object.keys(run().attributes).length).toBeLessThanOrEqual(300);
    else expect(refusalOf(run)).toMatchObject({ code: 'too_many_attributes', status: 400 });
  });

  it('an older call that is skipped cannot push a person over the limit', () => {
    const current = manyAttributes(300, 5000);
    expect(() => mergeAttributes(current.attributes, current.timestamps, { a0: null, a1: 'x' }, 1000)).not.toThrow();
  });
});

describe('parseUnsubscribed: true, "true", 1, "1" unsubscribe; false, "false", 0, "0" subscribe; else 400', () => {
  it.each(
    [
      { raw: true, result: true },
      { raw: 'true', result: true },
      { raw: 1, result: true },
      { raw: '1', result: true },
      { raw: false, result: false },
      { raw: 'false', result: false },
      { raw: 0, result: false },
      { raw: '0', result: false },
    ].map((r) => [`${show(r.raw)} → ${r.result ? 'unsubscribed' : 'subscribed'}`, r] as const),
  )('%s', (_title, { raw, result }) => {
    expect(parseUnsubscribed(raw)).toBe(result);
  });

  it.each([null, ''].map((raw) => [`${show(raw)} removes the attribute (parsed as null)`, raw] as const))(
    '%s',
    (_title, raw) => {
      expect(parseUnsubscribed(raw)).toBeNull();
    },
  );

  // Customer.io reads "any case of true" (reference §1.3); Roster reads the listed words in any case.
  it.each(
    [
      { raw: 'TRUE', result: true },
      { raw: 'True', result: true },
      { raw: 'FALSE', result: false },
      { raw: 'False', result: false },
    ].map(
      (r) =>
        [`${show(r.raw)} (a listed word in another case) → ${r.result ? 'unsubscribed' : 'subscribed'}`, r] as const,
    ),
  )('%s', (_title, { raw, result }) => {
    expect(parseUnsubscribed(raw)).toBe(result);
  });

  it.each(
    [
      { name: '"yes"', raw: 'yes' },
      { name: '"no"', raw: 'no' },
      { name: '"on"', raw: 'on' },
      { name: '"off"', raw: 'off' },
      { name: '"unsubscribed"', raw: 'unsubscribed' },
      { name: '"truee"', raw: 'truee' },
      { name: '"t"', raw: 't' },
      { name: '"01"', raw: '01' },
      { name: '" "', raw: ' ' },
      { name: '2', raw: 2 },
      { name: '-1', raw: -1 },
      { name: '0.5', raw: 0.5 },
      { name: 'NaN', raw: Number.NaN },
      { name: 'an object', raw: { value: true } },
      { name: 'an array', raw: [true] },
    ].map((r) => [`${r.name} → invalid_unsubscribed`, r] as const),
  )('%s', (_title, { raw }) => {
    expect(refusalOf(() => parseUnsubscribed(raw))).toMatchObject({
      code: 'invalid_unsubscribed',
      field: 'unsubscribed',
      status: 400,
    });
  });
});
