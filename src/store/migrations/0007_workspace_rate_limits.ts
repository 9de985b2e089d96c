import type { Kysely, Migration } from 'kysely';

/**
 * Per-workspace rate limits (docs/operations.md, Rate limits): requests per second on each API, and per key.
 * NULL follows the server's environment settings; 0 means no limit for that workspace.
 */
export const workspaceRateLimitsMigration: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema.alterTable('workspaces').addColumn('rate_limit', 'integer').execute();
    await db.schema.alterTable('workspaces').addColumn('key_rate_limit', 'integer').execute();
  },
};
