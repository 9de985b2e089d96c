/**
 * Objects and relationships (reference/customerio-api.md §1.1, §1.3, §2), as their calls are validated: object
 * identifiers, the person side of a relationship, relationship lists in v1 and v2 shapes, object and relationship
 * attributes (the people limits, plus 100,000 bytes in all). A refused input throws, so nothing of it is applied.
 */
import { describe, expect, it } from 'vitest';
import { parseIdentifyPayload } from '../../src/domain/identify-payload.js';
import { limits } from '../../src/domain/limits.js';
import {
  mergeObjectAttributes,
  parseAnonymousId,
  parseAttributeChanges,
  parseIdentifyRelationships,
  parseObjectAttributes,
  parseObjectId,
  parseObjectIdentifiers,
  parseObjectRelationships,
  parseObjectTypeId,
  parsePersonLink,
  parsePersonLinks,
} from '../../src/domain/objects.js';
import { identifierModes } from '../../src/domain/workspace.js';
import { named, ofBytes, refusalOf, show } from './support.js';

const manyAttributes = (count: number): Record<string, unknown> =>
  Object.fromEntries(Array.from({ length: count }, (_, i) => [`a${i}`, i]));

/** Attributes whose JSON encoding is exactly `bytes` bytes, each value within the 1000-byte limit. */
function attributesOfJsonBytes(bytes: number): Record<string, string> {
  const attrs: Record<string, string> = {};
  const room = () => bytes - JSON.stringify(attrs).length - ',"pad":""'.length;
  // Each filler costs 510 bytes (`,"k000":"` + 500 + `"`), so the room left for the pad ends between 0 and 998.
  for (let i = 0; room() > 998; i++) attrs[`k${String(i).padStart(3, '0')}`] = 'a'.repeat(500);
  const rest = room();
  if (rest < 0 || rest > 998) throw new Error(`cannot pad ${rest}`);
  attrs.pad = 'a'.repeat(rest);
  if (JSON.stringify(attrs).length !== bytes) throw new Error('size mismatch');
  return attrs;
}

describe('parseObjectTypeId: a whole number from 1, as a string', () => {
  it.each(
    named(
      [
        { raw: '1', ok: '1' },
        { raw: '42', ok: '42' },
        { raw: 7, ok: '7' },
        { raw: '1234567890', ok: '1234567890' },
        { raw: '0' },
        { raw: '01' },
        { raw: '-1' },
        { raw: '1.5' },
        { raw: 1.5 },
        { raw: 0 },
        { raw: 'companies' },
        { raw: '' },
        { raw: ' 1' },
        { raw: null },
        { raw: '12345678901' },
      ],
      (r) => `${show(r.raw)} → ${r.ok === undefined ? 'invalid_identifier' : show(r.ok)}`,
    ),
  )('%s', (_title, { raw, ok }) => {
    if (ok === undefined)
      expect(refusalOf(() => parseObjectTypeId(raw))).toEqual({
        code: 'invalid_identifier',
        field: 'object_type_id',
        status: 400,
      });
    else expect(parseObjectTypeId(raw)).toBe(ok);
  });
});

describe('parseObjectId: the person-id rules (1..150 bytes, no junk)', () => {
  it.each(
    named(
      [
        { raw: 'acme', ok: 'acme' },
        { raw: 42, ok: '42' },
        { raw: 'Acme Inc. / EU', ok: 'Acme Inc. / EU' },
        { raw: ofBytes(150), ok: ofBytes(150) },
        { raw: ofBytes(151) },
        { raw: ofBytes(152, 'é') },
        { raw: '' },
        { raw: '   ' },
        { raw: 'null' },
        { raw: 'undefined' },
        { raw: 'a\u0000b' },
        { raw: { id: 1 } },
        { raw: true },
      ],
      (r) => `${show(r.raw)} → ${r.ok === undefined ? 'invalid_identifier' : 'accepted'}`,
    ),
  )('%s', (_title, { raw, ok }) => {
    if (ok === undefined)
      expect(refusalOf(() => parseObjectId(raw))).toEqual({
        code: 'invalid_identifier',
        field: 'object_id',
        status: 400,
      });
    else expect(parseObjectId(raw)).toBe(ok);
  });
});

