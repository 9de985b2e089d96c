/**
 * identity.md, "Words" and "Reading a reference": how a reference is classified (cio_id, email, id) in each workspace
 * mode, which values are junk, the 150-byte limit, and the rules for body `id` and body `email`.
 */
import { describe, expect, it } from 'vitest';
import {
  describeReference,
  isValidEmail,
  normalizeEmail,
  parseBodyEmail,
  parseBodyId,
  parseReference,
  parseTypedReference,
  toIdString,
  type Reference,
} from '../../src/domain/identifiers.js';
import { identifierModes, type IdentifierMode } from '../../src/domain/workspace.js';
import { named, ofBytes, refusalOf, show } from './support.js';

const inBothModes = <T extends object>(rows: T[]) =>
  rows.flatMap((r) => identifierModes.map((mode) => ({ ...r, mode })));

/** Junk values (identity.md, Reading a reference, 4): refused in any case, in either mode. */
const junkStrings = [
  '   ',
  '\t',
  'null',
  'NULL',
  'Null',
  'undefined',
  'UNDEFINED',
  'Undefined',
  '[object Object]',
  '[OBJECT OBJECT]',
  '[object object]',
  'NaN',
  'nan',
  'NAN',
];

describe('parseReference: reading a reference', () => {
  describe('rule 1: starts with cio_ → a cio_id reference (the rest is the cio_id)', () => {
    it.each(
      named(
        inBothModes([
          { raw: 'cio_abc123', value: 'abc123' },
          { raw: 'cio_03000001', value: '03000001' },
        ]),
        (r) => `[${r.mode}] ${r.raw} → cio_id ${r.value}`,
      ),
    )('%s', (_title, { raw, value, mode }) => {
      expect(parseReference(raw, mode)).toEqual({ kind: 'cio_id', value });
    });

    it.each(
      named(
        inBothModes([
          { name: 'nothing after the prefix', raw: 'cio_' },
          { name: 'characters a cio_id never has', raw: 'cio_abc-123' },
          { name: 'an email address after the prefix', raw: 'cio_jane@example.com' },
          { name: 'a cio_id longer than 64 characters', raw: `cio_${'a'.repeat(65)}` },
        ]),
        (r) => `[${r.mode}] ${r.name} → invalid_identifier`,
      ),
    )('%s', (_title, { raw, mode }) => {
      expect(refusalOf(() => parseReference(raw, mode)).code).toBe('invalid_identifier');
    });

    it('a 64-character cio_id is accepted', () => {
      expect(parseReference(`cio_${'a'.repeat(64)}`, 'email_or_id')).toEqual({ kind: 'cio_id', value: 'a'.repeat(64) });
    });
  });

  describe('rule 2: in email_or_id a valid email address → an email reference, matched case-insensitively', () => {
    it.each(
      [
        { raw: 'jane@example.com', value: 'jane@example.com', key: 'jane@example.com' },
        { raw: 'Jane.Doe@Example.COM', value: 'Jane.Doe@Example.COM', key: 'jane.doe@example.com' },
        { raw: '  Jane@Example.com  ', value: 'Jane@Example.com', key: 'jane@example.com' },
        {
          raw: 'jane+tag@mail.example.co.uk',
          value: 'jane+tag@mail.example.co.uk',
          key: 'jane+tag@mail.example.co.uk',
        },
      ].map((r) => [`${show(r.raw)} → email reference, value ${show(r.value)}, key ${show(r.key)}`, r] as const),
    )('%s', (_title, { raw, value, key }) => {
      expect(parseReference(raw, 'email_or_id')).toEqual({ kind: 'email', value, key });
    });
  });

  describe('rule 3: else an id reference; in id_only an email-shaped string is an id', () => {
    const rows: { name: string; raw: unknown; mode: IdentifierMode; value: string }[] = [
      { name: 'a plain id', raw: 'user-1', mode: 'email_or_id', value: 'user-1' },
      { name: 'a plain id', raw: 'user-1', mode: 'id_only', value: 'user-1' },
      { name: 'case is kept (ids are case-sensitive)', raw: 'User-1', mode: 'email_or_id', value: 'User-1' },
      { name: 'a number is stored as its decimal string', raw: 42, mode: 'email_or_id', value: '42' },
      { name: 'a number is stored as its decimal string', raw: 42, mode: 'id_only', value: '42' },
      { name: 'zero is an id', raw: 0, mode: 'id_only', value: '0' },
      { name: 'email-shaped, id_only', raw: 'jane@example.com', mode: 'id_only', value: 'jane@example.com' },
      {
        name: 'email-shaped keeps its case, id_only',
        raw: 'Jane@Example.com',
        mode: 'id_only',
        value: 'Jane@Example.com',
      },
      {
        name: 'not a valid address (no dot in domain)',
        raw: 'jane@example',
        mode: 'email_or_id',
        value: 'jane@example',
      },
      { name: 'not a valid address (two @)', raw: 'a@b@example.com', mode: 'email_or_id', value: 'a@b@example.com' },
      { name: 'a phone number is an id', raw: '+15551234567', mode: 'email_or_id', value: '+15551234567' },
      { name: 'CIO_ in capitals is not the cio_ prefix', raw: 'CIO_abc', mode: 'email_or_id', value: 'CIO_abc' },
    ];
    it.each(named(rows, (r) => `[${r.mode}] ${r.name}: ${show(r.raw)} → id ${show(r.value)}`))(
      '%s',
      (_title, { raw, mode, value }) => {
        expect(parseReference(raw, mode)).toEqual({ kind: 'id', value });
      },
    );
  });

  describe('rule 4: empty or junk → invalid_identifier; over 150 bytes → 400', () => {
    it.each(
      named(
        inBothModes(junkStrings.map((raw) => ({ raw }))),
        (r) => `[${r.mode}] junk "${r.raw}" → invalid_identifier`,
      ),
    )('%s', (_title, { raw, mode }) => {
      expect(refusalOf(() => parseReference(raw, mode))).toMatchObject({ code: 'invalid_identifier', status: 400 });
    });

    it.each(
      inBothModes([
        { name: 'empty string', raw: '' },
        { name: 'null', raw: null },
        { name: 'undefined', raw: undefined },
        { name: 'an object', raw: {} },
        { name: 'an array', raw: ['u1'] },
        { name: 'a boolean', raw: true },
        { name: 'NaN', raw: Number.NaN },
        { name: 'Infinity', raw: Number.POSITIVE_INFINITY },
        { name: 'a control character', raw: 'u\n1' },
      ]).map((r) => [`[${r.mode}] ${r.name} → invalid_identifier`, r] as const),
    )('%s', (_title, { raw, mode }) => {
      expect(refusalOf(() => parseReference(raw, mode)).code).toBe('invalid_identifier');
    });

    it.each(
      inBothModes([
        { name: '150 ASCII bytes', raw: ofBytes(150), ok: true },
        { name: '151 ASCII bytes', raw: ofBytes(151), ok: false },
        { name: '75 × "é" = 150 bytes', raw: ofBytes(150, 'é'), ok: true },
        { name: '76 × "é" = 152 bytes (76 characters)', raw: ofBytes(152, 'é'), ok: false },
        { name: '50 × "€" = 150 bytes', raw: ofBytes(150, '€'), ok: true },
        { name: '51 × "€" = 153 bytes', raw: ofBytes(153, '€'), ok: false },
      ]).map(
        (r) => [`[${r.mode}] id reference of ${r.name} → ${r.ok ? 'accepted' : 'invalid_identifier'}`, r] as const,
      ),
    )('%s', (_title, { raw, ok, mode }) => {
      if (ok) expect(parseReference(raw, mode)).toEqual({ kind: 'id', value: raw });
      else expect(refusalOf(() => parseReference(raw, mode)).code).toBe('invalid_identifier');
    });

    // The 150-byte limit is the id limit; an email reference follows the body-email limit (254 bytes), so a person
    // created with a long body email can still be referenced by it.
    it('email_or_id: an email reference over 150 bytes but within 254 is an email reference', () => {
      const email = `${'a'.repeat(200)}@example.com`;
      expect(parseReference(email, 'email_or_id')).toEqual({ kind: 'email', value: email, key: email });
    });

    it('id_only: the same 212-byte email-shaped string is an id over 150 bytes → invalid_identifier', () => {
      expect(refusalOf(() => parseReference(`${'a'.repeat(200)}@example.com`, 'id_only')).code).toBe(
        'invalid_identifier',
      );
    });

    it('email_or_id: an email-shaped string over 254 bytes is no email, and as an id it is over 150 bytes', () => {
      expect(refusalOf(() => parseReference(`${'a'.repeat(250)}@example.com`, 'email_or_id')).code).toBe(
        'invalid_identifier',
      );
    });
  });
});

