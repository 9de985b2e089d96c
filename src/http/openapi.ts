import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance, RouteOptions } from 'fastify';
import { Type, type TSchema } from 'typebox';
import { errorCatalogue, type ErrorCode } from '../domain/errors.js';

/**
 * The OpenAPI 3.1 document (`GET /openapi.json`, browsable at `GET /docs`). Most routes parse their bodies by hand
 * (their error codes are part of the API), so the schemas here are for the document only: they are merged in by
 * @fastify/swagger's `transform` and never reach Fastify's validator or serializer, which keeps every answer and
 * the hot path exactly as they were.
 */

type Auth = 'track' | 'app' | 'segment' | 'webhook' | 'metrics' | 'none';
type Shape = 'track_v1' | 'track_v1_merge' | 'track_v2' | 'app' | 'segment' | 'plain';

interface RouteDoc {
  summary: string;
  tag: string;
  auth: Auth;
  shape: Shape;
  /** Error codes the route answers with, besides those of its auth and limits. */
  errors?: ErrorCode[];
  body?: TSchema;
  querystring?: TSchema;
  /** The 2xx answers: status → schema (description from `ok`). */
  ok?: Record<number, TSchema>;
  description?: string;
}

const Attributes = Type.Record(Type.String(), Type.Unknown(), { description: 'Attributes; null removes one.' });
const Empty = Type.Object({}, { description: 'Done.' });
const SegmentAccepted = Type.Object({ success: Type.Literal(true) });
const Reference = Type.Object(
  { id: Type.Optional(Type.String()), email: Type.Optional(Type.String()), cio_id: Type.Optional(Type.String()) },
  { description: 'Exactly one of id, email or cio_id.' },
);
const Paged = (key: string) =>
  Type.Object({ [key]: Type.Array(Type.Record(Type.String(), Type.Unknown())), next: Type.String() });
const Page = Type.Object({ limit: Type.Optional(Type.String()), start: Type.Optional(Type.String()) });
const IdType = Type.Optional(Type.Union([Type.Literal('id'), Type.Literal('email'), Type.Literal('cio_id')]));

const Event = Type.Object({
  name: Type.String(),
  type: Type.Optional(Type.Union([Type.Literal('event'), Type.Literal('page'), Type.Literal('screen')])),
  id: Type.Optional(Type.String({ description: 'Deduplicates the event.' })),
  timestamp: Type.Optional(Type.Union([Type.Number(), Type.String()])),
  data: Type.Optional(Attributes),
});
const Identify = Type.Object(
  {
    id: Type.Optional(Type.String()),
    email: Type.Optional(Type.String()),
    anonymous_id: Type.Optional(Type.String()),
    created_at: Type.Optional(Type.Union([Type.Number(), Type.String()])),
    _timestamp: Type.Optional(Type.Union([Type.Number(), Type.String()])),
    _update: Type.Optional(Type.Boolean()),
    unsubscribed: Type.Optional(Type.Unknown()),
    cio_relationships: Type.Optional(Type.Unknown()),
  },
  { additionalProperties: true, description: 'Attributes, plus the identifiers and options named here.' },
);
const V2Operation = Type.Object(
  {
    type: Type.Union([Type.Literal('person'), Type.Literal('object')]),
    action: Type.String(),
    identifiers: Type.Record(Type.String(), Type.String()),
    attributes: Type.Optional(Attributes),
  },
  { additionalProperties: true },
);
const SegmentMessage = Type.Object(
  {
    type: Type.Optional(Type.String()),
    userId: Type.Optional(Type.String()),
    anonymousId: Type.Optional(Type.String()),
    messageId: Type.Optional(Type.String()),
    writeKey: Type.Optional(Type.String({ description: 'The write key, when not sent in Authorization.' })),
  },
  { additionalProperties: true },
);

