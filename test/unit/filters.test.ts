/**
 * filters.ts: the audience filter grammar (reference/customerio-api.md §4.2 plus Roster's operators). Each row is a
 * filter and what it parses to, or the stable code and path it is refused with.
 */
import { describe, expect, it } from 'vitest';
import {
  filterLimits,
  filterToJson,
  isNumericText,
  parseFilter,
  segmentIdsOf,
  type FilterNode,
} from '../../src/domain/filters.js';
import { named, ofBytes, refusalOf, show } from './support.js';

const attr = (field: string, operator: string, value?: unknown) => ({
  attribute: value === undefined ? { field, operator } : { field, operator, value },
});

describe('parseFilter: accepted filters', () => {
  const rows: { filter: unknown; parsed: FilterNode }[] = [
    {
      filter: attr('plan', 'eq', 'pro'),
      parsed: { kind: 'attribute', field: 'plan', operator: 'eq', value: 'pro' },
    },
    { filter: attr('plan', 'exists'), parsed: { kind: 'attribute', field: 'plan', operator: 'exists' } },
    {
      filter: attr('age', 'gt', 30),
      parsed: { kind: 'attribute', field: 'age', operator: 'gt', value: '30' },
    },
    {
      filter: attr('vip', 'eq', true),
      parsed: { kind: 'attribute', field: 'vip', operator: 'eq', value: 'true' },
    },
    {
      filter: attr('plan', 'in', ['a', 2]),
      parsed: { kind: 'attribute', field: 'plan', operator: 'in', value: ['a', '2'] },
    },
    ...(['neq', 'gte', 'lt', 'lte', 'contains', 'starts_with'] as const).map((operator) => ({
      filter: attr('f', operator, 'x'),
      parsed: { kind: 'attribute' as const, field: 'f', operator, value: 'x' },
    })),
    { filter: { segment: { id: 7 } }, parsed: { kind: 'segment', id: 7 } },
    { filter: { segment: { id: '7' } }, parsed: { kind: 'segment', id: 7 } },
    { filter: { and: [] }, parsed: { kind: 'and', children: [] } },
    {
      filter: { or: [attr('a', 'exists'), { not: { segment: { id: 1 } } }] },
      parsed: {
        kind: 'or',
        children: [
          { kind: 'attribute', field: 'a', operator: 'exists' },
          { kind: 'not', child: { kind: 'segment', id: 1 } },
        ],
      },
    },
    {
      filter: { attribute: { field: 'a', operator: 'eq', value: 'x', inverse: true } },
      parsed: { kind: 'not', child: { kind: 'attribute', field: 'a', operator: 'eq', value: 'x' } },
    },
  ];
  it.each(named(rows, (r) => show(r.filter)))('%s', (_t, { filter, parsed }) => {
    expect(parseFilter(filter)).toEqual(parsed);
  });
});

