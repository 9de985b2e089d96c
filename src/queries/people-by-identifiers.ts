import { RosterError } from '../domain/errors.js';
import { normalizeEmail, parseTypedReference } from '../domain/identifiers.js';
import type { IdentifierMode } from '../domain/workspace.js';
import type { Db } from '../store/types.js';

/**
 * The pks of the people a list of identifiers of one `idType` names (Track API segment membership). Values that are
 * not valid identifiers of that type, or name nobody, are left out. In `id_only` workspaces email is an attribute,
 * not an identifier, so an email names everyone with that address.
 */
export async function personPksByIdentifiers(
  db: Db,
  ws: { pk: number; settings: { identifiers: IdentifierMode } },
  idType: 'id' | 'email' | 'cio_id',
  raw: unknown[],
): Promise<number[]> {
  const values: string[] = [];
  for (const value of raw) {
    try {
      const ref = parseTypedReference(idType, typeof value === 'number' ? String(value) : value, 'email_or_id');
      values.push(ref.kind === 'email' ? ref.key : ref.value);
    } catch (err) {
      if (!(err instanceof RosterError)) throw err;
    }
  }
  if (values.length === 0) return [];
  let q = db.selectFrom('people').select('pk').where('workspace_pk', '=', ws.pk);
  if (idType === 'id') q = q.where('id', 'in', values);
  else if (idType === 'cio_id') q = q.where('cio_id', 'in', values);
  else if (ws.settings.identifiers === 'email_or_id') q = q.where('email_key', 'in', values.map(normalizeEmail));
  else q = q.where('email_key', 'is', null).where('email_norm', 'in', values.map(normalizeEmail));
  return (await q.execute()).map((r) => Number(r.pk));
}