const v1 = (summary: string, extra: Partial<RouteDoc> = {}): RouteDoc => ({
  summary,
  tag: 'Track API v1',
  auth: 'track',
  shape: 'track_v1',
  ok: { 200: Empty },
  ...extra,
});
const personV1 = (summary: string, extra: Partial<RouteDoc> = {}) =>
  v1(summary, { errors: ['invalid_identifier', 'payload_too_large', 'invalid_json', 'invalid_body'], ...extra });
const segment = (summary: string, body: TSchema = SegmentMessage): RouteDoc => ({
  summary,
  tag: 'Segment',
  auth: 'segment',
  shape: 'segment',
  body,
  errors: ['invalid_body', 'invalid_json', 'payload_too_large'],
  ok: { 200: SegmentAccepted },
});
const app = (summary: string, extra: Partial<RouteDoc> = {}): RouteDoc => ({
  summary,
  tag: 'App API',
  auth: 'app',
  shape: 'app',
  errors: ['invalid_query', 'invalid_identifier'],
  ok: { 200: Type.Record(Type.String(), Type.Unknown()) },
  ...extra,
});
const ops = (summary: string, extra: Partial<RouteDoc> = {}): RouteDoc => ({
  summary,
  tag: 'Operations',
  auth: 'none',
  shape: 'plain',
  ...extra,
});

