import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { RosterError } from '../domain/errors.js';
import type { Writer } from '../ingest/writer.js';
import type { Store } from '../store/database.js';
import { appApiRoutes } from './app-api/routes.js';
import { appAuth, AuthCache, trackAuth } from './auth.js';
import { handleError, sendError } from './errors.js';
import { healthRoutes } from './health.js';
import { trackV1Routes } from './track-v1/routes.js';
import { trackV2Routes } from './track-v2/routes.js';

export interface ServerDeps {
  store: Store;
  writer: Writer;
  logger?: FastifyServerOptions['logger'];
}

/** Builds the HTTP server: every public surface, each with its own auth and error shape. */
export function buildServer({ store, writer, logger = false }: ServerDeps): FastifyInstance {
  const app = Fastify({
    logger,
    routerOptions: { maxParamLength: 1000 },
    bodyLimit: 1024 * 1024,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
  });

  // JSON (and text/plain, as Segment's beacons send it); an empty body is no body, as clients send on DELETE.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(['application/json', 'text/plain'], { parseAs: 'string' }, (_req, body, done) => {
    const text = body as string;
    if (text.trim() === '') return done(null, undefined);
    try {
      done(null, JSON.parse(text));
    } catch {
      done(new RosterError('invalid_json'), undefined);
    }
  });
  app.addContentTypeParser('*', (_req, _payload, done) => done(new RosterError('unsupported_media_type'), undefined));

  app.setErrorHandler(handleError);
  app.setNotFoundHandler((request, reply) =>
    sendError(reply, request.url.startsWith('/api/') ? 'track_v1' : 'plain', new RosterError('route_not_found')),
  );

  const cache = new AuthCache();
  healthRoutes(app, store.reader);
  app.register(async (scope) => {
    scope.addHook('onRequest', trackAuth(store.reader, cache));
    trackV1Routes(scope, writer);
    trackV2Routes(scope, writer);
  });
  app.register(async (scope) => {
    scope.addHook('onRequest', appAuth(store.reader, cache));
    appApiRoutes(scope, store.reader);
  });
  return app;
}
