import type { FastifyInstance, FastifyRequest, FastifyServerOptions } from 'fastify';
import type { IncomingMessage } from 'node:http';
import { randomBytes } from 'node:crypto';

/**
 * Log paths whose values are credentials. Nothing Roster logs holds them today (the request serializer below logs
 * no headers and no body); this keeps it so when someone logs a request, its headers or a credentials object.
 */
export const redactedPaths = [
  'req.headers.authorization',
  'req.headers["x-signature"]',
  'req.headers.cookie',
  'headers.authorization',
  'headers["x-signature"]',
  'headers.cookie',
  'authorization',
  'writeKey',
  '*.writeKey',
  'track_api_key',
  'app_api_key',
  'segment_write_key',
  'webhook_secret',
  '*.track_api_key',
  '*.app_api_key',
  '*.segment_write_key',
  '*.webhook_secret',
];

// Query parameters that carry credentials or signatures; their values are replaced when a URL is logged at debug.
const secretParams = /([?&](?:sig|signature|token|key|writekey|write_key|api_key|secret)=)[^&]*/gi;

const verboseLevels = new Set(['debug', 'trace']);

/**
 * A request as logged. At info and above only the route pattern (`/api/v1/customers/:ref`), never the URL: its
 * path names people (an id or email) and its query may carry one. At debug the URL is logged, signatures removed.
 */
function requestSerializer(verbose: boolean) {
  return (request: FastifyRequest) => ({
    method: request.method,
    route: request.routeOptions?.url ?? null,
    ...(verbose && typeof request.url === 'string' ? { url: request.url.replace(secretParams, '$1[redacted]') } : {}),
    remoteAddress: request.ip,
  });
}

/** An error as logged: what went wrong, without driver fields that quote row values (PostgreSQL's `detail`). */
function errorSerializer(err: Error & { code?: unknown; statusCode?: unknown }) {
  return { type: err.name, message: err.message, code: err.code, statusCode: err.statusCode, stack: err.stack ?? '' };
}

/**
 * Fastify logger options that keep credentials and personal data out of the logs (docs/operations.md, Logs).
 * `false` stays false; a logger instance is left alone.
 */
export function safeLogger(logger: FastifyServerOptions['logger']): FastifyServerOptions['logger'] {
  if (!logger) return false;
  const options = logger === true ? {} : logger;
  const level = typeof options.level === 'string' ? options.level : 'info';
  return {
    ...options,
    level,
    redact: { paths: redactedPaths, censor: '[redacted]' },
    serializers: { req: requestSerializer(verboseLevels.has(level)), err: errorSerializer, ...options.serializers },
  };
}

// A random prefix per process and a counter: unique across processes, and cheaper than a UUID per request.
const processPrefix = randomBytes(4).toString('hex');
let sequence = 0;

/** Honours a sane incoming `X-Request-Id` (printable, at most 128 characters); otherwise makes one. */
export function requestId(raw: IncomingMessage): string {
  const given = raw.headers['x-request-id'];
  if (typeof given === 'string' && given.length > 0 && given.length <= 128 && /^[\x21-\x7e]+$/.test(given))
    return given;
  sequence = (sequence + 1) & 0x7fffffff;
  return `${processPrefix}-${sequence.toString(36)}`;
}

/** Probes and scrapes, whose request lines would drown the log at info: logged from warn up (at debug, always). */
const quietRoutes = new Set(['/healthz', '/readyz', '/metrics']);

/** Keeps health checks and metric scrapes out of the log unless the level is debug or trace. */
export function quietProbes(app: FastifyInstance, logger: FastifyServerOptions['logger']): void {
  const level = logger && logger !== true && typeof logger.level === 'string' ? logger.level : 'info';
  if (verboseLevels.has(level)) return;
  app.addHook('onRoute', (route) => {
    if (quietRoutes.has(route.url)) route.logLevel = 'warn';
  });
}