/** What each route is, keyed `METHOD url` as Fastify names it. */
const routeDocs: Record<string, RouteDoc> = {
  'GET /healthz': ops('Liveness: the process is up', { ok: { 200: Type.Object({ status: Type.String() }) } }),
  'GET /readyz': ops('Readiness: the database answers (503 when it does not)', {
    ok: { 200: Type.Object({ status: Type.String() }) },
    errors: ['unavailable'],
  }),
  'GET /metrics': ops('Prometheus metrics (text format)', { auth: 'metrics' }),
  'GET /openapi.json': ops('This OpenAPI document'),

  'PUT /api/v1/customers/:ref': personV1('Identify: create or update a person', {
    body: Identify,
    errors: [
      'invalid_identifier',
      'invalid_email',
      'reserved_prefix',
      'invalid_attribute',
      'too_many_attributes',
      'invalid_unsubscribed',
      'invalid_timestamp',
      'invalid_relationship',
      'invalid_body',
      'invalid_json',
      'payload_too_large',
      'identifier_in_use',
      'identifier_change_requires_cio_id',
    ],
  }),
  'DELETE /api/v1/customers/:ref': personV1('Delete a person and all their data'),
  'POST /api/v1/customers/:ref/events': personV1('Track an event for a person', {
    body: Event,
    errors: ['invalid_identifier', 'invalid_event', 'invalid_timestamp', 'invalid_body', 'payload_too_large'],
  }),
  'POST /api/v1/events': v1('Track an anonymous event', {
    body: Type.Intersect([Event, Type.Object({ anonymous_id: Type.Optional(Type.String()) })]),
    errors: ['invalid_identifier', 'invalid_event', 'invalid_timestamp', 'invalid_body', 'payload_too_large'],
  }),
  'POST /api/v1/customers/:ref/suppress': personV1('Delete and suppress a person'),
  'POST /api/v1/customers/:ref/unsuppress': personV1('Free a suppressed person’s identifiers'),
  'POST /api/v1/merge_customers': v1('Merge two people', {
    shape: 'track_v1_merge',
    body: Type.Object({ primary: Reference, secondary: Reference }),
    errors: ['invalid_merge', 'invalid_identifier', 'invalid_json', 'person_not_found'],
  }),
  'PUT /api/v1/customers/:ref/devices': personV1('Add or update a device', {
    body: Type.Object({
      device: Type.Object({
        id: Type.String(),
        platform: Type.String(),
        last_used: Type.Optional(Type.Number()),
        attributes: Type.Optional(Attributes),
      }),
    }),
    errors: ['invalid_identifier', 'invalid_device', 'invalid_body', 'payload_too_large'],
  }),
  'DELETE /api/v1/customers/:ref/devices/:token': personV1('Remove a device', {
    errors: ['invalid_identifier', 'invalid_device'],
  }),
  'POST /api/v1/metrics': v1('Report a delivery metric (recorded in the integration log)', {
    body: Type.Object(
      { delivery_id: Type.String(), metric: Type.String(), timestamp: Type.Optional(Type.Number()) },
      { additionalProperties: true },
    ),
    errors: ['invalid_body', 'invalid_json'],
  }),
  'GET /api/v1/accounts/region': v1('The account’s region', {
    ok: { 200: Type.Object({ url: Type.String(), region: Type.String(), environment_id: Type.Number() }) },
  }),
  'GET /auth': v1('Check Track API credentials'),

  'POST /api/v2/entity': {
    summary: 'One operation on a person or an object',
    tag: 'Track API v2',
    auth: 'track',
    shape: 'track_v2',
    body: V2Operation,
    errors: ['invalid_body', 'invalid_action', 'invalid_identifier', 'invalid_attribute', 'payload_too_large'],
    ok: { 200: Empty },
  },
  'POST /api/v2/batch': {
    summary: 'Several operations; every valid one is applied',
    tag: 'Track API v2',
    auth: 'track',
    shape: 'track_v2',
    body: Type.Object({ batch: Type.Array(V2Operation) }),
    errors: ['invalid_body', 'invalid_json', 'payload_too_large'],
    ok: {
      200: Empty,
      207: Type.Object({
        errors: Type.Array(
          Type.Object({
            batch_index: Type.Number(),
            reason: Type.String(),
            field: Type.Union([Type.String(), Type.Null()]),
            message: Type.String(),
          }),
        ),
      }),
    },
  },

  'POST /v1/identify': segment('Segment identify'),
  'POST /v1/track': segment('Segment track'),
  'POST /v1/page': segment('Segment page'),
  'POST /v1/screen': segment('Segment screen'),
  'POST /v1/group': segment('Segment group'),
  'POST /v1/alias': segment('Segment alias'),
  'POST /v1/batch': segment('Segment batch', Type.Object({ batch: Type.Array(SegmentMessage) })),
  'POST /v1/import': segment('Segment batch (alias of /v1/batch)', Type.Object({ batch: Type.Array(SegmentMessage) })),
  'POST /segment/webhook': {
    ...segment('Segment Webhooks destinations: one message or an array', Type.Unknown()),
    auth: 'webhook',
    querystring: Type.Object({ site_id: Type.Optional(Type.String()) }),
  },

  'GET /v1/customers': app('Find people by email', {
    querystring: Type.Object({ email: Type.String() }),
  }),
  'GET /v1/customers/:ref/attributes': app('A person: identifiers, attributes, devices, relationships', {
    querystring: Type.Object({ id_type: IdType }),
    errors: ['invalid_query', 'invalid_identifier', 'person_not_found'],
  }),
  'GET /v1/customers/:ref/activities': app('A person’s activities, newest first', {
    querystring: Type.Object({
      id_type: IdType,
      limit: Type.Optional(Type.String()),
      start: Type.Optional(Type.String()),
      type: Type.Optional(Type.String()),
      name: Type.Optional(Type.String()),
    }),
    ok: { 200: Paged('activities') },
    errors: ['invalid_query', 'invalid_identifier', 'person_not_found'],
  }),
  'GET /v1/customers/:ref/relationships': app('The objects a person is related to', {
    querystring: Type.Intersect([Page, Type.Object({ id_type: IdType })]),
    ok: { 200: Paged('cio_relationships') },
    errors: ['invalid_query', 'invalid_identifier', 'person_not_found'],
  }),
  'GET /v1/objects/:type/:id': app('An object and the people related to it', {
    querystring: Page,
    errors: ['invalid_query', 'invalid_identifier', 'object_not_found'],
  }),
  'GET /v1/objects/:type/:id/relationships': app('The people related to an object', {
    querystring: Page,
    ok: { 200: Paged('cio_relationships') },
    errors: ['invalid_query', 'invalid_identifier', 'object_not_found'],
  }),
  'GET /v1/activities': app('The integration log: calls dropped or refused, and why', {
    querystring: Type.Intersect([Page, Type.Object({ type: Type.Optional(Type.String()) })]),
    ok: { 200: Paged('activities') },
  }),
  'GET /v1/activities/counts': app('Integration-log entries per outcome since a time', {
    querystring: Type.Object({ since: Type.Optional(Type.String()) }),
    ok: { 200: Type.Object({ counts: Type.Record(Type.String(), Type.Number()), since: Type.Number() }) },
  }),
};

