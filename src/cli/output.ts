import type { WorkspaceCredentials } from '../store/workspaces.js';

/** Prints credentials for a person to read (the --json forms print the object instead). */
export function printCredentials(c: WorkspaceCredentials): void {
  const rows: [string, string][] = [
    ['workspace_id', c.workspace_id],
    ['name', c.name],
    ['identifiers', c.identifiers],
    ['site_id', c.site_id],
    ['track_api_key', c.track_api_key],
    ['app_api_key', c.app_api_key],
    ['segment_write_key', c.segment_write_key],
    ['webhook_secret', c.webhook_secret],
  ];
  for (const [k, v] of rows) console.log(`  ${k.padEnd(18)} ${v}`);
}
