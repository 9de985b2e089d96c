import type { FastifyInstance } from 'fastify';
import { fail } from '../../domain/errors.js';
import { parseLimit } from './query.js';
import { parseCallTimestamp } from '../../domain/timestamps.js';
import { workspaceActivities } from '../../queries/integration-log.js';
import { integrationLogStore } from '../../store/integration-log.js';
import type { Db } from '../../store/types.js';

const dayMs = 86_400_000;

/** A query parameter given once, as a string (a repeated one arrives as an array). */
function single(raw: unknown, name: string): string | undefined {
  if (raw === undefined || typeof raw === 'string') return raw;
  throw fail('invalid_query', `${name}: give it once.`, name);
}

function parseType(raw: string | undefined): string | undefined {
  if (raw === undefined || raw === '') return undefined;
  if (raw.length > 100) throw fail('invalid_query', 'type: an outcome code such as identifier_in_use.', 'type');
  return raw;
}

/** Unix ms from `since` (unix seconds, ms or ISO-8601); the last 24 hours when left out. */
function parseSince(raw: string | undefined, now: number): number {
  if (raw === undefined || raw === '') return now - dayMs;
  try {
    return parseCallTimestamp(raw, 'since')!;
  } catch {
    throw fail('invalid_query', 'since: unix seconds or an ISO-8601 date.', 'since');
  }
}

/**
 * App API: the workspace's integration log (calls dropped or refused, and why), as Customer.io's workspace activity
 * feed, and counts per outcome for the web app.
 */
export function workspaceActivityRoutes(app: FastifyInstance, db: Db) {
  const config = { errorShape: 'app' as const };

  app.get<{ Querystring: { type?: unknown; start?: unknown; limit?: unknown } }>(
    '/v1/activities',
    { config },
    async (request) => {
      const q = request.query;
      return workspaceActivities(db, request.workspace.pk, {
        limit: parseLimit(single(q.limit, 'limit'), 100, 50),
        start: single(q.start, 'start') || undefined,
        type: parseType(single(q.type, 'type')),
      });
    },
  );

  app.get<{ Querystring: { since?: unknown } }>('/v1/activities/counts', { config }, async (request) => {
    const since = parseSince(single(request.query.since, 'since'), Date.now());
    const counts = await integrationLogStore.countsByOutcome(db, request.workspace.pk, since);
    return { counts, since: Math.floor(since / 1000) };
  });
}
