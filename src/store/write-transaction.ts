import { attributeKeysStore } from './attribute-keys.js';
import { shareArrayRows } from './direct-access.js';
import { onPostgres, type Db } from './types.js';

/**
 * `fn` in one transaction; once it has committed, the caches that may only learn from committed writes learn what it
 * wrote (attribute names). Other transactions are just as correct, only their writes are not remembered.
 */
export async function writeTransaction<T>(db: Db, fn: (trx: Db) => Promise<T>): Promise<T> {
  let used: Db | undefined;
  const result = await db.transaction().execute((trx) => {
    used = trx;
    if (!onPostgres(db)) shareArrayRows(trx, db);
    return fn(trx);
  });
  if (used !== undefined) attributeKeysStore.confirm(used);
  return result;
}
