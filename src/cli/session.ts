import { loadConfig } from '../config.js';
import type { CallContext } from '../ingest/commands.js';
import { Writer } from '../ingest/writer.js';
import { openStore, type Store } from '../store/database.js';
import { workspacesStore, type WorkspaceRecord } from '../store/workspaces.js';

/** What a workspace command works with: the store, the workspace, and a writer of its own (group commit). */
export interface WorkspaceSession {
  store: Store;
  ws: WorkspaceRecord;
  writer: Writer;
  /** A fresh call context: surface `cli`, received now. */
  ctx(): CallContext;
}

/**
 * Opens the configured store for one command on one workspace. Writes go through a Writer like the server's, so the
 * identity rules, locks and retries are the same whether a server runs on the store or not. Exits 2 for an unknown
 * workspace.
 */
export async function withWorkspace<T>(workspaceId: string, fn: (s: WorkspaceSession) => Promise<T>) {
  const store = await openStore(loadConfig());
  const writer = new Writer(store.writer);
  try {
    const ws = await workspacesStore.byPublicId(store.reader, workspaceId);
    if (!ws) {
      console.error(`No workspace ${workspaceId}. See: roster workspace list`);
      process.exitCode = 2;
      return undefined;
    }
    return await fn({ store, ws, writer, ctx: () => ({ ws, surface: 'cli', receivedAt: Date.now() }) });
  } finally {
    await writer.close();
    await store.close();
  }
}

/** A refusal of the command line itself: printed, exit code 2. */
export class UsageError extends Error {}
