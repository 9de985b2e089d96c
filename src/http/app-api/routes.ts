import type { FastifyInstance } from 'fastify';
import { fail, RosterError } from '../../domain/errors.js';
import { isValidEmail, normalizeEmail, parseTypedReference } from '../../domain/identifiers.js';
import type { WorkspaceRecord } from '../../store/workspaces.js';
import { parseLimit } from './query.js';
import { customerSearchRoutes } from './customers-search.js';
import { exportRoutes, type ExportDeps } from './exports.js';
import { segmentRoutes } from './segments.js';
import { personActivities } from '../../queries/activity-feed.js';
import { workspaceActivityRoutes } from './activities.js';
import { customerView } from '../../queries/customer-view.js';
import {
  findObject,
  objectRelationships,
  objectView,
  personRelationships,
  personRelationshipsForView,
} from '../../queries/object-view.js';
import { parseObjectId, parseObjectTypeId } from '../../domain/objects.js';
import { devicesStore } from '../../store/devices.js';
import { peopleStore } from '../../store/people.js';
import type { Db } from '../../store/types.js';
import type { Writer } from '../../ingest/writer.js';
import { bulkDeleteRoutes } from './bulk-delete.js';
import { duplicateRoutes } from './duplicates.js';
import { suppressionRoutes } from './suppressions.js';

interface RefParams {
  ref: string;
}
interface IdTypeQuery {
  id_type?: string;
}
interface ObjectParams {
  type: string;
  id: string;
}
interface PageParams {
  start?: string;
  limit?: string;
}

async function findPerson(db: Db, ws: WorkspaceRecord, rawRef: string, idType = 'id') {
  const ref = parseTypedReference(idType, rawRef, ws.settings.identifiers);
  const person = await peopleStore.findByRef(db, ws.pk, ref);
  if (!person) throw new RosterError('person_not_found', 'The customer_id does not exist.');
  return person;
}

/** App API (Bearer app key): reading people back, in Customer.io's shapes. Reads never wait behind writes. */
export function appApiRoutes(app: FastifyInstance, db: Db, deps: ExportDeps, writer: Writer) {
  const config = { errorShape: 'app' as const };
  workspaceActivityRoutes(app, db);
  customerSearchRoutes(app, db);
  segmentRoutes(app, db, deps.writer);
  exportRoutes(app, db, deps);
  bulkDeleteRoutes(app, writer);
  duplicateRoutes(app, db, writer);
  suppressionRoutes(app, db, writer);

  app.get<{ Querystring: { email?: string } }>('/v1/customers', { config }, async (request) => {
    const email = request.query.email;
    if (typeof email !== 'string' || email.trim() === '') throw fail('invalid_query', 'email: required.', 'email');
    if (!isValidEmail(email)) return { results: [] };
    const people = await peopleStore.identifiersByEmail(db, request.workspace.pk, normalizeEmail(email));
    return { results: people.map((p) => ({ email: p.email, id: p.id, cio_id: p.cio_id })) };
  });

  app.get<{ Params: RefParams; Querystring: IdTypeQuery }>(
    '/v1/customers/:ref/attributes',
    { config },
    async (request) => {
      const person = await findPerson(db, request.workspace, request.params.ref, request.query.id_type);
      const devices = await devicesStore.listForPerson(db, request.workspace.pk, person.pk);
      const relationships = await personRelationshipsForView(db, person);
      return { customer: customerView(person, devices, relationships) };
    },
  );

  app.get<{
    Params: RefParams;
    Querystring: IdTypeQuery & { start?: string; limit?: string; type?: string; name?: string };
  }>('/v1/customers/:ref/activities', { config }, async (request) => {
    const q = request.query;
    const person = await findPerson(db, request.workspace, request.params.ref, q.id_type);
    return personActivities(db, person, {
      limit: parseLimit(q.limit, 100, 50),
      start: q.start,
      type: q.type,
      name: q.name,
    });
  });

  app.get<{ Params: RefParams; Querystring: IdTypeQuery & { start?: string; limit?: string } }>(
    '/v1/customers/:ref/relationships',
    { config },
    async (request) => {
      const q = request.query;
      const person = await findPerson(db, request.workspace, request.params.ref, q.id_type);
      return personRelationships(db, person, { limit: parseLimit(q.limit, 1000, 100), start: q.start });
    },
  );

  const object = async (request: { workspace: WorkspaceRecord; params: ObjectParams }) => {
    const ref = { typeId: parseObjectTypeId(request.params.type), objectId: parseObjectId(request.params.id) };
    const found = await findObject(db, request.workspace.pk, ref);
    if (!found) throw new RosterError('object_not_found', `No object ${ref.typeId}/${ref.objectId}.`);
    return found;
  };

  app.get<{ Params: ObjectParams; Querystring: PageParams }>('/v1/objects/:type/:id', { config }, async (request) =>
    objectView(db, await object(request), {
      limit: parseLimit(request.query.limit, 1000, 100),
      start: request.query.start,
    }),
  );

  app.get<{ Params: ObjectParams; Querystring: PageParams }>(
    '/v1/objects/:type/:id/relationships',
    { config },
    async (request) =>
      objectRelationships(db, await object(request), {
        limit: parseLimit(request.query.limit, 1000, 100),
        start: request.query.start,
      }),
  );
}
