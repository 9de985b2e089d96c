import { sql } from 'kysely';
import { fail } from '../domain/errors.js';
import type { PersonRecord } from '../store/people.js';
import type { Db } from '../store/types.js';

/** Position in a newest-first feed that interleaves two tables: (ts, source, pk), all descending. */
interface Cursor {
  ts: number;
  src: number;
  pk: number;
}

const EVENTS = 0;
const ACTIVITIES = 1;
const eventTypes = new Set(['event', 'page', 'screen']);

export const encodeCursor = (c: Cursor): string =>
  Buffer.from(JSON.stringify([c.ts, c.src, c.pk])).toString('base64url');

export function decodeCursor(raw: string): Cursor {
  try {
    const [ts, src, pk] = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as unknown[];
    if ([ts, src, pk].every((n) => typeof n === 'number' && Number.isInteger(n))) return { ts, src, pk } as Cursor;
  } catch {
    // fall through to the 400 below
  }
  throw fail('invalid_query', 'start: not a cursor this API gave out.', 'start');
}

interface FeedItem {
  cursor: Cursor;
  view: Record<string, unknown>;
}

export interface ActivityQuery {
  limit: number;
  start?: string;
  type?: string;
  name?: string;
}

/** A person's activity, newest first: profile changes and events interleaved, cursor-paginated. */
export async function personActivities(db: Db, person: PersonRecord, q: ActivityQuery) {
  const after = q.start ? decodeCursor(q.start) : null;
  const identifiers = { id: person.id, email: person.email, cio_id: person.cioId };
  const base = { customer_id: person.id, customer_identifiers: identifiers, delivery_id: null, delivery_type: null };
  const items: FeedItem[] = [];

  for (const src of [EVENTS, ACTIVITIES]) {
    if (q.type !== undefined && eventTypes.has(q.type) !== (src === EVENTS)) continue;
    let query = db
      .selectFrom(src === EVENTS ? 'events' : 'activities')
      .select(['pk', 'type', 'name', 'data', 'ts'])
      .where('workspace_pk', '=', person.workspacePk)
      .where('person_pk', '=', person.pk);
    if (q.type) query = query.where('type', '=', q.type);
    if (q.name) query = query.where('name', '=', q.name);
    if (after) query = query.where(keyBefore(src, after));
    const rows = await query
      .orderBy('ts', 'desc')
      .orderBy('pk', 'desc')
      .limit(q.limit + 1)
      .execute();
    for (const r of rows)
      items.push({
        cursor: { ts: Number(r.ts), src, pk: r.pk },
        view: {
          id: `${src === EVENTS ? 'e' : 'a'}${r.pk}`,
          timestamp: Math.floor(Number(r.ts) / 1000),
          type: r.type,
          name: r.name,
          ...base,
          data: JSON.parse(r.data) as object,
        },
      });
  }
  items.sort((a, b) => b.cursor.ts - a.cursor.ts || b.cursor.src - a.cursor.src || b.cursor.pk - a.cursor.pk);
  const page = items.slice(0, q.limit);
  const next = items.length > q.limit ? encodeCursor(page[page.length - 1]!.cursor) : '';
  return { activities: page.map((i) => i.view), next };
}

// Rows of one source table that come after the cursor in the feed's (ts, src, pk) descending order.
function keyBefore(src: number, c: Cursor) {
  if (src < c.src) return sql<boolean>`ts <= ${c.ts}`;
  if (src > c.src) return sql<boolean>`ts < ${c.ts}`;
  return sql<boolean>`(ts < ${c.ts} or (ts = ${c.ts} and pk < ${c.pk}))`;
}