/** A route nobody described yet: documented from its path, so it still appears with a summary and its auth. */
function fallbackDoc(method: string, url: string, shape: Shape | undefined): RouteDoc {
  const summary = `${method} ${url}`;
  if (url.startsWith('/api/v2/')) return { summary, tag: 'Track API v2', auth: 'track', shape: 'track_v2' };
  if (url.startsWith('/api/') || url === '/auth') return v1(summary);
  if (shape === 'segment') return segment(summary);
  if (shape === 'app' || url.startsWith('/v1/')) return app(summary);
  return ops(summary);
}

const securityOf: Record<Auth, Record<string, string[]>[] | undefined> = {
  track: [{ trackBasic: [] }],
  app: [{ appBearer: [] }],
  segment: [{ segmentWriteKey: [] }],
  webhook: [{ segmentWriteKey: [] }, { webhookSignature: [] }],
  metrics: [{ metricsBearer: [] }, {}],
  none: undefined,
};

/** The error body of each API shape, as http/errors.ts sends it. */
const errorBodies: Record<Shape, TSchema> = {
  track_v1: Type.Object({ meta: Type.Object({ errors: Type.Array(Type.String()), code: Type.String() }) }),
  track_v1_merge: Type.Object({ meta: Type.Object({ error: Type.String(), code: Type.String() }) }),
  track_v2: Type.Object({
    errors: Type.Array(
      Type.Object({
        reason: Type.String(),
        field: Type.Union([Type.String(), Type.Null()]),
        message: Type.String(),
      }),
    ),
  }),
  app: Type.Object({
    errors: Type.Array(Type.Object({ detail: Type.String(), status: Type.String(), code: Type.String() })),
  }),
  segment: Type.Object({ success: Type.Literal(false), code: Type.String(), message: Type.String() }),
  plain: Type.Object({ error: Type.String(), message: Type.String() }),
};

/** Status → the error codes a route answers with at that status, its auth's and the limits' included. */
function errorResponses(doc: RouteDoc): Record<string, TSchema> {
  const codes = new Set<ErrorCode>(doc.errors ?? []);
  if (doc.auth !== 'none') codes.add('unauthorized');
  if (doc.auth !== 'none' && doc.auth !== 'metrics') {
    codes.add('rate_limited');
    codes.add('unavailable');
  }
  if (doc.body) codes.add('unsupported_media_type');
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of codes) {
    // Segment answers every client error about the request as 400 invalid_request (http/errors.ts).
    let status: number = errorCatalogue[code].status;
    if (doc.shape === 'segment' && (status === 413 || status === 415)) status = 400;
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  const out: Record<string, TSchema> = {};
  for (const [status, list] of [...byStatus].sort((a, b) => a[0] - b[0]))
    out[String(status)] = { ...errorBodies[doc.shape], description: `Error codes: ${list.join(', ')}.` };
  return out;
}

/** Path parameters of a Fastify URL (`/v1/objects/:type/:id`), each a required string. */
function pathParams(url: string): TSchema | undefined {
  const names = [...url.matchAll(/:(\w+)/g)].map((m) => m[1]!);
  if (names.length === 0) return undefined;
  return Type.Object(Object.fromEntries(names.map((n) => [n, Type.String()])));
}

