import type { DedupeKey, DuplicateGroup } from '../domain/dedupe.js';
import { fail } from '../domain/errors.js';
import { duplicatesStore } from '../store/duplicates.js';
import type { Db } from '../store/types.js';

/** Every duplicate group of the workspace (or one page of them), with each person's event count. */
export async function findDuplicateGroups(
  db: Db,
  workspacePk: number,
  key: DedupeKey,
  page: { after?: string; limit?: number } = {},
): Promise<DuplicateGroup[]> {
  const found = await duplicatesStore.groups(db, workspacePk, key, page);
  const people = await duplicatesStore.members(
    db,
    workspacePk,
    found.flatMap((g) => g.pks),
  );
  const events = await duplicatesStore.eventCounts(
    db,
    workspacePk,
    people.map((p) => p.pk),
  );
  const byPk = new Map(people.map((p) => [p.pk, p]));
  const groups: DuplicateGroup[] = [];
  for (const g of found) {
    const members = g.pks
      .map((pk) => byPk.get(pk))
      .filter((p) => p !== undefined)
      .sort((a, b) => a.pk - b.pk);
    // A person deleted between the two reads leaves a group of one: no longer a duplicate.
    if (members.length < 2) continue;
    groups.push({
      value: g.value,
      people: members.map((r) => ({
        pk: r.pk,
        cioId: r.cio_id,
        id: r.id,
        email: r.email,
        createdAt: r.created_at_s,
        events: events.get(r.pk) ?? 0,
      })),
    });
  }
  return groups;
}

const encodeCursor = (value: string) => Buffer.from(`dup:${value}`).toString('base64url');
function decodeCursor(raw: string): string {
  const text = Buffer.from(raw, 'base64url').toString('utf8');
  // A NUL cannot be compared on PostgreSQL, and no stored value holds one.
  if (!text.startsWith('dup:') || text.includes('\u0000'))
    throw fail('invalid_query', 'start: not a cursor this API gave out.', 'start');
  return text.slice(4);
}

/** A group as the App API shows it. */
export const duplicateGroupView = (g: DuplicateGroup) => ({
  value: g.value,
  count: g.people.length,
  people: g.people.map((p) => ({
    cio_id: p.cioId,
    id: p.id,
    email: p.email,
    created_at: p.createdAt,
    events: p.events,
  })),
});

/** `GET /v1/duplicates`: a page of groups in value order; `next` is "" on the last page. */
export async function listDuplicates(
  db: Db,
  workspacePk: number,
  key: DedupeKey,
  q: { limit: number; start?: string },
) {
  const after = q.start ? decodeCursor(q.start) : undefined;
  const groups = await findDuplicateGroups(db, workspacePk, key, { after, limit: q.limit + 1 });
  const page = groups.slice(0, q.limit);
  const next = groups.length > q.limit ? encodeCursor(page.at(-1)!.value) : '';
  return { groups: page.map(duplicateGroupView), next };
}
