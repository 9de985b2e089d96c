import { fail, shown } from './errors.js';
import { byteLength, limits } from './limits.js';
import type { IdentifierMode } from './workspace.js';

/** Which person a call names: by Roster's cio_id, the sender's id, or (in email_or_id workspaces) an email. */
export type Reference =
  { kind: 'cio_id'; value: string } | { kind: 'id'; value: string } | { kind: 'email'; value: string; key: string };

const junkValues = new Set(['null', 'undefined', '[object object]', 'nan']);
// Control characters (C0, DEL, C1) never belong in an identifier or address.
// eslint-disable-next-line no-control-regex
const controlChars = /[\u0000-\u001f\u007f-\u009f]/;
const cioIdShape = /^[a-zA-Z0-9]+$/;
// Pragmatic address syntax: one @, no spaces or brackets, a dotted domain with no empty labels.
const emailShape = /^[^\s@<>()[\]\\,;:"]+@[^\s@<>()[\]\\,;:"]+\.[^\s@<>()[\]\\,;:".]+$/;

/** The key an email is matched by: trimmed, then the whole address lowercased. */
export const normalizeEmail = (email: string): string => email.trim().toLowerCase();

/** True when the string is a syntactically valid email address within the length limit. */
export function isValidEmail(value: string): boolean {
  const v = value.trim();
  if (v.length === 0 || byteLength(v) > limits.emailBytes || controlChars.test(v)) return false;
  if (!emailShape.test(v)) return false;
  const domain = v.slice(v.lastIndexOf('@') + 1);
  return !domain.split('.').some((label) => label.length === 0);
}

/** Turns a sender's id (string or number) into its stored string form, or throws invalid_identifier. */
export function toIdString(raw: unknown, field = 'id'): string {
  let value: string;
  if (typeof raw === 'string') value = raw;
  else if (typeof raw === 'number' && Number.isFinite(raw)) value = String(raw);
  else throw fail('invalid_identifier', `${field}: must be a string or a number.`, field);
  if (value.trim().length === 0 || junkValues.has(value.toLowerCase()))
    throw fail('invalid_identifier', `${field}: "${value}" is not a usable identifier.`, field);
  if (byteLength(value) > limits.identifierBytes)
    throw fail('invalid_identifier', `${field}: must be at most ${limits.identifierBytes} bytes.`, field);
  if (controlChars.test(value)) throw fail('invalid_identifier', `${field}: contains control characters.`, field);
  return value;
}

/** Validates a body `id`: an id reference's rules, plus the reserved cio_ prefix. */
export function parseBodyId(raw: unknown): string {
  const id = toIdString(raw, 'id');
  if (id.startsWith('cio_'))
    throw fail('reserved_prefix', 'id: values beginning with cio_ are reserved for cio_id references.', 'id');
  return id;
}

/** Validates a body `email` (both workspace modes) and returns it trimmed, as given otherwise. */
export function parseBodyEmail(raw: unknown): string {
  if (typeof raw !== 'string' || !isValidEmail(raw))
    throw fail('invalid_email', `email: "${shown(raw)}" is not a valid email address.`, 'email');
  return raw.trim();
}

/** Reads a path or single-key reference by its shape (identity.md, "Reading a reference"). */
export function parseReference(raw: unknown, mode: IdentifierMode): Reference {
  if (typeof raw === 'string' && raw.startsWith('cio_')) {
    const value = raw.slice(4);
    if (!cioIdShape.test(value) || value.length > 64)
      throw fail('invalid_identifier', `"${raw}" is not a valid cio_id reference.`, 'cio_id');
    return { kind: 'cio_id', value };
  }
  if (mode === 'email_or_id' && typeof raw === 'string' && raw.includes('@') && isValidEmail(raw)) {
    const value = raw.trim();
    return { kind: 'email', value, key: normalizeEmail(value) };
  }
  return { kind: 'id', value: toIdString(raw, 'identifier') };
}

/** Reads an explicitly typed identifier, as in v2 `identifiers` or merge `primary`/`secondary` objects. */
export function parseTypedReference(type: string, raw: unknown, mode: IdentifierMode): Reference {
  switch (type) {
    case 'cio_id': {
      const value = typeof raw === 'string' && raw.startsWith('cio_') ? raw.slice(4) : raw;
      if (typeof value !== 'string' || !cioIdShape.test(value) || value.length > 64)
        throw fail('invalid_identifier', `cio_id: "${shown(raw)}" is not a valid cio_id.`, 'cio_id');
      return { kind: 'cio_id', value };
    }
    case 'email': {
      if (mode === 'id_only')
        throw fail('invalid_identifier', 'email is not an identifier in this workspace; use id or cio_id.', 'email');
      const value = parseBodyEmail(raw);
      return { kind: 'email', value, key: normalizeEmail(value) };
    }
    case 'id':
      return { kind: 'id', value: parseBodyId(raw) };
    default:
      throw fail('invalid_identifier', `"${type}" is not an identifier type; use id, email or cio_id.`, type);
  }
}

/** Human-readable form of a reference, for logs. */
export const describeReference = (ref: Reference): string => (ref.kind === 'cio_id' ? `cio_${ref.value}` : ref.value);
