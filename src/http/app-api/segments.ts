import type { FastifyInstance } from 'fastify';
import { fail, RosterError } from '../../domain/errors.js';
import { filterToJson } from '../../domain/filters.js';
import { prepareFilter } from '../../queries/people-filter.js';
import { decodePkCursor, pageOf } from '../../queries/pk-cursor.js';
import { segmentCount, segmentMembership, segmentView } from '../../queries/segment-view.js';
import { segmentsStore } from '../../store/segments.js';
import type { Db } from '../../store/types.js';
import { parseLimit } from './query.js';

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** A segment id from the path: anything but a whole number names no segment. */
export function parseSegmentId(raw: string): number {
  const n = /^[0-9]{1,15}$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(n) || n < 1) throw new RosterError('segment_not_found');
  return n;
}

function text(raw: unknown, field: string, max: number, required: boolean): string {
  if (raw === undefined || raw === null) {
    if (required) throw fail('invalid_body', `${field}: required.`, field);
    return '';
  }
  if (typeof raw !== 'string' || (required && raw.trim() === '') || raw.length > max)
    throw fail('invalid_body', `${field}: a string of ${required ? 1 : 0} to ${max} characters.`, field);
  return raw;
}

/** App API segments: manual ones, and data-driven ones defined by an audience filter (Roster). */
export function segmentRoutes(app: FastifyInstance, reader: Db, writer: Db) {
  const config = { errorShape: 'app' as const };
  const segmentOf = async (request: { workspace: { pk: number }; params: { id: string } }) => {
    const s = await segmentsStore.byPk(reader, request.workspace.pk, parseSegmentId(request.params.id));
    if (!s) throw new RosterError('segment_not_found');
    return s;
  };

  app.get<{ Querystring: { start?: string; limit?: string } }>('/v1/segments', { config }, async (request) => {
    const afterPk = decodePkCursor('segments', request.query.start);
    const limit = parseLimit(request.query.limit, 1000, 100);
    const rows = await segmentsStore.page(reader, request.workspace.pk, afterPk, limit + 1);
    const { rows: segments, next } = pageOf('segments', rows, limit, (s) => s.pk);
    return { segments: segments.map(segmentView), next };
  });

  app.post('/v1/segments', { config }, async (request) => {
    const body = request.body;
    const input = isObject(body) ? body.segment : undefined;
    if (!isObject(input)) throw fail('invalid_body', 'segment: required, an object {name, description?}.', 'segment');
    const name = text(input.name, 'segment.name', 255, true);
    const description = text(input.description, 'segment.description', 1000, false);
    let filter: unknown = null;
    if (input.filter !== undefined && input.filter !== null) {
      const { node } = await prepareFilter(reader, request.workspace.pk, input.filter, 'segment.filter');
      filter = filterToJson(node);
    }
    const segment = await segmentsStore.create(writer, request.workspace.pk, { name, description, filter });
    return { segment: segmentView(segment) };
  });

  app.get<{ Params: { id: string } }>('/v1/segments/:id', { config }, async (request) => ({
    segment: segmentView(await segmentOf(request)),
  }));

  app.delete<{ Params: { id: string } }>('/v1/segments/:id', { config }, async (request, reply) => {
    const deleted = await segmentsStore.delete(writer, request.workspace.pk, parseSegmentId(request.params.id));
    if (!deleted) throw new RosterError('segment_not_found');
    return reply.code(204).send();
  });

  app.get<{ Params: { id: string } }>('/v1/segments/:id/customer_count', { config }, async (request) => ({
    count: await segmentCount(reader, await segmentOf(request)),
  }));

  app.get<{ Params: { id: string }; Querystring: { start?: string; limit?: string } }>(
    '/v1/segments/:id/membership',
    { config },
    async (request) => {
      const segment = await segmentOf(request);
      const afterPk = decodePkCursor('membership', request.query.start);
      const limit = parseLimit(request.query.limit, 30_000, 1000);
      return segmentMembership(reader, segment, { afterPk, limit });
    },
  );
}