describe('parseTypedReference: v2 identifiers and merge primary/secondary', () => {
  const accepted: { name: string; type: string; raw: unknown; mode: IdentifierMode; ref: Reference }[] = [
    {
      name: 'cio_id without prefix',
      type: 'cio_id',
      raw: 'abc123',
      mode: 'email_or_id',
      ref: { kind: 'cio_id', value: 'abc123' },
    },
    {
      name: 'cio_id with prefix',
      type: 'cio_id',
      raw: 'cio_abc123',
      mode: 'id_only',
      ref: { kind: 'cio_id', value: 'abc123' },
    },
    {
      name: 'email',
      type: 'email',
      raw: ' Jane@Example.com ',
      mode: 'email_or_id',
      ref: { kind: 'email', value: 'Jane@Example.com', key: 'jane@example.com' },
    },
    { name: 'id', type: 'id', raw: 'u1', mode: 'email_or_id', ref: { kind: 'id', value: 'u1' } },
    { name: 'numeric id', type: 'id', raw: 42, mode: 'id_only', ref: { kind: 'id', value: '42' } },
    {
      name: 'email-shaped id stays an id',
      type: 'id',
      raw: 'jane@example.com',
      mode: 'email_or_id',
      ref: { kind: 'id', value: 'jane@example.com' },
    },
  ];
  it.each(named(accepted, (r) => `[${r.mode}] ${r.type}: ${r.name}, ${show(r.raw)} → ${r.ref.kind} reference`))(
    '%s',
    (_title, { type, raw, mode, ref }) => {
      expect(parseTypedReference(type, raw, mode)).toEqual(ref);
    },
  );

  const refused: { name: string; type: string; raw: unknown; mode: IdentifierMode; code: string }[] = [
    { name: 'empty cio_id', type: 'cio_id', raw: '', mode: 'email_or_id', code: 'invalid_identifier' },
    { name: 'numeric cio_id', type: 'cio_id', raw: 5, mode: 'email_or_id', code: 'invalid_identifier' },
    {
      name: 'email is no identifier in id_only',
      type: 'email',
      raw: 'jane@example.com',
      mode: 'id_only',
      code: 'invalid_identifier',
    },
    { name: 'invalid address', type: 'email', raw: 'jane', mode: 'email_or_id', code: 'invalid_email' },
    { name: 'cio_ prefix in an id', type: 'id', raw: 'cio_abc', mode: 'email_or_id', code: 'reserved_prefix' },
    { name: 'junk id', type: 'id', raw: 'NaN', mode: 'id_only', code: 'invalid_identifier' },
    { name: 'id over 150 bytes', type: 'id', raw: ofBytes(151), mode: 'id_only', code: 'invalid_identifier' },
    {
      name: 'unknown identifier type',
      type: 'phone',
      raw: '+15551234567',
      mode: 'email_or_id',
      code: 'invalid_identifier',
    },
  ];
  it.each(named(refused, (r) => `[${r.mode}] ${r.type}: ${r.name} → ${r.code}`))(
    '%s',
    (_title, { type, raw, mode, code }) => {
      expect(refusalOf(() => parseTypedReference(type, raw, mode)).code).toBe(code);
    },
  );
});

