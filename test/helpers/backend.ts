import pg from 'pg';

/** Which database the integration tests run on: `ROSTER_TEST_BACKEND=postgres` for PostgreSQL, else SQLite. */
export const testBackend: 'sqlite' | 'postgres' =
  process.env.ROSTER_TEST_BACKEND === 'postgres' ? 'postgres' : 'sqlite';

const baseUrl = process.env.ROSTER_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** A schema of its own in the test database, so runs and test files never see each other's rows. */
export async function freshPostgresSchema(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `roster_test_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
  const admin = new pg.Client(baseUrl);
  await admin.connect();
  try {
    await admin.query(`create schema ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(baseUrl);
  url.searchParams.set('options', `-c search_path=${name}`);
  return {
    url: url.toString(),
    async drop() {
      const c = new pg.Client(baseUrl);
      await c.connect();
      try {
        await c.query(`drop schema if exists ${name} cascade`);
      } finally {
        await c.end();
      }
    },
  };
}

/** Environment for a spawned `roster` process: DATABASE_URL when the tests run on PostgreSQL. */
export const backendEnv = (databaseUrl: string | undefined): Record<string, string> =>
  databaseUrl ? { DATABASE_URL: databaseUrl } : {};
