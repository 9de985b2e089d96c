import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { RosterError, type ErrorCode } from '../domain/errors.js';
import type { Conflict } from '../domain/identify.js';
import type { Outcome } from '../ingest/commands.js';
import { conflictMessage } from '../ingest/rule-c.js';
import { RateLimitedError } from './rate-limit.js';

/** Which API's error shape a route answers with. */
export type ErrorShape = 'track_v1' | 'track_v1_merge' | 'track_v2' | 'app' | 'segment' | 'plain';

declare module 'fastify' {
  interface FastifyContextConfig {
    errorShape?: ErrorShape;
  }
}

/** The body of an error in the route's API shape (reference/customerio-api.md §0). */
export function errorBody(
  shape: ErrorShape,
  code: ErrorCode,
  messages: string[],
  field?: string,
  conflicts?: Conflict[],
) {
  switch (shape) {
    case 'track_v1':
      return { meta: { errors: messages, code } };
    case 'track_v1_merge':
      return { meta: { error: messages.join(' '), code } };
    case 'track_v2':
      return conflicts
        ? { errors: conflicts.map((c) => ({ reason: c.reason, field: c.field, message: conflictMessage(c) })) }
        : { errors: messages.map((message) => ({ reason: code, field: field ?? null, message })) };
    case 'app':
      return { errors: messages.map((detail) => ({ detail, status: String(statusOf(code)), code })) };
    case 'segment':
      return { success: false, code: segmentCode(code), message: messages.join(' ') };
    case 'plain':
      return { error: code, message: messages.join(' ') };
  }
}

const statusOf = (code: ErrorCode) => new RosterError(code).status;

// Segment's HTTP API answers every client error about the request itself as 400 `invalid_request`.
const segmentCode = (code: ErrorCode): string =>
  code === 'unauthorized' || code === 'rate_limited' || statusOf(code) >= 500 ? code : 'invalid_request';

/** Sends a RosterError in the route's shape. Segment's API says 400 for an oversized body, not 413. */
export function sendError(reply: FastifyReply, shape: ErrorShape, err: RosterError) {
  const status = shape === 'segment' && (err.status === 413 || err.status === 415) ? 400 : err.status;
  if (err.code === 'rate_limited')
    reply.header('retry-after', err instanceof RateLimitedError ? String(err.retryAfter) : '1');
  return reply.code(status).send(errorBody(shape, err.code, [err.message], err.field));
}

/** Answers a committed command: 200 `{}`, 409 for rule C, or the error's status. */
export function sendOutcome(reply: FastifyReply, shape: ErrorShape, outcome: Outcome) {
  switch (outcome.status) {
    case 'ok':
    case 'dropped':
      return reply.code(200).send({});
    case 'conflict': {
      const first = outcome.conflicts[0]!;
      const messages = outcome.conflicts.map(conflictMessage);
      return reply.code(409).send(errorBody(shape, first.reason, messages, first.field, outcome.conflicts));
    }
    case 'error':
      return sendError(reply, shape, outcome.error);
  }
}

/** Maps Fastify's own failures (bad JSON, body too large, schema validation) to Roster codes. */
export function toRosterError(err: FastifyError | Error): RosterError {
  if (err instanceof RosterError) return err;
  const e = err as FastifyError;
  switch (e.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new RosterError('payload_too_large');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new RosterError('unsupported_media_type');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new RosterError('invalid_body', e.message);
    case 'FST_ERR_VALIDATION':
      return new RosterError(e.validationContext === 'body' ? 'invalid_body' : 'invalid_query', e.message);
  }
  if (e instanceof SyntaxError || e.statusCode === 400) return new RosterError('invalid_json');
  if (e.statusCode === 413) return new RosterError('payload_too_large');
  if (e.statusCode === 415) return new RosterError('unsupported_media_type');
  return new RosterError('internal');
}

/** Fastify error handler: every error leaves in its route's shape; only genuine faults are 5xx and logged. */
export function handleError(err: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  const rosterError = toRosterError(err);
  if (rosterError.status >= 500) request.log.error({ err }, 'request failed');
  return sendError(reply, request.routeOptions.config.errorShape ?? 'plain', rosterError);
}
