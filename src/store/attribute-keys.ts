import type { Db } from './types.js';

// Keys this process has seen committed to attribute_keys, per database and workspace: a write naming only these
// adds nothing. Only ever filled after a commit (confirm), so a rolled-back insert is never taken as stored. Keyed by
// the Kysely adapter, which a store's handle and its transactions share and another store (even on the same file,
// reopened) does not.
const committedByStore = new WeakMap<object, Map<number, Set<string>>>();
const committedOf = (db: Db) => {
  const adapter = db.getExecutor().adapter;
  let map = committedByStore.get(adapter);
  if (map === undefined) committedByStore.set(adapter, (map = new Map()));
  return map;
};
// Keys inserted by an open transaction, until it commits.
const pending = new WeakMap<Db, [workspacePk: number, key: string][]>();

/** Rows per insert: far below SQLite's 32,766 parameters. */
const chunkRows = 1000;

/** Code-point order, the same on every machine and database. */
const byCodePoint = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

export const attributeKeysStore = {
  /**
   * Records, in the caller's transaction, that the workspace's people have these attribute names. Names this process
   * already saw committed cost a set lookup; the rest are inserted if absent.
   */
  async note(db: Db, workspacePk: number, keys: Iterable<string>): Promise<void> {
    const known = committedOf(db).get(workspacePk);
    const fresh = new Set<string>();
    for (const key of keys) if (known === undefined || !known.has(key)) fresh.add(key);
    if (fresh.size === 0) return;
    const rows = [...fresh].map((key) => ({ workspace_pk: workspacePk, key }));
    for (let i = 0; i < rows.length; i += chunkRows)
      await db
        .insertInto('attribute_keys')
        .values(rows.slice(i, i + chunkRows))
        .onConflict((oc) => oc.columns(['workspace_pk', 'key']).doNothing())
        .execute();
    const list = pending.get(db) ?? [];
    for (const key of fresh) list.push([workspacePk, key]);
    pending.set(db, list);
  },

  /**
   * The transaction `trx` committed: what it noted is stored, so later writes skip it. Without this call (any
   * transaction but the ingest writer's) nothing is lost; later writes just insert the same names again, as no-ops.
   */
  confirm(trx: Db): void {
    const list = pending.get(trx);
    if (list === undefined) return;
    pending.delete(trx);
    const committed = committedOf(trx);
    for (const [workspacePk, key] of list) {
      let known = committed.get(workspacePk);
      if (known === undefined) committed.set(workspacePk, (known = new Set()));
      known.add(key);
    }
  },

  /** Every attribute name the workspace's people have been given, in code-point order. */
  async of(db: Db, workspacePk: number): Promise<string[]> {
    const rows = await db.selectFrom('attribute_keys').select('key').where('workspace_pk', '=', workspacePk).execute();
    return rows.map((r) => r.key).sort(byCodePoint);
  },
};
