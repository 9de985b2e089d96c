import type { Compilable, CompiledQuery, QueryResult } from 'kysely';
import { arrayRows } from './direct-access.js';
import type { Db } from './types.js';

/**
 * A Kysely query built and compiled once per dialect, then run with fresh parameters. Building and compiling cost
 * more than running a cached SQLite statement, so the ingest hot path uses these; the SQL is still Kysely's, for
 * either dialect. `build` uses placeholder values; `run` takes the real ones in the order they appear in the SQL.
 */
export class PreparedQuery<Row> {
  private readonly compiled = new Map<unknown, CompiledQuery<Row>>();
  constructor(private readonly build: (db: Db) => Compilable<Row>) {}

  private compiledFor(db: Db): CompiledQuery<Row> {
    const dialect = db.getExecutor().adapter;
    let query = this.compiled.get(dialect);
    if (query === undefined) {
      query = this.build(db).compile();
      this.compiled.set(dialect, query);
    }
    return query;
  }

  run(db: Db, parameters: readonly unknown[]): Promise<QueryResult<Row>> {
    return db.executeQuery<Row>({ ...this.compiledFor(db), parameters });
  }

  /** The rows as arrays in the SELECT's column order (arrayRows), the statement kept prepared on PostgreSQL. */
  arrays<R extends readonly unknown[]>(db: Db, parameters: readonly unknown[]): Promise<R[]> {
    return arrayRows<R>(db, { ...this.compiledFor(db), parameters }, { prepare: true });
  }

  async first(db: Db, parameters: readonly unknown[]): Promise<Row | undefined> {
    return (await this.run(db, parameters)).rows[0];
  }
}

/** A family of prepared queries keyed by shape (e.g. which columns an UPDATE sets). */
export class PreparedFamily<Row> {
  private readonly members = new Map<string, PreparedQuery<Row>>();
  constructor(private readonly build: (db: Db, key: string) => Compilable<Row>) {}

  get(key: string): PreparedQuery<Row> {
    let q = this.members.get(key);
    if (q === undefined) {
      q = new PreparedQuery((db) => this.build(db, key));
      this.members.set(key, q);
    }
    return q;
  }
}
