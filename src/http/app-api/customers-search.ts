import type { FastifyInstance } from 'fastify';
import { fail, RosterError } from '../../domain/errors.js';
import { parseTypedReference } from '../../domain/identifiers.js';
import { prepareFilter } from '../../queries/people-filter.js';
import { customerView } from '../../queries/customer-view.js';
import { personRelationshipsForView } from '../../queries/object-view.js';
import { decodePkCursor } from '../../queries/pk-cursor.js';
import { peoplePage, segmentsOfPerson, segmentView } from '../../queries/segment-view.js';
import { devicesStore } from '../../store/devices.js';
import { peopleStore } from '../../store/people.js';
import type { Db } from '../../store/types.js';
import { parseLimit } from './query.js';

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Most ids one `POST /v1/customers/attributes` reads (reference §4.1). */
export const attributesBatchMax = 100;

/** App API: searching people with an audience filter, reading many by id, and a person's segments. */
export function customerSearchRoutes(app: FastifyInstance, db: Db) {
  const config = { errorShape: 'app' as const };

  app.post<{ Querystring: { start?: string; limit?: string } }>('/v1/customers', { config }, async (request) => {
    const body = request.body;
    if (!isObject(body) || body.filter === undefined) throw fail('invalid_filter', 'filter: required.', 'filter');
    const ws = request.workspace;
    const afterPk = decodePkCursor('customers', request.query.start);
    const limit = parseLimit(request.query.limit, 1000, 50);
    const { node } = await prepareFilter(db, ws.pk, body.filter);
    return peoplePage(db, ws.pk, node, { afterPk, limit, list: 'customers' });
  });

  app.post<{ Querystring: { id_type?: string } }>('/v1/customers/attributes', { config }, async (request) => {
    const body = request.body;
    const ids = isObject(body) ? body.ids : undefined;
    if (!Array.isArray(ids) || ids.length === 0 || ids.length > attributesBatchMax)
      throw fail('invalid_body', `ids: an array of 1 to ${attributesBatchMax} identifiers.`, 'ids');
    const ws = request.workspace;
    const idType = request.query.id_type ?? 'id';
    const refs = ids.map((raw) =>
      parseTypedReference(idType, typeof raw === 'number' ? String(raw) : raw, ws.settings.identifiers),
    );
    const customers = [];
    const seen = new Set<number>();
    for (const ref of refs) {
      const person = await peopleStore.findByRef(db, ws.pk, ref);
      if (!person || seen.has(person.pk)) continue;
      seen.add(person.pk);
      const devices = await devicesStore.listForPerson(db, ws.pk, person.pk);
      const relationships = await personRelationshipsForView(db, person);
      customers.push({ customer: customerView(person, devices, relationships) });
    }
    return { customers };
  });

  app.get<{ Params: { ref: string }; Querystring: { id_type?: string } }>(
    '/v1/customers/:ref/segments',
    { config },
    async (request) => {
      const ws = request.workspace;
      const ref = parseTypedReference(request.query.id_type ?? 'id', request.params.ref, ws.settings.identifiers);
      const person = await peopleStore.findByRef(db, ws.pk, ref);
      if (!person) throw new RosterError('person_not_found', 'The customer_id does not exist.');
      return { segments: (await segmentsOfPerson(db, person)).map(segmentView) };
    },
  );
}