describe('parseBodyId: a body id obeys the id-reference rules, and cio_ is reserved', () => {
  it.each(
    [
      { raw: 'u1', id: 'u1' },
      { raw: 'User-1', id: 'User-1' },
      { raw: 42, id: '42' },
      { raw: 0, id: '0' },
      { raw: -7, id: '-7' },
      { raw: 1.5, id: '1.5' },
      { raw: 'jane@example.com', id: 'jane@example.com' },
      { raw: 'CIO_abc', id: 'CIO_abc' },
      { raw: 'my_cio_id', id: 'my_cio_id' },
      { raw: ofBytes(150), id: ofBytes(150) },
    ].map((r) => [`${show(r.raw)} → ${show(r.id)}`, r] as const),
  )('%s', (_title, { raw, id }) => {
    expect(parseBodyId(raw)).toBe(id);
  });

  it.each(['cio_abc123', 'cio_', 'cio_jane@example.com'])('"%s" begins cio_ → reserved_prefix', (raw) => {
    expect(refusalOf(() => parseBodyId(raw))).toMatchObject({ code: 'reserved_prefix', field: 'id', status: 400 });
  });

  it.each(
    [
      ...junkStrings.map((raw) => ({ name: `junk "${raw}"`, raw })),
      { name: 'empty string', raw: '' },
      { name: '151 bytes', raw: ofBytes(151) },
      { name: '152 bytes in 76 characters', raw: ofBytes(152, 'é') },
      { name: 'null', raw: null },
      { name: 'a boolean', raw: false },
      { name: 'an object', raw: { id: 'u1' } },
      { name: 'NaN', raw: Number.NaN },
      { name: 'a control character', raw: 'u1\u0000' },
    ].map((r) => [`${r.name} → invalid_identifier`, r] as const),
  )('%s', (_title, { raw }) => {
    expect(refusalOf(() => parseBodyId(raw))).toMatchObject({ code: 'invalid_identifier', field: 'id' });
  });
});