describe('parseObjectIdentifiers: {object_type_id, object_id}', () => {
  it('both given → the object reference (Segment sends object_id first)', () => {
    expect(parseObjectIdentifiers({ object_id: 'acme', object_type_id: '1' })).toEqual({
      typeId: '1',
      objectId: 'acme',
    });
  });

  it.each(
    named(
      [
        { name: 'missing', raw: undefined, field: 'identifiers' },
        { name: 'null', raw: null, field: 'identifiers' },
        { name: 'an array', raw: [{ object_type_id: '1', object_id: 'a' }], field: 'identifiers' },
        { name: 'a string', raw: 'acme', field: 'identifiers' },
        { name: 'object_type_id missing', raw: { object_id: 'acme' }, field: 'object_type_id' },
        { name: 'object_id missing', raw: { object_type_id: '1' }, field: 'object_id' },
        { name: 'cio_object_id (never given out by Roster)', raw: { cio_object_id: 'ob01' }, field: 'cio_object_id' },
        {
          name: 'cio_object_id beside the pair',
          raw: { cio_object_id: 'ob01', object_type_id: '1', object_id: 'a' },
          field: 'cio_object_id',
        },
        {
          name: 'a person identifier beside the pair',
          raw: { object_type_id: '1', object_id: 'a', id: 'u1' },
          field: 'id',
        },
        { name: 'a bad type id', raw: { object_type_id: 'one', object_id: 'a' }, field: 'object_type_id' },
        { name: 'a junk object id', raw: { object_type_id: '1', object_id: 'NaN' }, field: 'object_id' },
      ],
      (r) => `${r.name} → invalid_identifier on ${r.field}`,
    ),
  )('%s', (_title, { raw, field }) => {
    expect(refusalOf(() => parseObjectIdentifiers(raw))).toEqual({ code: 'invalid_identifier', field, status: 400 });
  });
});

describe('parsePersonLink: exactly one of id, email, cio_id or anonymous_id', () => {
  it.each(identifierModes)('[%s] id, cio_id (with or without the prefix) and anonymous_id', (mode) => {
    expect(parsePersonLink({ id: 'u1' }, 'identifiers', mode)).toEqual({ ref: { kind: 'id', value: 'u1' } });
    expect(parsePersonLink({ cio_id: 'abc123' }, 'identifiers', mode)).toEqual({
      ref: { kind: 'cio_id', value: 'abc123' },
    });
    expect(parsePersonLink({ cio_id: 'cio_abc123' }, 'identifiers', mode)).toEqual({
      ref: { kind: 'cio_id', value: 'abc123' },
    });
    expect(parsePersonLink({ anonymous_id: 'a9' }, 'identifiers', mode)).toEqual({ anonymousId: 'a9' });
  });

  it('[email_or_id] an email names a person by their normalised address', () => {
    expect(parsePersonLink({ email: ' Jane@Example.com' }, 'identifiers', 'email_or_id')).toEqual({
      ref: { kind: 'email', value: 'Jane@Example.com', key: 'jane@example.com' },
    });
  });

  it.each(
    named(
      [
        ...identifierModes.flatMap((mode) => [
          { mode, name: 'missing', raw: undefined },
          { mode, name: 'empty', raw: {} },
          { mode, name: 'two identifiers', raw: { id: 'u1', anonymous_id: 'a1' } },
          { mode, name: 'a phone', raw: { phone: '+15555550100' } },
          { mode, name: 'an empty anonymous_id', raw: { anonymous_id: '' } },
          { mode, name: 'a numeric anonymous_id', raw: { anonymous_id: 7 } },
          { mode, name: 'an anonymous_id over 150 bytes', raw: { anonymous_id: ofBytes(151) } },
          { mode, name: 'a junk id', raw: { id: 'null' } },
        ]),
        { mode: 'id_only' as const, name: 'an email (not an identifier here)', raw: { email: 'jane@example.com' } },
      ],
      (r) => `[${r.mode}] ${r.name} → invalid_identifier`,
    ),
  )('%s', (_title, { raw, mode }) => {
    expect(refusalOf(() => parsePersonLink(raw, 'identifiers', mode))).toMatchObject({
      code: 'invalid_identifier',
      status: 400,
    });
  });

  it('a cio_-prefixed id is reserved', () => {
    expect(refusalOf(() => parsePersonLink({ id: 'cio_x' }, 'identifiers', 'email_or_id')).code).toBe(
      'reserved_prefix',
    );
  });

  it('parseAnonymousId keeps the value exactly as sent', () => {
    expect(parseAnonymousId(' a b ')).toBe(' a b ');
    expect(parseAnonymousId(ofBytes(150))).toBe(ofBytes(150));
  });
});

