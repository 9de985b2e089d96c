import type { FastifyInstance } from 'fastify';
import { RosterError, fail } from '../../domain/errors.js';
import { parseTypedReference, type Reference } from '../../domain/identifiers.js';
import { deletePeople, type DeleteStatus } from '../../ingest/bulk.js';
import type { Writer } from '../../ingest/writer.js';
import { callContext } from '../context.js';

const maxIdentifiers = 1000;

/** (Roster) `POST /v1/customers/delete`: up to 1,000 people deleted at once, each answered on its own. */
export function bulkDeleteRoutes(app: FastifyInstance, writer: Writer) {
  app.post('/v1/customers/delete', { config: { errorShape: 'app' } }, async (request) => {
    const list = (request.body as { identifiers?: unknown } | undefined)?.identifiers;
    if (!Array.isArray(list) || list.length === 0 || list.length > maxIdentifiers)
      throw fail('invalid_body', `identifiers: required, an array of 1 to ${maxIdentifiers} objects.`, 'identifiers');
    const mode = request.workspace.settings.identifiers;
    // Each identifier stands alone: a bad one is answered as failed, the others are still deleted.
    const parsed = list.map((raw): Reference | RosterError => {
      try {
        if (raw === null || typeof raw !== 'object' || Array.isArray(raw) || Object.keys(raw).length !== 1)
          throw fail('invalid_identifier', 'Each identifier is an object with one of id, email or cio_id.');
        const [type, value] = Object.entries(raw as Record<string, unknown>)[0]!;
        return parseTypedReference(type, value, mode);
      } catch (err) {
        if (err instanceof RosterError) return err;
        throw err;
      }
    });
    const refs = parsed.filter((p): p is Reference => !(p instanceof RosterError));
    const done = await deletePeople(writer, callContext(request, 'app_api'), refs);
    let next = 0;
    const results = parsed.map((p, i) => {
      const identifier = list[i] as unknown;
      if (p instanceof RosterError) return { identifier, status: 'failed', code: p.code, message: p.message };
      return { identifier, ...done[next++]! };
    });
    const count = (s: DeleteStatus) => results.filter((r) => r.status === s).length;
    return { deleted: count('deleted'), not_found: count('not_found'), failed: count('failed'), results };
  });
}
