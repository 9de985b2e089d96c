import { Migrator, sql, type Kysely, type Migration, type MigrationProvider } from 'kysely';
import { isPostgres } from './dialect.js';
import { coreMigration } from './0001_core.js';
import { objectsMigration } from './0002_objects.js';
import { jobsMigration } from './0003_jobs.js';
import { segmentMigration } from './0004_segment.js';
import { partialEmailIndexMigration } from './0005_partial_email_index.js';
import { partialEventIndexesMigration } from './0006_partial_event_indexes.js';
import { segmentsExportsMigration } from './0007_segments_exports.js';
import { workspaceRateLimitsMigration } from './0007_workspace_rate_limits.js';
import { peopleFillfactorMigration } from './0012_people_fillfactor.js';
import { partitionEventsMigration } from './0013_partition_events.js';
import { peopleWorkspacePkIndexMigration } from './0013_people_workspace_pk_index.js';
import { attributeKeysMigration } from './0014_attribute_keys.js';
import { exportChunksLz4Migration } from './0015_export_chunks_lz4.js';
import { peopleByteOrderMigration } from './0016_people_byte_order.js';

/** The schema, as ordered migrations written once for both SQLite and PostgreSQL. One file per migration. */
export const migrations: Record<string, Migration> = {
  '0001_core': coreMigration,
  '0002_objects': objectsMigration,
  '0003_jobs': jobsMigration,
  '0004_segment': segmentMigration,
  '0005_partial_email_index': partialEmailIndexMigration,
  '0006_partial_event_indexes': partialEventIndexesMigration,
  '0007_segments_exports': segmentsExportsMigration,
  '0007_workspace_rate_limits': workspaceRateLimitsMigration,
  '0012_people_fillfactor': peopleFillfactorMigration,
  '0013_partition_events': partitionEventsMigration,
  '0013_people_workspace_pk_index': peopleWorkspacePkIndexMigration,
  '0014_attribute_keys': attributeKeysMigration,
  '0015_export_chunks_lz4': exportChunksLz4Migration,
  '0016_people_byte_order': peopleByteOrderMigration,
};

const provider: MigrationProvider = { getMigrations: async () => migrations };

/** The newest migration's name: the schema version a store is at once migrated. */
export const latestMigration = Object.keys(migrations).at(-1)!;

/**
 * Brings the schema up to date; safe to run at every start and from several processes. Returns the names of the
 * migrations this call ran, oldest first (none when the schema was already up to date).
 */
export async function migrateToLatest(db: Kysely<unknown>): Promise<string[]> {
  // On PostgreSQL the migration tables live in the connection's schema, so databases that hold several Roster
  // schemas (one per tenant or test run) keep separate migration histories.
  const migrationTableSchema = isPostgres(db)
    ? (await sql<{ schema: string }>`select current_schema() as schema`.execute(db)).rows[0]?.schema
    : undefined;
  const migrator = new Migrator({ db, provider, allowUnorderedMigrations: true, migrationTableSchema });
  const { error, results } = await migrator.migrateToLatest();
  const failed = results?.find((r) => r.status === 'Error');
  if (error)
    throw error instanceof Error ? error : new Error(`migration failed: ${failed?.migrationName ?? String(error)}`);
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