describe('parseAttributeChanges: relationship and object attributes (the people limits)', () => {
  it('values are kept; null and "" remove', () => {
    expect(
      parseAttributeChanges({ role: 'admin', seats: 3, tags: ['a'], gone: null, blank: '' }, 'relationship_attributes'),
    ).toEqual({ role: 'admin', seats: 3, tags: ['a'], gone: null, blank: null });
  });

  it('missing or null → no changes', () => {
    expect(parseAttributeChanges(undefined, 'x')).toEqual({});
    expect(parseAttributeChanges(null, 'x')).toEqual({});
  });

  it.each(
    named(
      [
        { name: '300 attributes', raw: manyAttributes(300), code: null },
        { name: '301 attributes', raw: manyAttributes(301), code: 'too_many_attributes' },
        { name: 'a 150-byte name', raw: { [ofBytes(150)]: 1 }, code: null },
        { name: 'a 151-byte name', raw: { [ofBytes(151)]: 1 }, code: 'invalid_attribute' },
        { name: 'a 1000-byte value', raw: { v: ofBytes(998) }, code: null },
        { name: 'a 1001-byte value', raw: { v: ofBytes(999) }, code: 'invalid_attribute' },
        { name: 'a __proto__ key', raw: JSON.parse('{"__proto__": {"x": 1}}') as object, code: 'invalid_attribute' },
        { name: 'a NaN value', raw: { v: Number.NaN }, code: 'invalid_attribute' },
        { name: 'an array', raw: [1, 2], code: 'invalid_relationship' },
        { name: 'a string', raw: 'role=admin', code: 'invalid_relationship' },
      ],
      (r) => `${r.name} → ${r.code ?? 'accepted'}`,
    ),
  )('%s', (_title, { raw, code }) => {
    expect(refusalOf(() => parseAttributeChanges(raw, 'relationship_attributes', 'invalid_relationship')).code).toBe(
      code,
    );
  });
});

describe('parseObjectAttributes: an object identify body', () => {
  it('created_at is the object creation time (top level first, then attributes); anonymous_id is dropped', () => {
    expect(parseObjectAttributes({ plan: 'x', anonymous_id: 'a1', created_at: 1_600_000_000 }, 1_577_836_800)).toEqual({
      changes: { plan: 'x' },
      createdAt: 1_577_836_800,
    });
    expect(parseObjectAttributes({ created_at: '2020-09-13T12:26:40Z' })).toEqual({
      changes: {},
      createdAt: 1_600_000_000,
    });
    expect(parseObjectAttributes(undefined)).toEqual({ changes: {} });
  });

  it('300 attributes besides created_at and anonymous_id are accepted; 301 are not', () => {
    const body = { ...manyAttributes(300), created_at: 1, anonymous_id: 'a' };
    expect(Object.keys(parseObjectAttributes(body).changes)).toHaveLength(300);
    expect(refusalOf(() => parseObjectAttributes(manyAttributes(301))).code).toBe('too_many_attributes');
  });

  it.each(
    named(
      [
        { name: 'attributes an array', raw: [], createdAt: undefined, code: 'invalid_body' },
        { name: 'an unreadable created_at', raw: {}, createdAt: 'yesterday', code: 'invalid_timestamp' },
        { name: 'a value over 1000 bytes', raw: { v: ofBytes(1001) }, createdAt: undefined, code: 'invalid_attribute' },
      ],
      (r) => `${r.name} → ${r.code}`,
    ),
  )('%s', (_title, { raw, createdAt, code }) => {
    expect(refusalOf(() => parseObjectAttributes(raw, createdAt)).code).toBe(code);
  });
});