describe('toIdString: ids are strings; numbers become their decimal string', () => {
  it.each(
    [
      { raw: '7', id: '7' },
      { raw: 7, id: '7' },
      { raw: 1234567890, id: '1234567890' },
    ].map((r) => [`${show(r.raw)} → ${show(r.id)}`, r] as const),
  )('%s', (_title, { raw, id }) => {
    expect(toIdString(raw)).toBe(id);
  });

  it('names the field it was given when refusing', () => {
    expect(refusalOf(() => toIdString('null', 'userId'))).toEqual({
      code: 'invalid_identifier',
      field: 'userId',
      status: 400,
    });
  });
});

describe('parseBodyEmail: a syntactically valid address (≤ 254 bytes, no control characters) in both modes', () => {
  it.each(
    [
      { raw: 'jane@example.com', email: 'jane@example.com' },
      { raw: 'Jane.Doe+tag@Mail.Example.co.uk', email: 'Jane.Doe+tag@Mail.Example.co.uk' },
      { raw: '  Jane@Example.com\t', email: 'Jane@Example.com' },
      { raw: "o'brien@example.ie", email: "o'brien@example.ie" },
      { raw: `${'a'.repeat(242)}@example.com`, email: `${'a'.repeat(242)}@example.com` },
    ].map((r) => [`${show(r.raw)} → ${show(r.email)} (trimmed, otherwise as given)`, r] as const),
  )('%s', (_title, { raw, email }) => {
    expect(parseBodyEmail(raw)).toBe(email);
  });

  it.each(
    [
      { name: 'empty', raw: '' },
      { name: 'only spaces', raw: '   ' },
      { name: 'no @', raw: 'jane' },
      { name: 'nothing after @', raw: 'jane@' },
      { name: 'nothing before @', raw: '@example.com' },
      { name: 'no dot in the domain', raw: 'jane@example' },
      { name: 'two @', raw: 'jane@@example.com' },
      { name: 'a space inside', raw: 'jane doe@example.com' },
      { name: 'an empty domain label', raw: 'jane@example..com' },
      { name: 'a leading dot in the domain', raw: 'jane@.example.com' },
      { name: 'a trailing dot', raw: 'jane@example.com.' },
      { name: 'angle brackets', raw: 'Jane <jane@example.com>' },
      { name: 'a NUL control character', raw: 'ja\u0000ne@example.com' },
      { name: 'a tab inside', raw: 'jane@exam\tple.com' },
      { name: 'a DEL control character', raw: 'jane\u007f@example.com' },
      { name: 'a C1 control character', raw: 'jane\u0085x@example.com' },
      { name: '255 bytes', raw: `${'a'.repeat(243)}@example.com` },
      { name: 'junk "null"', raw: 'null' },
      { name: 'a number', raw: 42 },
      { name: 'null', raw: null },
      { name: 'a boolean', raw: true },
      { name: 'an object', raw: { email: 'jane@example.com' } },
    ].map((r) => [`${r.name} → invalid_email`, r] as const),
  )('%s', (_title, { raw }) => {
    expect(refusalOf(() => parseBodyEmail(raw))).toMatchObject({ code: 'invalid_email', field: 'email', status: 400 });
  });
});

describe('isValidEmail and normalizeEmail', () => {
  it.each(
    [
      { value: 'jane@example.com', valid: true },
      { value: ' jane@example.com ', valid: true },
      { value: 'JANE@EXAMPLE.COM', valid: true },
      { value: 'jane@example', valid: false },
      { value: 'jane.example.com', valid: false },
      { value: '', valid: false },
    ].map((r) => [`isValidEmail(${show(r.value)}) → ${r.valid}`, r] as const),
  )('%s', (_title, { value, valid }) => {
    expect(isValidEmail(value)).toBe(valid);
  });

  it.each(
    [
      { email: 'jane@example.com', key: 'jane@example.com' },
      { email: 'Jane@Example.COM', key: 'jane@example.com' },
      { email: '  JANE.Doe@Example.com\n', key: 'jane.doe@example.com' },
    ].map((r) => [`trim, then lowercase the whole address: ${show(r.email)} → ${show(r.key)}`, r] as const),
  )('%s', (_title, { email, key }) => {
    expect(normalizeEmail(email)).toBe(key);
  });
});

describe('describeReference', () => {
  it.each(
    [
      { ref: { kind: 'cio_id', value: 'abc' } as Reference, text: 'cio_abc' },
      { ref: { kind: 'id', value: 'u1' } as Reference, text: 'u1' },
      {
        ref: { kind: 'email', value: 'Jane@Example.com', key: 'jane@example.com' } as Reference,
        text: 'Jane@Example.com',
      },
    ].map((r) => [`${r.ref.kind} reference → ${r.text}`, r] as const),
  )('%s', (_title, { ref, text }) => {
    expect(describeReference(ref)).toBe(text);
  });
});
