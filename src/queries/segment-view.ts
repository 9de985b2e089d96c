import { parseFilter, type FilterNode } from '../domain/filters.js';
import { toPersonRecord, type PersonRecord } from '../store/people.js';
import { segmentsStore, type SegmentRecord } from '../store/segments.js';
import type { Db } from '../store/types.js';
import { countMatching, filterContext, peopleMatching, personMatches } from './people-filter.js';
import { pageOf } from './pk-cursor.js';

const seconds = (ms: number) => Math.floor(ms / 1000);

/** The App API segment object (reference/customerio-api.md §4.3); data-driven segments also show their `filter`. */
export function segmentView(s: SegmentRecord) {
  return {
    id: s.pk,
    deduplicate_id: `${s.pk}:${seconds(s.createdAt)}`,
    name: s.name,
    description: s.description,
    // Membership is computed when asked, so a segment is always ready.
    state: 'finished',
    progress: null,
    type: s.type,
    tags: null,
    created_at: seconds(s.createdAt),
    updated_at: seconds(s.updatedAt),
    ...(s.type === 'dynamic' ? { filter: s.filter } : {}),
  };
}

/** A person's identifiers as lists of people show them. */
export const identifiersView = (p: { id: string | null; email: string | null; cioId: string }) => ({
  email: p.email,
  id: p.id,
  cio_id: p.cioId,
});

/** The filter that selects a segment's members, whatever its type. */
const membersOf = (s: SegmentRecord): FilterNode => ({ kind: 'segment', id: s.pk });

/** One page of people a filter matches: `{identifiers, ids, next}` (ids: "" for people without an id). */
export async function peoplePage(
  db: Db,
  workspacePk: number,
  node: FilterNode,
  page: { afterPk: number; limit: number; list: string },
) {
  const ctx = await filterContext(db, workspacePk, node, false);
  const rows = await peopleMatching(db, node, ctx, { afterPk: page.afterPk, limit: page.limit + 1 });
  const { rows: people, next } = pageOf(page.list, rows.map(toPersonRecord), page.limit, (p) => p.pk);
  return {
    identifiers: people.map(identifiersView),
    ids: people.map((p) => p.id ?? ''),
    next,
  };
}

/** A segment's members, a page at a time. */
export const segmentMembership = (db: Db, s: SegmentRecord, page: { afterPk: number; limit: number }) =>
  peoplePage(db, s.workspacePk, membersOf(s), { ...page, list: 'membership' });

/** How many people are in a segment now. */
export async function segmentCount(db: Db, s: SegmentRecord): Promise<number> {
  const node = membersOf(s);
  return countMatching(db, node, await filterContext(db, s.workspacePk, node, false));
}

/** The segments a person is in: manual memberships, and every data-driven segment whose filter they match. */
export async function segmentsOfPerson(db: Db, person: PersonRecord): Promise<SegmentRecord[]> {
  const manual = await segmentsStore.manualSegmentsOf(db, person.workspacePk, person.pk);
  const matched: SegmentRecord[] = [];
  for (const s of await segmentsStore.dynamicSegments(db, person.workspacePk)) {
    const node = parseFilter(s.filter);
    if (await personMatches(db, person.pk, node, await filterContext(db, s.workspacePk, node, false))) matched.push(s);
  }
  return [...manual, ...matched].sort((a, b) => a.pk - b.pk);
}
