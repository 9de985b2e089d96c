import { fail } from './errors.js';
import { normalizeEmail, type Reference } from './identifiers.js';

// eslint-disable-next-line no-control-regex
export const controlChars = /[\u0000-\u001f\u007f]/;

/** A suppression list entry named by type (`id` or `email`) and value, as the reference unsuppress takes. */
export function suppressionReference(type: string, value: string): Reference {
  if (type !== 'id' && type !== 'email')
    throw fail('invalid_identifier', `"${type}" is not a suppression type; use id or email.`, 'type');
  if (value.trim() === '') throw fail('invalid_identifier', 'The value is empty.', type);
  // No identifier holds control characters (identifiers.ts refuses them), and PostgreSQL refuses a NUL in text.
  if (controlChars.test(value)) throw fail('invalid_identifier', 'The value contains control characters.', type);
  if (type === 'id') return { kind: 'id', value };
  return { kind: 'email', value, key: normalizeEmail(value) };
}
