import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { RosterError } from '../domain/errors.js';
import { limits } from '../domain/limits.js';
import type { Writer } from '../ingest/writer.js';
import type { Store } from '../store/database.js';
import { exportDownloadRoutes } from './app-api/exports.js';
import { accessControl, defaultRateLimits, type RateLimitSettings } from './access.js';
import { appApiRoutes } from './app-api/routes.js';
import { appAuth, AuthCache, trackAuth } from './auth.js';
import { handleError, sendError, toRosterError, type ErrorShape } from './errors.js';
import { healthRoutes } from './health.js';
import { quietProbes, requestId, safeLogger } from './logging.js';
import { metricsRoutes, type Metrics } from './metrics.js';
import { openApiRoutes } from './openapi.js';
import { segmentRoutes } from './segment/routes.js';
import { trackV1Routes } from './track-v1/routes.js';
import { trackSegmentRoutes } from './track-v1/segments.js';
import { trackV2Routes } from './track-v2/routes.js';
import { readUnreadBodies } from './unread-bodies.js';

export interface ServerDeps {
  store: Store;
  writer: Writer;
  masterKey: Buffer;
  /** Rate limits (default: none, except 20 failed authentications a minute per address). */
  rateLimits?: RateLimitSettings;
  /** Segment API requests per second per workspace; 0 for no limit (overrides rateLimits' Segment number). */
  segmentRateLimit?: number;
  logger?: FastifyServerOptions['logger'];
  /** Called when an export is queued, to run it without waiting for the job runner's next poll. */
  onExportQueued?: () => void;
  /** How long export download links work (default 15 minutes). */
  exportLinkTtlMs?: number;
  /** Fastify's trustProxy: whose X-Forwarded-For to believe for the client address (ROSTER_TRUST_PROXY). */
  trustProxy?: FastifyServerOptions['trustProxy'];
  /** Serves `GET /metrics` and counts requests when given. */
  metrics?: Metrics;
  /** Bearer token `/metrics` requires (ROSTER_METRICS_TOKEN); open when unset. */
  metricsToken?: string;
}

/** The error shape for a request that never reached a route: that of the API its path prefix belongs to. */
function shapeOfUrl(url: string): ErrorShape {
  if (url.startsWith('/api/v2/')) return 'track_v2';
  if (url.startsWith('/api/')) return 'track_v1';
  if (url.startsWith('/v1/')) return 'app';
  return 'plain';
}

/** True when arrays/objects nest deeper than `max`; stops descending at the limit, so it cannot overflow itself. */
function nestedDeeperThan(value: unknown, max: number): boolean {
  if (value === null || typeof value !== 'object') return false;
  if (max === 0) return true;
  for (const child of Object.values(value)) if (nestedDeeperThan(child, max - 1)) return true;
  return false;
}

/** Builds the HTTP server: every public surface, each with its own auth and error shape. */
export function buildServer({
  store,
  writer,
  masterKey,
  rateLimits = defaultRateLimits,
  segmentRateLimit,
  logger = false,
  onExportQueued,
  exportLinkTtlMs,
  trustProxy,
  metrics,
  metricsToken,
}: ServerDeps): FastifyInstance {
  const app = Fastify({
    logger: safeLogger(logger),
    genReqId: requestId,
    ...(trustProxy === undefined ? {} : { trustProxy }),
    routerOptions: { maxParamLength: 1000 },
    bodyLimit: 1024 * 1024,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    // A malformed or over-long path (bad percent-encoding, a parameter over maxParamLength) fails before routing;
    // answer it in the API's own shape, as the bad identifier it is, not with Fastify's default body.
    frameworkErrors: (err, request, reply) =>
      sendError(
        // Before routing, so before the hook that echoes the request id: echo it here too.
        reply.header('x-request-id', request.id),
        shapeOfUrl(request.url),
        err.code === 'FST_ERR_BAD_URL' || err.code === 'FST_ERR_MAX_PARAM_LENGTH'
          ? new RosterError('invalid_identifier', 'The path is not valid: bad percent-encoding or over-long.')
          : toRosterError(err),
      ),
  });

  // JSON (and text/plain, as Segment's beacons send it); an empty body is no body, as clients send on DELETE.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(['application/json', 'text/plain'], { parseAs: 'string' }, (req, body, done) => {
    const text = body as string;
    req.rawBody = text;
    if (text.trim() === '') return done(null, undefined);
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      return done(new RosterError('invalid_json'), undefined);
    }
    // JSON.parse takes any depth, but re-encoding (size checks, storage) recurses and would overflow the stack.
    if (nestedDeeperThan(parsed, limits.jsonDepth))
      return done(
        new RosterError('invalid_body', `The body nests JSON deeper than ${limits.jsonDepth} levels.`),
        undefined,
      );
    done(null, parsed);
  });
  app.addContentTypeParser('*', (_req, _payload, done) => done(new RosterError('unsupported_media_type'), undefined));

  app.setErrorHandler(handleError);
  app.setNotFoundHandler((request, reply) =>
    sendError(reply, shapeOfUrl(request.url), new RosterError('route_not_found')),
  );

  openApiRoutes(app);
  quietProbes(app, logger);
  // The request id (an incoming X-Request-Id, else a new one) goes back to the caller and into every log line.
  app.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id);
    done();
  });
  readUnreadBodies(app);
  if (metrics) metricsRoutes(app, metrics, metricsToken);

  const cache = new AuthCache();
  const surfaceLimits =
    segmentRateLimit === undefined
      ? rateLimits
      : { ...rateLimits, surfaces: { ...rateLimits.surfaces, segment: segmentRateLimit } };
  const access = accessControl(surfaceLimits);
  app.register(async (scope) => healthRoutes(scope, store.reader));
  app.register(async (scope) => {
    scope.addHook('onRequest', trackAuth(store.reader, cache, access.track));
    trackV1Routes(scope, writer);
    trackV2Routes(scope, writer);
    trackSegmentRoutes(scope, store.reader, store.writer);
  });
  app.register(async (scope) => {
    segmentRoutes(scope, { db: store.reader, writer, cache, masterKey, access: access.segment });
  });
  const exportDeps = { writer: store.writer, masterKey, onExportQueued, linkTtlMs: exportLinkTtlMs };
  app.register(async (scope) => {
    scope.addHook('onRequest', appAuth(store.reader, cache, access.app));
    appApiRoutes(scope, store.reader, exportDeps, writer);
  });
  // Signed export downloads: the link is the credential, so no Bearer key.
  app.register(async (scope) => exportDownloadRoutes(scope, store.reader, exportDeps));
  return app;
}