describe('relationship lists', () => {
  it('a person’s cio_relationships name objects', () => {
    expect(
      parseObjectRelationships([
        { identifiers: { object_type_id: '1', object_id: 'acme' }, relationship_attributes: { role: 'admin' } },
        { identifiers: { object_type_id: '2', object_id: 7 } },
      ]),
    ).toEqual([
      { object: { typeId: '1', objectId: 'acme' }, attributes: { role: 'admin' } },
      { object: { typeId: '2', objectId: '7' }, attributes: {} },
    ]);
  });

  it('an object’s cio_relationships name people or anonymous ids', () => {
    expect(
      parsePersonLinks(
        [
          { identifiers: { id: 'u1' }, relationship_attributes: { role: 'owner' } },
          { identifiers: { anonymous_id: 'a9' } },
        ],
        'email_or_id',
      ),
    ).toEqual([
      { person: { ref: { kind: 'id', value: 'u1' } }, attributes: { role: 'owner' } },
      { person: { anonymousId: 'a9' }, attributes: {} },
    ]);
  });

  const item = { identifiers: { object_type_id: '1', object_id: 'a' } };
  it.each(
    named(
      [
        { name: 'not an array', raw: item, code: 'invalid_relationship' },
        { name: 'an item that is a string', raw: ['acme'], code: 'invalid_relationship' },
        { name: 'an item that is null', raw: [null], code: 'invalid_relationship' },
        { name: 'an item without identifiers', raw: [{ relationship_attributes: {} }], code: 'invalid_identifier' },
        {
          name: 'relationship_attributes an array',
          raw: [{ ...item, relationship_attributes: [] }],
          code: 'invalid_relationship',
        },
        {
          name: `${limits.relationshipsPerCall} items`,
          raw: Array(limits.relationshipsPerCall).fill(item),
          code: null,
        },
        {
          name: `${limits.relationshipsPerCall + 1} items`,
          raw: Array(limits.relationshipsPerCall + 1).fill(item),
          code: 'invalid_relationship',
        },
        { name: 'empty', raw: [], code: null },
      ],
      (r) => `${r.name} → ${r.code ?? 'accepted'}`,
    ),
  )('%s', (_title, { raw, code }) => {
    expect(refusalOf(() => parseObjectRelationships(raw)).code).toBe(code);
  });
});