/** The documentation-only schema of a route: what @fastify/swagger's transform returns for it. */
export function documentRoute(method: string, url: string, shape?: Shape): Record<string, unknown> {
  const doc = routeDocs[`${method} ${url}`] ?? fallbackDoc(method, url, shape);
  const response: Record<string, unknown> = {};
  for (const [status, schema] of Object.entries(doc.ok ?? { 200: Type.Unknown() }))
    response[status] = { description: status === '207' ? 'Some operations failed.' : 'Success.', ...schema };
  Object.assign(response, errorResponses(doc));
  const schema: Record<string, unknown> = {
    summary: doc.summary,
    tags: [doc.tag],
    operationId: `${method.toLowerCase()}${url.replace(/[/:{}.]+(\w?)/g, (_m, c: string) => c.toUpperCase())}`,
    response,
  };
  const security = securityOf[doc.auth];
  if (security) schema.security = security;
  const params = pathParams(url);
  if (params) schema.params = params;
  if (doc.querystring) schema.querystring = doc.querystring;
  if (doc.body && method !== 'GET' && method !== 'DELETE') schema.body = doc.body;
  if (doc.description) schema.description = doc.description;
  return schema;
}

/** A route as added, for the document test: every route the app has. */
export interface RouteEntry {
  method: string;
  url: string;
  hidden: boolean;
}

const inventories = new WeakMap<object, RouteEntry[]>();

/** Every route added to the app (including HEAD routes and hidden ones), in the order added. */
export function routesOf(app: FastifyInstance): RouteEntry[] {
  return inventories.get(app) ?? [];
}

/**
 * Registers the OpenAPI document at `GET /openapi.json` and Swagger UI at `GET /docs`. Call before any route is
 * added: @fastify/swagger collects routes as they are added.
 */
export function openApiRoutes(app: FastifyInstance): void {
  const inventory: RouteEntry[] = [];
  inventories.set(app, inventory);
  app.addHook('onRoute', (route: RouteOptions) => {
    for (const method of [route.method].flat())
      inventory.push({ method, url: route.url, hidden: (route.schema as { hide?: boolean })?.hide === true });
  });
  void app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Roster',
        version: '0.1.0',
        description:
          'A self-hosted, Customer.io-compatible people workspace: Track API v1/v2, Segment, App API. ' +
          'Error codes are stable; see docs/api.md.',
      },
      components: {
        securitySchemes: {
          trackBasic: { type: 'http', scheme: 'basic', description: 'site_id:track_api_key' },
          appBearer: { type: 'http', scheme: 'bearer', description: 'The workspace’s app_api_key.' },
          segmentWriteKey: {
            type: 'http',
            scheme: 'basic',
            description: 'base64("<segment_write_key>:"), or writeKey in the body.',
          },
          webhookSignature: {
            type: 'apiKey',
            in: 'header',
            name: 'X-Signature',
            description: 'Hex HMAC-SHA1 of the body with the webhook secret; ?site_id= names the workspace.',
          },
          metricsBearer: { type: 'http', scheme: 'bearer', description: 'ROSTER_METRICS_TOKEN, when set.' },
        },
      },
    },
    transform: ({ schema, url, route }) => {
      if ((schema as { hide?: boolean } | undefined)?.hide) return { schema, url };
      const shape = (route.config as { errorShape?: Shape } | undefined)?.errorShape;
      const method = [route.method].flat()[0]!;
      return { schema: { ...documentRoute(method, route.url, shape), ...(schema ?? {}) }, url };
    },
  });
  void app.register(swaggerUi, { routePrefix: '/docs', uiConfig: { deepLinking: true } });
  void app.register(async (scope) => {
    scope.get('/openapi.json', async () => scope.swagger());
  });
}
