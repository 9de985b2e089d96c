import type { FastifyInstance, FastifyReply } from 'fastify';
import { fail } from '../../domain/errors.js';
import { controlChars, suppressionReference } from '../../domain/suppression.js';
import type { Writer } from '../../ingest/writer.js';
import { suppressionsStore, type SuppressionKey } from '../../store/suppressions.js';
import type { Db } from '../../store/types.js';
import { callContext } from '../context.js';
import { sendOutcome } from '../errors.js';
import { parseLimit } from './query.js';

const encodeCursor = (k: SuppressionKey) => Buffer.from(JSON.stringify([k.kind, k.value])).toString('base64url');

function decodeCursor(raw: string): SuppressionKey {
  try {
    const [kind, value] = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as unknown[];
    if ((kind === 'id' || kind === 'email') && typeof value === 'string' && !controlChars.test(value))
      return { kind, value };
  } catch {
    // not ours: refused below
  }
  throw fail('invalid_query', 'start: not a cursor this API gave out.', 'start');
}

/** (Roster) The suppression list: page through it, and unsuppress an identifier. */
export function suppressionRoutes(app: FastifyInstance, db: Db, writer: Writer) {
  const config = { errorShape: 'app' as const };

  app.get<{ Querystring: { limit?: string; start?: string } }>('/v1/suppressions', { config }, async (request) => {
    const limit = parseLimit(request.query.limit, 1000, 100);
    const after = request.query.start ? decodeCursor(request.query.start) : undefined;
    const rows = await suppressionsStore.list(db, request.workspace.pk, { after, limit: limit + 1 });
    const page = rows.slice(0, limit);
    return {
      suppressions: page.map((r) => ({ type: r.kind, value: r.value, suppressed_at: Math.floor(r.createdAt / 1000) })),
      next: rows.length > limit ? encodeCursor(page.at(-1)!) : '',
    };
  });

  app.delete<{ Params: { type: string; value: string } }>(
    '/v1/suppressions/:type/:value',
    { config },
    async (request, reply: FastifyReply) => {
      const ref = suppressionReference(request.params.type, request.params.value);
      const outcome = await writer.submit(callContext(request, 'app_api'), {
        kind: 'unsuppress',
        ref,
        reportMissing: true,
      });
      return sendOutcome(reply, 'app', outcome);
    },
  );
}
