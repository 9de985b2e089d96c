import { afterAll, beforeAll } from 'vitest';
import { openStore, type Store } from '../../src/store/database.js';
import { tempRosterHome, type RosterHome } from './roster-process.js';

/**
 * A store of the test backend in a fresh home (data dir, and schema on PostgreSQL), opened before the file's tests
 * and removed after them. Read `store` and `home` inside tests: they are set once beforeAll has run.
 */
export function useStore(prefix: string): { store: Store; home: RosterHome } {
  const opened = {} as { store: Store; home: RosterHome };
  beforeAll(async () => {
    opened.home = await tempRosterHome(prefix);
    opened.store = await openStore({ dataDir: opened.home.dataDir, databaseUrl: opened.home.env.DATABASE_URL });
  });
  afterAll(async () => {
    await opened.store?.close();
    await opened.home?.remove();
  });
  return opened;
}
