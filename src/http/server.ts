import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { RosterError } from '../domain/errors.js';
import { limits } from '../domain/limits.js';
import type { Writer } from '../ingest/writer.js';
import type { Store } from '../store/database.js';
import { appApiRoutes } from './app-api/routes.js';
import { appAuth, AuthCache, trackAuth } from './auth.js';
import { handleError, sendError, toRosterError, type ErrorShape } from './errors.js';
import { healthRoutes } from './health.js';
import { RateLimiter } from './rate-limit.js';
import { segmentRoutes } from './segment/routes.js';
import { trackV1Routes } from './track-v1/routes.js';
import { trackV2Routes } from './track-v2/routes.js';

export interface ServerDeps {
  store: Store;
  writer: Writer;
  masterKey: Buffer;
  /** Segment API requests per second per workspace; 0 for no limit. */
  segmentRateLimit?: number;
  logger?: FastifyServerOptions['logger'];
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
  segmentRateLimit = 0,
  logger = false,
}: ServerDeps): FastifyInstance {
  const app = Fastify({
    logger,
    routerOptions: { maxParamLength: 1000 },
    bodyLimit: 1024 * 1024,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    // A malformed or over-long path (bad percent-encoding, a parameter over maxParamLength) fails before routing;
    // answer it in the API's own shape, as the bad identifier it is, not with Fastify's default body.
    frameworkErrors: (err, request, reply) =>
      sendError(
        reply,
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

  const cache = new AuthCache();
  healthRoutes(app, store.reader);
  app.register(async (scope) => {
    scope.addHook('onRequest', trackAuth(store.reader, cache));
    trackV1Routes(scope, writer);
    trackV2Routes(scope, writer);
  });
  app.register(async (scope) => {
    const limiter = new RateLimiter(segmentRateLimit);
    segmentRoutes(scope, { db: store.reader, writer, cache, masterKey, limiter });
  });
  app.register(async (scope) => {
    scope.addHook('onRequest', appAuth(store.reader, cache));
    appApiRoutes(scope, store.reader, writer);
  });
  return app;
}
