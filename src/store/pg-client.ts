import pg from 'pg';

// int8 (bigint) columns hold unix-ms times and counts, all far below 2^53: read them as numbers, as SQLite does.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));

/**
 * PostgreSQL text cannot hold U+0000 (SQLite can): a NUL in an event name, a device token or a logged reference
 * made the statement fail and the call answer 500. Parameters are sent with each NUL replaced by U+FFFD, so such a
 * call is stored (and found again by the same string) instead. JSON columns are unaffected: JSON escapes NUL.
 */
const withoutNul = (v: unknown): unknown =>
  typeof v === 'string'
    ? v.includes('\u0000')
      ? v.split('\u0000').join('\ufffd')
      : v
    : Array.isArray(v) // the writer's multi-row statements send a column as an array
      ? v.map(withoutNul)
      : v;

/**
 * Names of statements kept prepared, one per SQL text in this process; each connection prepares a name the first
 * time it runs it (node-postgres remembers which names it has).
 */
const statementNames = new Map<string, string>();
let nextStatement = 1;
export function statementName(text: string): string {
  let name = statementNames.get(text);
  if (name === undefined) {
    name = `roster_${nextStatement++}`;
    statementNames.set(text, name);
  }
  return name;
}

/**
 * Once a migration changes what a prepared statement returns (a `people` column's type or collation, as 0016 did),
 * PostgreSQL refuses that statement on every connection that prepared it before, at every run: "cached plan must not
 * change result type". The text then gets a new name, which each connection prepares afresh on its next run, so only
 * the call that met the error fails (and the writer re-runs its batch: isRetryableConflict).
 */
export const isStaleResultType = (err: unknown): boolean =>
  (err as { code?: unknown } | null)?.code === '0A000' &&
  String((err as { message?: unknown }).message).includes('cached plan must not change result type');

function renameStatement(text: string): void {
  if (statementNames.has(text)) statementNames.set(text, `roster_${nextStatement++}`);
}

/**
 * Kysely sends every statement unnamed, so PostgreSQL parses and plans it at every run: for the writer's batch
 * statements that was about a tenth of PostgreSQL's time. As pgjdbc does (prepareThreshold), a text run with
 * parameters `prepareAfter` times is from then on sent by name, prepared once on each connection. Bounded: texts
 * that keep changing (placeholder lists of every length) are no longer counted past `maxCounted`, and no more than
 * `maxPrepared` are named, since each connection keeps a plan for each (a writer batch uses a few dozen texts).
 */
const prepareAfter = 3;
const maxCounted = 2000;
const maxPrepared = 100;
const runs = new Map<string, number>();

function autoName(text: string): string | undefined {
  const named = statementNames.get(text);
  if (named !== undefined) return named;
  if (statementNames.size >= maxPrepared) return undefined;
  const n = (runs.get(text) ?? 0) + 1;
  if (n < prepareAfter) {
    if (n > 1 || runs.size < maxCounted) runs.set(text, n);
    return undefined;
  }
  runs.delete(text);
  return statementName(text);
}

export class NulSafeClient extends pg.Client {
  override query(...args: unknown[]): never {
    const [config, values] = args;
    if (Array.isArray(values)) {
      args[1] = values.map(withoutNul);
      // query(text, values): Kysely's call. Without parameters pg uses the simple protocol, one message: keep it.
      const name = args.length === 2 && typeof config === 'string' && values.length > 0 ? autoName(config) : undefined;
      if (name !== undefined) args = [{ name, text: config, values: args[1] }];
    } else if (config && typeof config === 'object' && Array.isArray((config as pg.QueryConfig).values))
      args[0] = { ...(config as pg.QueryConfig), values: (config as pg.QueryConfig).values!.map(withoutNul) };
    const result = (super.query as (...a: unknown[]) => unknown)(...args);
    const text = typeof config === 'string' ? config : (config as pg.QueryConfig | undefined)?.text;
    if (text === undefined || !(result instanceof Promise)) return result as never;
    return result.catch((err: unknown) => {
      if (isStaleResultType(err)) renameStatement(text);
      throw err;
    }) as never;
  }
}
