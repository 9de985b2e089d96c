import { fail } from './errors.js';
import { byteLength, limits } from './limits.js';

/**
 * The audience filter grammar (reference/customerio-api.md §4.2): one of `and`, `or`, `not`, `segment`, `attribute`
 * per object. Customer.io documents `eq` and `exists`; Roster adds `neq`, `gt`, `gte`, `lt`, `lte`, `contains`,
 * `starts_with` and `in`. `inverse: true` on an attribute leaf (Customer.io's newsletter schema) negates it.
 */
export type FilterNode =
  | { kind: 'and' | 'or'; children: FilterNode[] }
  | { kind: 'not'; child: FilterNode }
  | { kind: 'segment'; id: number }
  | AttributeCondition;

export type AttributeOperator =
  'eq' | 'neq' | 'exists' | 'gt' | 'gte' | 'lt' | 'lte' | 'contains' | 'starts_with' | 'in';

export type AttributeCondition =
  | { kind: 'attribute'; field: string; operator: 'exists' }
  | { kind: 'attribute'; field: string; operator: 'in'; value: string[] }
  | { kind: 'attribute'; field: string; operator: Exclude<AttributeOperator, 'exists' | 'in'>; value: string };

export const attributeOperators: readonly AttributeOperator[] = [
  'eq',
  'neq',
  'exists',
  'gt',
  'gte',
  'lt',
  'lte',
  'contains',
  'starts_with',
  'in',
];

/** Fields that are a person's own columns rather than attributes (Customer.io treats them as attributes too). */
export const specialFields = ['id', 'email', 'cio_id', 'created_at', 'updated_at', 'unsubscribed'] as const;
export type SpecialField = (typeof specialFields)[number];
export const isSpecialField = (field: string): field is SpecialField =>
  (specialFields as readonly string[]).includes(field);

/** Limits of one filter: a filter is a request body, so it is bounded like one. */
export const filterLimits = {
  depth: 10,
  nodes: 200,
  inValues: 1000,
  valueBytes: limits.attributeValueBytes,
  fieldBytes: limits.attributeNameBytes,
} as const;

const numeric = /^-?[0-9]+(\.[0-9]+)?$/;
/** True when a filter value compares as a number (`gt`, `lt`, …): an optional minus, digits, an optional fraction. */
export const isNumericText = (value: string): boolean => numeric.test(value);

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

function invalid(path: string, message: string): never {
  throw fail('invalid_filter', `${path}: ${message}`, path);
}

function scalarText(raw: unknown, path: string): string {
  if (typeof raw === 'string') {
    if (byteLength(raw) > filterLimits.valueBytes) invalid(path, `over ${filterLimits.valueBytes} bytes.`);
    // PostgreSQL text cannot hold NUL, and no stored value contains it.
    if (raw.includes('\u0000')) invalid(path, 'contains a NUL character.');
    return raw;
  }
  if (typeof raw === 'number' && Number.isFinite(raw)) return String(raw);
  if (typeof raw === 'boolean') return String(raw);
  return invalid(path, 'a string, a number or a boolean.');
}

function parseAttribute(raw: unknown, path: string): FilterNode {
  if (!isObject(raw)) invalid(path, 'an object {field, operator, value}.');
  for (const key of Object.keys(raw))
    if (!['field', 'operator', 'value', 'inverse'].includes(key)) invalid(`${path}.${key}`, 'unknown key.');
  const { field, operator, value, inverse } = raw;
  if (typeof field !== 'string' || field === '' || byteLength(field) > filterLimits.fieldBytes)
    invalid(`${path}.field`, `a name of 1 to ${filterLimits.fieldBytes} bytes.`);
  if (field.includes('\u0000')) invalid(`${path}.field`, 'contains a NUL character.');
  if (typeof operator !== 'string' || !(attributeOperators as readonly string[]).includes(operator))
    invalid(`${path}.operator`, `one of ${attributeOperators.join(', ')}.`);
  if (inverse !== undefined && typeof inverse !== 'boolean') invalid(`${path}.inverse`, 'true or false.');
  let node: AttributeCondition;
  if (operator === 'exists') {
    node = { kind: 'attribute', field, operator };
  } else if (operator === 'in') {
    if (!Array.isArray(value) || value.length === 0 || value.length > filterLimits.inValues)
      invalid(`${path}.value`, `an array of 1 to ${filterLimits.inValues} values.`);
    node = { kind: 'attribute', field, operator, value: value.map((v, i) => scalarText(v, `${path}.value[${i}]`)) };
  } else {
    if (value === undefined || value === null) invalid(`${path}.value`, `required for ${operator}.`);
    node = { kind: 'attribute', field, operator: operator as 'eq', value: scalarText(value, `${path}.value`) };
  }
  return inverse === true ? { kind: 'not', child: node } : node;
}

/**
 * Parses and validates an audience filter; throws RosterError `invalid_filter` (400) naming the path at fault.
 * Pure: segment ids are checked for shape only (whether they exist is the caller's question).
 */
export function parseFilter(raw: unknown, path = 'filter'): FilterNode {
  let nodes = 0;
  const walk = (value: unknown, at: string, depth: number): FilterNode => {
    if (++nodes > filterLimits.nodes) invalid(path, `more than ${filterLimits.nodes} conditions.`);
    if (depth > filterLimits.depth) invalid(at, `nested deeper than ${filterLimits.depth} levels.`);
    if (!isObject(value)) invalid(at, 'an object with one of and, or, not, segment, attribute.');
    const keys = Object.keys(value);
    if (keys.length !== 1) invalid(at, 'exactly one of and, or, not, segment, attribute.');
    const key = keys[0]!;
    const inner = value[key];
    switch (key) {
      case 'and':
      case 'or':
        if (!Array.isArray(inner)) invalid(`${at}.${key}`, 'an array of filters.');
        return { kind: key, children: inner.map((c, i) => walk(c, `${at}.${key}[${i}]`, depth + 1)) };
      case 'not':
        return { kind: 'not', child: walk(inner, `${at}.not`, depth + 1) };
      case 'segment': {
        const id = isObject(inner) ? inner.id : undefined;
        const n = typeof id === 'string' && /^[0-9]{1,15}$/.test(id) ? Number(id) : id;
        if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 1)
          invalid(`${at}.segment.id`, 'a segment id (a whole number from 1).');
        return { kind: 'segment', id: n };
      }
      case 'attribute':
        return parseAttribute(inner, `${at}.attribute`);
      default:
        return invalid(`${at}.${key}`, 'unknown key; use and, or, not, segment or attribute.');
    }
  };
  return walk(raw, path, 1);
}

/** Every segment id a filter names, once each, in order of first mention. */
export function segmentIdsOf(node: FilterNode): number[] {
  const ids = new Set<number>();
  const walk = (n: FilterNode): void => {
    if (n.kind === 'segment') ids.add(n.id);
    else if (n.kind === 'not') walk(n.child);
    else if (n.kind === 'and' || n.kind === 'or') n.children.forEach(walk);
  };
  walk(node);
  return [...ids];
}

/** The filter back in its JSON form (as stored with a segment or an export). */
export function filterToJson(node: FilterNode): unknown {
  switch (node.kind) {
    case 'and':
    case 'or':
      return { [node.kind]: node.children.map(filterToJson) };
    case 'not':
      return { not: filterToJson(node.child) };
    case 'segment':
      return { segment: { id: node.id } };
    case 'attribute':
      return node.operator === 'exists'
        ? { attribute: { field: node.field, operator: node.operator } }
        : { attribute: { field: node.field, operator: node.operator, value: node.value } };
  }
}
