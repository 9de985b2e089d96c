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
export class NulSafeClient extends pg.Client {
  override query(...args: unknown[]): never {
    const [config, values] = args;
    if (Array.isArray(values)) args[1] = values.map(withoutNul);
    else if (config && typeof config === 'object' && Array.isArray((config as pg.QueryConfig).values))
      args[0] = { ...(config as pg.QueryConfig), values: (config as pg.QueryConfig).values!.map(withoutNul) };
    return (super.query as (...a: unknown[]) => never)(...args);
  }
}
