import { fail } from './errors.js';
import { parseIdentifyPayload, type IdentifyPayload } from './identify-payload.js';
import { parseTypedReference, type Reference } from './identifiers.js';
import type { IdentifierMode } from './workspace.js';

/** One CSV row: header → cell. */
export type CsvRow = Record<string, string>;

const identifierColumns = ['cio_id', 'id', 'email'] as const;

/** The cells that hold something: an empty cell means "not given" (it never removes an attribute). */
function filled(row: CsvRow): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(row)) if (typeof v === 'string' && v.trim() !== '') out[k] = v;
  return out;
}

/**
 * The person a row names: its `cio_id`, else its `id`, else (email_or_id workspaces) its `email`, in that order.
 * In id_only workspaces email is an attribute, so a row with only an email names no one.
 */
export function referenceFromRow(row: CsvRow, mode: IdentifierMode): Reference {
  const cells = filled(row);
  if (cells.cio_id !== undefined) return parseTypedReference('cio_id', cells.cio_id, mode);
  if (cells.id !== undefined) return parseTypedReference('id', cells.id, mode);
  if (cells.email !== undefined) {
    if (mode === 'id_only')
      throw fail(
        'no_identifier',
        'This workspace finds people by id or cio_id only; the row has only an email.',
        'email',
      );
    return parseTypedReference('email', cells.email, mode);
  }
  throw fail('no_identifier', 'The row has no id, email or cio_id.');
}

/**
 * A row as an identify call: the reference as above; `id` and `email` cells not used as the reference are body
 * identifiers (so a cio_id row can change them, an id row can set the email); every other filled cell an attribute.
 */
export function identifyFromRow(row: CsvRow, mode: IdentifierMode): { ref: Reference; payload: IdentifyPayload } {
  const ref = referenceFromRow(row, mode);
  const body: Record<string, unknown> = filled(row);
  delete body.cio_id;
  if (ref.kind === 'id') delete body.id;
  if (ref.kind === 'email') delete body.email;
  return { ref, payload: parseIdentifyPayload(body, mode) };
}

/** True when the header names at least one identifier column. */
export const hasIdentifierColumn = (header: readonly string[]): boolean =>
  identifierColumns.some((c) => header.includes(c));