describe('parseFilter: refused filters (400 invalid_filter, naming the path)', () => {
  const deep = (n: number): unknown => (n === 0 ? attr('a', 'exists') : { not: deep(n - 1) });
  const rows: { title: string; filter: unknown; field: string }[] = [
    { title: 'not an object', filter: 'plan=pro', field: 'filter' },
    { title: 'null', filter: null, field: 'filter' },
    { title: 'an array', filter: [attr('a', 'exists')], field: 'filter' },
    { title: 'no key', filter: {}, field: 'filter' },
    { title: 'two keys', filter: { and: [], or: [] }, field: 'filter' },
    { title: 'unknown key', filter: { xor: [] }, field: 'filter.xor' },
    { title: 'and not an array', filter: { and: attr('a', 'exists') }, field: 'filter.and' },
    { title: 'bad child', filter: { and: [attr('a', 'exists'), 3] }, field: 'filter.and[1]' },
    { title: 'segment id missing', filter: { segment: {} }, field: 'filter.segment.id' },
    { title: 'segment id 0', filter: { segment: { id: 0 } }, field: 'filter.segment.id' },
    { title: 'segment id fraction', filter: { segment: { id: 1.5 } }, field: 'filter.segment.id' },
    { title: 'attribute not an object', filter: { attribute: 'a' }, field: 'filter.attribute' },
    { title: 'field missing', filter: { attribute: { operator: 'exists' } }, field: 'filter.attribute.field' },
    { title: 'field empty', filter: attr('', 'exists'), field: 'filter.attribute.field' },
    { title: 'field over 150 bytes', filter: attr(ofBytes(151), 'exists'), field: 'filter.attribute.field' },
    { title: 'unknown operator', filter: attr('a', 'like', 'x'), field: 'filter.attribute.operator' },
    { title: 'eq without value', filter: attr('a', 'eq'), field: 'filter.attribute.value' },
    { title: 'eq with null', filter: attr('a', 'eq', null), field: 'filter.attribute.value' },
    { title: 'eq with an object', filter: attr('a', 'eq', { x: 1 }), field: 'filter.attribute.value' },
    { title: 'value over 1000 bytes', filter: attr('a', 'eq', ofBytes(1001)), field: 'filter.attribute.value' },
    { title: 'value with NUL', filter: attr('a', 'eq', 'x\u0000'), field: 'filter.attribute.value' },
    { title: 'field with NUL', filter: attr('a\u0000', 'exists'), field: 'filter.attribute.field' },
    { title: 'in with a string', filter: attr('a', 'in', 'x'), field: 'filter.attribute.value' },
    { title: 'in empty', filter: attr('a', 'in', []), field: 'filter.attribute.value' },
    {
      title: 'in over 1000 values',
      filter: attr(
        'a',
        'in',
        Array.from({ length: 1001 }, (_, i) => i),
      ),
      field: 'filter.attribute.value',
    },
    { title: 'in with an array value', filter: attr('a', 'in', [['x']]), field: 'filter.attribute.value[0]' },
    {
      title: 'unknown attribute key',
      filter: { attribute: { field: 'a', operator: 'exists', x: 1 } },
      field: 'filter.attribute.x',
    },
    {
      title: 'inverse not boolean',
      filter: { attribute: { field: 'a', operator: 'exists', inverse: 1 } },
      field: 'filter.attribute.inverse',
    },
    { title: `nested deeper than ${filterLimits.depth}`, filter: deep(filterLimits.depth), field: expect.any(String) },
    {
      title: `more than ${filterLimits.nodes} conditions`,
      filter: { or: Array.from({ length: filterLimits.nodes }, () => attr('a', 'exists')) },
      field: 'filter',
    },
  ];
  it.each(named(rows, (r) => r.title))('%s', (_t, { filter, field }) => {
    expect(refusalOf(() => parseFilter(filter))).toEqual({ code: 'invalid_filter', field, status: 400 });
  });

  it(`nesting of exactly ${filterLimits.depth} levels is accepted`, () => {
    expect(refusalOf(() => parseFilter(deep(filterLimits.depth - 1)))).toEqual({ code: null });
  });
});

describe('helpers', () => {
  it('segmentIdsOf lists each segment once', () => {
    const f = parseFilter({ or: [{ segment: { id: 2 } }, { not: { segment: { id: 1 } } }, { segment: { id: 2 } }] });
    expect(segmentIdsOf(f)).toEqual([2, 1]);
  });

  it('filterToJson gives back an equivalent filter', () => {
    const raw = { and: [attr('a', 'in', ['x']), { not: attr('b', 'exists') }, { segment: { id: 3 } }] };
    expect(filterToJson(parseFilter(raw))).toEqual(raw);
    expect(parseFilter(filterToJson(parseFilter(raw)))).toEqual(parseFilter(raw));
  });

  const numericRows: [string, boolean][] = [
    ['0', true],
    ['42', true],
    ['-3', true],
    ['4.5', true],
    ['-0.25', true],
    ['', false],
    ['-', false],
    ['4.', false],
    ['.5', false],
    ['1-2', false],
    ['1.2.3', false],
    ['1e3', false],
    [' 1', false],
  ];
  it.each(numericRows)('isNumericText(%j) is %s', (text, expected) => {
    expect(isNumericText(text)).toBe(expected);
  });
});
