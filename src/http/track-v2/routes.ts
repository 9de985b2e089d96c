import type { FastifyInstance } from 'fastify';
import { fail, RosterError } from '../../domain/errors.js';
import { bodyAtMost, limits } from '../../domain/limits.js';
import type { Outcome } from '../../ingest/commands.js';
import type { Writer } from '../../ingest/writer.js';
import { conflictMessage } from '../../ingest/rule-c.js';
import { callContext } from '../context.js';
import { sendOutcome } from '../errors.js';
import { parseV2Operation } from './operation.js';

/** A batch item's failure, as v2 answers it in a 207. */
function itemErrors(index: number, outcome: Outcome) {
  if (outcome.status === 'conflict')
    return outcome.conflicts.map((c) => ({
      batch_index: index,
      reason: c.reason,
      field: c.field,
      message: conflictMessage(c),
    }));
  if (outcome.status === 'error')
    return [
      {
        batch_index: index,
        reason: outcome.error.code,
        field: outcome.error.field ?? null,
        message: outcome.error.message,
      },
    ];
  return [];
}

/** Track API v2: `/entity` for one operation, `/batch` for many; a batch applies every valid item. */
export function trackV2Routes(app: FastifyInstance, writer: Writer) {
  const config = { errorShape: 'track_v2' as const };

  app.post('/api/v2/entity', { config, bodyLimit: limits.entityBodyBytes }, async (request, reply) => {
    // bodyLimit already holds the body, and so the operation, to 32 KB.
    const cmd = parseV2Operation(request.body, request.workspace.settings.identifiers, true);
    return sendOutcome(reply, 'track_v2', await writer.submit(callContext(request, 'track_v2'), cmd));
  });

  app.post('/api/v2/batch', { config, bodyLimit: limits.batchBodyBytes }, async (request, reply) => {
    const body = request.body as Record<string, unknown> | undefined;
    if (!body || typeof body !== 'object' || !Array.isArray(body.batch))
      throw fail('invalid_body', 'batch: required, an array of operations.', 'batch');
    const mode = request.workspace.settings.identifiers;
    // An operation is part of the body: in a body of at most 32 KB none can be over 32 KB, so none is measured.
    const fits = bodyAtMost(request.rawBody, limits.entityBodyBytes);
    const outcomes = await Promise.all(
      body.batch.map((item): Promise<Outcome> => {
        try {
          return writer.submit(callContext(request, 'track_v2'), parseV2Operation(item, mode, fits));
        } catch (err) {
          if (err instanceof RosterError) return Promise.resolve({ status: 'error', error: err });
          throw err;
        }
      }),
    );
    const errors = outcomes.flatMap((o, i) => itemErrors(i, o));
    return errors.length === 0 ? reply.code(200).send({}) : reply.code(207).send({ errors });
  });
}
