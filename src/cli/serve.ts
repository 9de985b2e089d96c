import type { Config } from '../config.js';
import { createRoster } from '../roster.js';
import { workspacesStore } from '../store/workspaces.js';
import { printCredentials } from './output.js';

/** `roster serve`: migrate, make the first workspace on an empty data dir, listen, stop cleanly on a signal. */
export async function serve(config: Config): Promise<void> {
  const roster = await createRoster({
    dataDir: config.dataDir,
    databaseUrl: config.databaseUrl,
    logger: { level: config.logLevel },
  });
  const existing = await workspacesStore.list(roster.store.writer);
  const address = await roster.app.listen({ port: config.port, host: config.host });
  const base = address.replace('[::1]', 'localhost');
  if (existing.length === 0) {
    const creds = await workspacesStore.create(roster.store.writer, roster.masterKey, {
      name: 'Default',
      identifiers: 'email_or_id',
      allowEmailUpdateById: false,
    });
    console.log('\nCreated workspace "Default". These credentials are shown once; keep them somewhere safe:\n');
    printCredentials(creds);
  }
  console.log(`\nRoster is running at ${base}`);
  console.log(`  Track API (Customer.io clients): ${base}/api/v1  and  ${base}/api/v2  (Basic site_id:track_api_key)`);
  console.log(`  App API: ${base}/v1  (Bearer app_api_key)`);
  console.log(`  API docs (OpenAPI): ${base}/docs   metrics: ${base}/metrics`);
  console.log(`  Data: ${roster.store.file}\n`);

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    roster.app.log.info({ signal }, 'stopping: finishing in-flight requests');
    roster
      .close()
      .then(() => process.exit(0))
      .catch((err: unknown) => {
        console.error(err);
        process.exit(1);
      });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}
