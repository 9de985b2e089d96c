import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { createRoster, type Roster } from '../../src/roster.js';
import { workspacesStore } from '../../src/store/workspaces.js';
import { freshPostgresSchema, testBackend } from './backend.js';
import { TestWorkspace } from './roster-server.js';

/** A real Roster started with chosen environment settings and, optionally, its log lines captured. */
export interface OpsServer {
  roster: Roster;
  base: string;
  dataDir: string;
  /** Every log line written so far (empty unless started with a log level). */
  logText(): string;
  logLines(): Record<string, unknown>[];
  workspace(): Promise<TestWorkspace>;
  close(): Promise<void>;
}

/** Runs `fn` with the given environment variables set, restoring them after (createRoster reads them once). */
export async function withEnv<T>(vars: Record<string, string>, fn: () => Promise<T>): Promise<T> {
  const before = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  Object.assign(process.env, vars);
  try {
    return await fn();
  } finally {
    for (const [k, v] of Object.entries(before)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

/** Starts Roster on a temp data dir (and its own PostgreSQL schema when testing on PostgreSQL). */
export async function startOpsServer(
  opts: { env?: Record<string, string>; logLevel?: string } = {},
): Promise<OpsServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'roster-ops-'));
  const schema = testBackend === 'postgres' ? await freshPostgresSchema() : null;
  let log = '';
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      log += chunk.toString();
      done();
    },
  });
  const roster = await withEnv(opts.env ?? {}, () =>
    createRoster({
      dataDir,
      databaseUrl: schema?.url,
      logger: opts.logLevel ? { level: opts.logLevel, stream } : false,
    }),
  );
  const base = await roster.app.listen({ port: 0, host: '127.0.0.1' });
  return {
    roster,
    base,
    dataDir,
    logText: () => log,
    logLines: () =>
      log
        .split('\n')
        .filter((l) => l.trim() !== '')
        .map((l) => JSON.parse(l) as Record<string, unknown>),
    async workspace() {
      const creds = await workspacesStore.create(roster.store.writer, roster.masterKey, {
        name: 'ops',
        identifiers: 'email_or_id',
        allowEmailUpdateById: false,
      });
      return new TestWorkspace(base, creds);
    },
    async close() {
      await roster.close();
      rmSync(dataDir, { recursive: true, force: true });
      await schema?.drop();
    },
  };
}
