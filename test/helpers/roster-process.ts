import { spawn, type ChildProcess } from 'node:child_process';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { backendEnv, freshPostgresSchema, testBackend } from './backend.js';

const run = promisify(execFile);
const bin = new URL('../../bin/roster.js', import.meta.url).pathname;

/** Runs the real `roster` CLI against a data dir; returns its stdout. */
export async function rosterCli(dataDir: string, args: string[], env: Record<string, string> = {}): Promise<string> {
  const { stdout } = await run(process.execPath, [bin, ...args], {
    env: { ...process.env, ROSTER_DATA_DIR: dataDir, ...env },
  });
  return stdout;
}

/** A `roster serve` child process on 127.0.0.1. */
export interface ServeProcess {
  child: ChildProcess;
  base: string;
  output: () => string;
  exited: Promise<number | null>;
}

/** Starts `roster serve` and resolves once it prints where it runs. */
export async function startServeProcess(
  dataDir: string,
  port: number,
  env: Record<string, string> = {},
): Promise<ServeProcess> {
  const child = spawn(process.execPath, [bin, 'serve'], {
    env: { ...process.env, ROSTER_DATA_DIR: dataDir, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const deadline = Date.now() + 20_000;
  while (!out.includes('Roster is running at')) {
    if (child.exitCode !== null) throw new Error(`roster serve exited early:\n${out}`);
    if (Date.now() > deadline) throw new Error(`roster serve did not start:\n${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return { child, base: `http://127.0.0.1:${port}`, output: () => out, exited };
}

/** A free TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const address = s.address();
      s.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** Reads the credential lines `  name   value` that `roster serve` prints on first start. */
export function printedCredentials(output: string): Record<string, string> {
  const creds: Record<string, string> = {};
  for (const m of output.matchAll(/^ {2}(\w+) +(\S+)$/gm)) creds[m[1]!] = m[2]!;
  return creds;
}

/** A place for one test's Roster: a temp data dir, and on PostgreSQL a schema of its own (DATABASE_URL in `env`). */
export interface RosterHome {
  dataDir: string;
  env: Record<string, string>;
  remove(): Promise<void>;
}

export async function tempRosterHome(prefix = 'roster-home-'): Promise<RosterHome> {
  const dataDir = mkdtempSync(join(tmpdir(), prefix));
  const schema = testBackend === 'postgres' ? await freshPostgresSchema() : null;
  return {
    dataDir,
    env: backendEnv(schema?.url),
    async remove() {
      rmSync(dataDir, { recursive: true, force: true });
      await schema?.drop();
    },
  };
}
