import { fail } from '../domain/errors.js';
import { integrationLogStore, type IntegrationLogRow } from '../store/integration-log.js';
import type { Db } from '../store/types.js';

const cursorPrefix = 'il:';

/** The opaque `next`/`start` cursor of the workspace feed: the pk of the last entry given out. */
export const encodeLogCursor = (pk: number): string => Buffer.from(`${cursorPrefix}${pk}`).toString('base64url');

export function decodeLogCursor(raw: string): number {
  const text = Buffer.from(raw, 'base64url').toString('utf8');
  const pk = Number(text.slice(cursorPrefix.length));
  if (!text.startsWith(cursorPrefix) || !Number.isSafeInteger(pk) || pk < 1)
    throw fail('invalid_query', 'start: not a cursor this API gave out.', 'start');
  return pk;
}

/** An integration-log row in Customer.io's workspace activity shape. */
export function logEntryView(r: IntegrationLogRow) {
  return {
    id: `il_${r.pk}`,
    timestamp: Math.floor(Number(r.ts) / 1000),
    type: r.outcome,
    // The log keeps the reference the call named (an id, an email, a cio_… or an anonymous id), not a person.
    customer_id: r.reference,
    data: {
      surface: r.surface,
      message_id: r.message_id,
      reference: r.reference,
      outcome: r.outcome,
      reason: r.reason,
    },
  };
}

/** The workspace's integration log as an activity feed: newest first, optionally one outcome, paged by pk. */
export async function workspaceActivities(
  db: Db,
  workspacePk: number,
  q: { limit: number; start?: string; type?: string },
) {
  const beforePk = q.start ? decodeLogCursor(q.start) : undefined;
  const rows = await integrationLogStore.newestFirst(db, workspacePk, {
    beforePk,
    outcome: q.type,
    limit: q.limit + 1,
  });
  const page = rows.slice(0, q.limit);
  const next = rows.length > q.limit ? encodeLogCursor(page[page.length - 1]!.pk) : '';
  return { activities: page.map(logEntryView), next };
}
