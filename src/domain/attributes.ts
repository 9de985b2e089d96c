import { fail } from './errors.js';
import { byteLength, limits } from './limits.js';

/** An attribute value as stored: JSON scalars, objects and arrays. */
export type AttributeValue = string | number | boolean | AttributeValue[] | { [key: string]: AttributeValue };
export type Attributes = Record<string, AttributeValue>;
/** Per-attribute time of the call that last set or removed it, unix milliseconds. */
export type AttributeTimestamps = Record<string, number>;
/** What a call asks for: a value to set, or null to remove. */
export type AttributeChanges = Record<string, AttributeValue | null>;

const forbiddenNames = new Set(['__proto__', 'constructor', 'prototype']);

/** Checks one attribute name and value against the limits; `null`/`""` mean removal. */
export function parseAttribute(name: string, raw: unknown): AttributeValue | null {
  if (name.length === 0 || byteLength(name) > limits.attributeNameBytes)
    throw fail('invalid_attribute', `${name.slice(0, 40)}: names are 1 to ${limits.attributeNameBytes} bytes.`, name);
  if (forbiddenNames.has(name)) throw fail('invalid_attribute', `${name}: this attribute name is not allowed.`, name);
  if (raw === null || raw === '' || raw === undefined) return null;
  const t = typeof raw;
  if (t !== 'string' && t !== 'number' && t !== 'boolean' && t !== 'object')
    throw fail('invalid_attribute', `${name}: unsupported value type.`, name);
  if (t === 'number' && !Number.isFinite(raw)) throw fail('invalid_attribute', `${name}: not a finite number.`, name);
  if (encodedBytesOver(raw, limits.attributeValueBytes))
    throw fail('invalid_attribute', `${name}: value over ${limits.attributeValueBytes} bytes.`, name);
  if (t === 'object' && hasForbiddenKey(raw))
    throw fail('invalid_attribute', `${name}: contains a forbidden key.`, name);
  return raw as AttributeValue;
}

/**
 * Whether the value's JSON is over `max` bytes. Most values need no encoding to tell: a finite number or a boolean
 * is at most 25 bytes, and a string's JSON at most 6 bytes per UTF-16 unit plus its quotes (`\u001f`), so a short
 * string is measured as it is. Encoding every value was about 2% of a batch of identifies.
 */
export function encodedBytesOver(raw: unknown, max: number): boolean {
  if ((typeof raw === 'number' || typeof raw === 'boolean') && max >= 25) return false;
  if (typeof raw === 'string' && raw.length * 6 + 2 <= max) return false;
  return byteLength(JSON.stringify(raw)) > max;
}

function hasForbiddenKey(value: unknown): boolean {
  if (Array.isArray(value)) return value.some(hasForbiddenKey);
  if (value === null || typeof value !== 'object') return false;
  return Object.keys(value).some(
    (k) => forbiddenNames.has(k) || hasForbiddenKey((value as Record<string, unknown>)[k]),
  );
}

/** Result of merging a call's changes into a person's attributes. */
export interface MergedAttributes {
  attributes: Attributes;
  timestamps: AttributeTimestamps;
  changed: string[];
}

/**
 * Shallow merge: keys in the call replace those keys, null removes, other keys stay. A change older than the
 * stored time for its key is skipped, so retried or reordered deliveries converge.
 */
export function mergeAttributes(
  current: Attributes,
  currentTs: AttributeTimestamps,
  changes: AttributeChanges,
  callTs: number,
): MergedAttributes {
  const attributes: Attributes = { ...current };
  const timestamps: AttributeTimestamps = { ...currentTs };
  const changed: string[] = [];
  for (const [key, value] of Object.entries(changes)) {
    // Own keys only: a name like `toString` or `valueOf` is an ordinary attribute, not an Object.prototype member.
    const stored = Object.hasOwn(timestamps, key) ? timestamps[key] : undefined;
    if (stored !== undefined && stored > callTs) continue;
    timestamps[key] = callTs;
    if (value === null) {
      if (Object.hasOwn(attributes, key)) {
        delete attributes[key];
        changed.push(key);
      }
    } else if (!Object.hasOwn(attributes, key) || !sameValue(attributes[key]!, value)) {
      attributes[key] = value;
      changed.push(key);
    }
  }
  if (Object.keys(attributes).length > limits.attributesPerPerson)
    throw fail('too_many_attributes', `A person may have at most ${limits.attributesPerPerson} attributes.`);
  return { attributes, timestamps, changed };
}

/** Whether two stored values are the same JSON: scalars compared as they are, objects and arrays by encoding. */
const sameValue = (a: AttributeValue, b: AttributeValue): boolean =>
  typeof a !== 'object' || typeof b !== 'object' ? a === b : JSON.stringify(a) === JSON.stringify(b);

/** Parses the `unsubscribed` attribute strictly: anything but the listed truthy/falsy forms is refused. */
export function parseUnsubscribed(raw: unknown): boolean | null {
  if (raw === null || raw === '') return null;
  if (raw === true || raw === 1) return true;
  if (raw === false || raw === 0) return false;
  if (typeof raw === 'string') {
    const v = raw.trim().toLowerCase();
    if (v === 'true' || v === '1') return true;
    if (v === 'false' || v === '0') return false;
  }
  throw fail('invalid_unsubscribed', undefined, 'unsubscribed');
}
