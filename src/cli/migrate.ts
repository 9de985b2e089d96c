import type { Command } from 'commander';
import type { Kysely } from 'kysely';
import { loadConfig } from '../config.js';
import { openStore } from '../store/database.js';
import { latestMigration, migrateToLatest } from '../store/migrations/index.js';

/** `roster migrate`: brings the configured store's schema up to date and says what ran. */
export function migrateCommand(program: Command): void {
  program
    .command('migrate')
    .description('bring the database schema up to date (the SQLite file in ROSTER_DATA_DIR, or DATABASE_URL)')
    .action(async () => {
      const store = await openStore(loadConfig(), { migrate: false });
      try {
        const ran = await migrateToLatest(store.writer as Kysely<unknown>);
        if (ran.length === 0) console.log(`Schema is up to date (${latestMigration}): ${store.file}`);
        else {
          console.log(`Migrated ${store.file}:`);
          for (const name of ran) console.log(`  ran ${name}`);
          console.log(`Schema is up to date (${latestMigration}).`);
        }
      } finally {
        await store.close();
      }
    });
}
