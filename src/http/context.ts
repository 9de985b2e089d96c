import type { FastifyRequest } from 'fastify';
import type { CallContext } from '../ingest/commands.js';

/** The call context of an authenticated request. */
export const callContext = (
  request: FastifyRequest,
  surface: CallContext['surface'],
  messageId?: string,
): CallContext => ({
  ws: request.workspace,
  surface,
  messageId,
  receivedAt: Date.now(),
});