describe('parseIdentifyRelationships: cio_relationships in a v1 identify body', () => {
  const relationships = [
    { identifiers: { object_type_id: '1', object_id: 'acme' }, relationship_attributes: { r: 1 } },
  ];
  const items = [{ object: { typeId: '1', objectId: 'acme' }, attributes: { r: 1 } }];

  it.each(
    named(
      [
        { name: 'add_relationships', raw: { action: 'add_relationships', relationships }, action: 'add' },
        { name: 'delete_relationships', raw: { action: 'delete_relationships', relationships }, action: 'delete' },
        { name: 'no action (add)', raw: { relationships }, action: 'add' },
        { name: 'a bare array, the v2 shape (add)', raw: relationships, action: 'add' },
      ],
      (r) => `${r.name} → ${r.action}`,
    ),
  )('%s', (_title, { raw, action }) => {
    expect(parseIdentifyRelationships(raw)).toEqual({ action, items });
  });

  it.each(
    named(
      [
        {
          name: 'an unknown action',
          raw: { action: 'replace_relationships', relationships },
          code: 'invalid_relationship',
        },
        { name: 'relationships missing', raw: { action: 'add_relationships' }, code: 'invalid_relationship' },
        { name: 'a string', raw: 'acme', code: 'invalid_relationship' },
        {
          name: 'a cio_object_id',
          raw: { action: 'add_relationships', relationships: [{ identifiers: { cio_object_id: 'x' } }] },
          code: 'invalid_identifier',
        },
      ],
      (r) => `${r.name} → ${r.code}`,
    ),
  )('%s', (_title, { raw, code }) => {
    expect(refusalOf(() => parseIdentifyRelationships(raw)).code).toBe(code);
  });

  it.each(identifierModes)('[%s] parseIdentifyPayload sets it apart: not an attribute, not counted', (mode) => {
    const p = parseIdentifyPayload(
      { ...manyAttributes(300), cio_relationships: { action: 'add_relationships', relationships } },
      mode,
    );
    expect(p.relationships).toEqual({ action: 'add', items });
    expect(Object.keys(p.changes)).toHaveLength(300);
    expect(p.changes).not.toHaveProperty('cio_relationships');
  });

  it('cio_relationships: null in an identify body is ignored', () => {
    expect(parseIdentifyPayload({ cio_relationships: null }, 'email_or_id').relationships).toBeUndefined();
  });
});

describe('mergeObjectAttributes: the people merge, held to 300 attributes and 100,000 bytes of JSON', () => {
  it('merges like people: keys replace, null removes, others stay; older calls do not overwrite', () => {
    const merged = mergeObjectAttributes(
      'object',
      { a: 1, b: 2 },
      { a: 5_000, b: 5_000 },
      { a: 9, b: null, c: 3 },
      6_000,
    );
    expect(merged.attributes).toEqual({ a: 9, c: 3 });
    expect(merged.changed.sort()).toEqual(['a', 'b', 'c']);
    const older = mergeObjectAttributes('object', { a: 1 }, { a: 5_000 }, { a: 2 }, 4_000);
    expect(older.attributes).toEqual({ a: 1 });
  });

  it.each(
    named(
      [
        { what: 'object' as const, name: '300 attributes', attrs: manyAttributes(300), code: null },
        { what: 'object' as const, name: '301 attributes', attrs: manyAttributes(301), code: 'too_many_attributes' },
        {
          what: 'relationship' as const,
          name: '301 attributes',
          attrs: manyAttributes(301),
          code: 'too_many_attributes',
        },
        { what: 'object' as const, name: 'exactly 100,000 bytes', attrs: attributesOfJsonBytes(100_000), code: null },
        {
          what: 'object' as const,
          name: '100,001 bytes',
          attrs: attributesOfJsonBytes(100_001),
          code: 'too_many_attributes',
        },
        {
          what: 'relationship' as const,
          name: '100,001 bytes',
          attrs: attributesOfJsonBytes(100_001),
          code: 'too_many_attributes',
        },
      ],
      (r) => `${r.what}: ${r.name} → ${r.code ?? 'accepted'}`,
    ),
  )('%s', (_title, { what, attrs, code }) => {
    const r = refusalOf(() => mergeObjectAttributes(what, {}, {}, attrs as Record<string, string>, 1));
    expect(r.code).toBe(code);
  });

  it('the count limit counts what is stored: 299 kept plus 2 new is refused, and names the object', () => {
    const current = Object.fromEntries(Object.entries(manyAttributes(299)).map(([k, v]) => [k, v as number]));
    expect(refusalOf(() => mergeObjectAttributes('object', current, {}, { x: 1, y: 2 }, 1)).code).toBe(
      'too_many_attributes',
    );
    try {
      mergeObjectAttributes('relationship', current, {}, { x: 1, y: 2 }, 1);
    } catch (err) {
      expect((err as Error).message).toContain('relationship');
    }
  });
});
