import type { FastifyInstance } from 'fastify';
import { fail, RosterError } from '../../domain/errors.js';
import type { IdentifierMode } from '../../domain/workspace.js';
import { parseSegmentId } from '../app-api/segments.js';
import { personPksByIdentifiers } from '../../queries/people-by-identifiers.js';
import { segmentsStore } from '../../store/segments.js';
import type { Db } from '../../store/types.js';

/** Most ids one add_customers / remove_customers call takes (reference §1.10). */
export const segmentIdsMax = 1000;

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Track API v1: adding people to and removing them from a manual segment (Basic site_id:api_key). */
export function trackSegmentRoutes(app: FastifyInstance, reader: Db, writer: Db) {
  const config = { errorShape: 'track_v1' as const };
  const handle =
    (action: 'add' | 'remove') =>
    async (request: {
      workspace: { pk: number; settings: { identifiers: IdentifierMode } };
      params: { id: string };
      query: { id_type?: string };
      body: unknown;
    }) => {
      const ws = request.workspace;
      const segment = await segmentsStore.byPk(reader, ws.pk, parseSegmentId(request.params.id));
      if (!segment) throw new RosterError('segment_not_found');
      if (segment.type !== 'manual')
        throw new RosterError('segment_not_manual', 'This segment is data-driven: its filter decides who is in it.');
      const ids = isObject(request.body) ? request.body.ids : undefined;
      if (!Array.isArray(ids) || ids.length === 0 || ids.length > segmentIdsMax)
        throw fail('invalid_body', `ids: an array of 1 to ${segmentIdsMax} identifiers.`, 'ids');
      const idType = request.query.id_type ?? 'id';
      if (idType !== 'id' && idType !== 'email' && idType !== 'cio_id')
        throw fail('invalid_identifier', `id_type: "${idType}" is not one of id, email, cio_id.`, 'id_type');
      const pks = await personPksByIdentifiers(reader, ws, idType, ids);
      if (action === 'add') await segmentsStore.addMembers(writer, ws.pk, segment.pk, pks);
      else await segmentsStore.removeMembers(writer, ws.pk, segment.pk, pks);
      return {};
    };
  app.post<{ Params: { id: string }; Querystring: { id_type?: string } }>(
    '/api/v1/segments/:id/add_customers',
    { config },
    handle('add'),
  );
  app.post<{ Params: { id: string }; Querystring: { id_type?: string } }>(
    '/api/v1/segments/:id/remove_customers',
    { config },
    handle('remove'),
  );
}
