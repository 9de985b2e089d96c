import { randomUUID } from 'node:crypto';
import { PreparedFamily } from './prepared.js';
import { keyList, type Db } from './types.js';
import { unitOf } from './unit-of-work.js';

// Checked on every identify, event and device call: compiled once per number of keys (1 to 3).
const findSuppressed = new PreparedFamily((db, count) =>
  db
    .selectFrom('suppressions')
    .select(['kind', 'value'])
    .where('workspace_pk', '=', 0)
    .where((eb) =>
      eb.or(Array.from({ length: Number(count) }, () => eb.and([eb('kind', '=', 'id'), eb('value', '=', '')]))),
    ),
);

/** An identifier to suppress or check: ids as given, emails normalised. */
export interface SuppressionKey {
  kind: 'id' | 'email';
  value: string;
}

/** Suppressed identifiers: calls naming them are dropped so the person is never re-added. */
export const suppressionsStore = {
  /** The first of the keys that is suppressed, in one query; null when none is. */
  async anySuppressed(db: Db, workspacePk: number, keys: SuppressionKey[]): Promise<SuppressionKey | null> {
    if (keys.length === 0) return null;
    const unit = unitOf(db);
    if (unit) {
      const unknown = keys.filter((k) => unit.isSuppressed(workspacePk, k.kind, k.value) === undefined);
      if (unknown.length > 0) await suppressionsStore.prefetch(db, workspacePk, unknown);
      return keys.find((k) => unit.isSuppressed(workspacePk, k.kind, k.value)) ?? null;
    }
    const row = await findSuppressed
      .get(String(keys.length))
      .first(db, [workspacePk, ...keys.flatMap((k) => [k.kind, k.value])]);
    return row ? { kind: row.kind, value: row.value } : null;
  },

  /** Reads which of the keys are suppressed into the transaction's unit of work, in one query. */
  async prefetch(db: Db, workspacePk: number, keys: SuppressionKey[]): Promise<void> {
    const unit = unitOf(db);
    if (!unit || keys.length === 0) return;
    const ids = [...new Set(keys.filter((k) => k.kind === 'id').map((k) => k.value))];
    const emails = [...new Set(keys.filter((k) => k.kind === 'email').map((k) => k.value))];
    const rows = await db
      .selectFrom('suppressions')
      .select(['kind', 'value'])
      .where('workspace_pk', '=', workspacePk)
      .where((eb) =>
        eb.or([
          ...(ids.length ? [eb.and([eb('kind', '=', 'id'), eb('value', 'in', keyList(db, ids))])] : []),
          ...(emails.length ? [eb.and([eb('kind', '=', 'email'), eb('value', 'in', keyList(db, emails))])] : []),
        ]),
      )
      .execute();
    for (const k of keys) unit.rememberSuppression(workspacePk, k.kind, k.value, false);
    for (const r of rows) unit.rememberSuppression(workspacePk, r.kind, r.value, true);
  },

  /** Suppresses the keys together: unsuppressing any of them later frees them all. */
  async suppress(db: Db, workspacePk: number, keys: SuppressionKey[], now: number): Promise<void> {
    if (keys.length === 0) return;
    const group = randomUUID();
    await db
      .insertInto('suppressions')
      .values(
        keys.map((k) => ({
          workspace_pk: workspacePk,
          kind: k.kind,
          value: k.value,
          group_key: group,
          created_at: now,
        })),
      )
      .onConflict((oc) => oc.doNothing())
      .execute();
  },

  /** Frees the key and every identifier suppressed with it; returns how many were freed. */
  async unsuppress(db: Db, workspacePk: number, key: SuppressionKey): Promise<number> {
    const row = await db
      .selectFrom('suppressions')
      .select('group_key')
      .where('workspace_pk', '=', workspacePk)
      .where('kind', '=', key.kind)
      .where('value', '=', key.value)
      .executeTakeFirst();
    if (!row) return 0;
    const r = await db
      .deleteFrom('suppressions')
      .where('workspace_pk', '=', workspacePk)
      .where('group_key', '=', row.group_key)
      .executeTakeFirst();
    return Number(r.numDeletedRows);
  },

  /** A page of the workspace's suppressed identifiers in (kind, value) order: the primary key's order. */
  async list(
    db: Db,
    workspacePk: number,
    page: { after?: SuppressionKey; limit: number },
  ): Promise<(SuppressionKey & { createdAt: number })[]> {
    const after = page.after;
    const rows = await db
      .selectFrom('suppressions')
      .select(['kind', 'value', 'created_at'])
      .where('workspace_pk', '=', workspacePk)
      .$if(after !== undefined, (q) =>
        q.where((eb) =>
          eb.or([eb('kind', '>', after!.kind), eb.and([eb('kind', '=', after!.kind), eb('value', '>', after!.value)])]),
        ),
      )
      .orderBy('kind')
      .orderBy('value')
      .limit(page.limit)
      .execute();
    return rows.map((r) => ({ kind: r.kind, value: r.value, createdAt: Number(r.created_at) }));
  },
};
