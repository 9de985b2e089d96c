import { stringify } from 'csv-stringify';
import type { FastifyInstance } from 'fastify';
import { parseDedupeAction, parseDedupeKey, parseKeepRule, planDedupe } from '../../domain/dedupe.js';
import { fail, RosterError } from '../../domain/errors.js';
import { planCsvColumns, planCsvRecord, resolveDuplicates } from '../../ingest/bulk.js';
import type { Writer } from '../../ingest/writer.js';
import { findDuplicateGroups, listDuplicates } from '../../queries/duplicates.js';
import type { Db } from '../../store/types.js';
import { callContext } from '../context.js';
import { parseLimit } from './query.js';

/** True when the Accept header prefers CSV over JSON (only `text/csv` is looked for; JSON is the default). */
const wantsCsv = (accept: string | undefined) => accept !== undefined && /(^|,)\s*text\/csv\b/i.test(accept);

/** The same parsers read the query of GET and the body of POST: a refusal of a body field is `invalid_body`. */
function inBody<T>(parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    if (err instanceof RosterError && err.code === 'invalid_query') throw fail('invalid_body', err.message, err.field);
    throw err;
  }
}

/** (Roster) Duplicate people: list the groups sharing a value, and resolve them by merge or delete. */
export function duplicateRoutes(app: FastifyInstance, db: Db, writer: Writer) {
  const config = { errorShape: 'app' as const };

  app.get<{ Querystring: { by?: string; limit?: string; start?: string } }>(
    '/v1/duplicates',
    { config },
    async (request) => {
      const q = request.query;
      const key = parseDedupeKey(q.by ?? 'email');
      const listed = await listDuplicates(db, request.workspace.pk, key, {
        limit: parseLimit(q.limit, 1000, 100),
        start: q.start,
      });
      return { by: q.by ?? 'email', ...listed };
    },
  );

  app.post('/v1/duplicates/resolve', { config }, async (request, reply) => {
    const body = request.body;
    if (body === null || typeof body !== 'object' || Array.isArray(body))
      throw fail('invalid_body', 'The body must be {by, keep, action, dry_run}.');
    const b = body as Record<string, unknown>;
    const key = inBody(() => parseDedupeKey(b.by ?? 'email'));
    const keep = inBody(() => parseKeepRule(b.keep));
    const action = inBody(() => parseDedupeAction(b.action));
    if (b.dry_run !== undefined && typeof b.dry_run !== 'boolean')
      throw fail('invalid_body', 'dry_run: must be a boolean.', 'dry_run');
    const dryRun = b.dry_run === true;
    const groups = await findDuplicateGroups(db, request.workspace.pk, key);
    const plans = planDedupe(groups, keep);
    const rows = await resolveDuplicates(writer, callContext(request, 'app_api'), plans, action, dryRun);
    // The plan as CSV, one record per person, for whoever asks for it (the seed's procedure works on CSV files).
    if (wantsCsv(request.headers.accept))
      return reply
        .type('text/csv; charset=utf-8')
        .send(stringify(rows.map(planCsvRecord), { header: true, columns: [...planCsvColumns] }));
    const count = (s: string) => rows.filter((r) => r.status === s).length;
    return {
      by: b.by ?? 'email',
      keep,
      action,
      dry_run: dryRun,
      groups: plans.length,
      kept: plans.length,
      dropped: dryRun ? count('planned') : count(action === 'merge' ? 'merged' : 'deleted'),
      not_found: count('not_found'),
      failed: count('failed'),
      plan: rows,
    };
  });
}
