import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backendEnv } from '../helpers/backend.js';
import { rosterCli } from '../helpers/roster-process.js';
import { startServer, type TestServer, type TestWorkspace } from '../helpers/roster-server.js';

/**
 * `roster log --workspace ID [--errors] [--follow] [--json] [--limit N]`: the integration log, oldest to newest,
 * read by the real CLI from the data dir of a running server. `--errors` leaves out the drops by design
 * (`duplicate`, `suppressed`). Also `roster workspace set --anonymous-retention-days`.
 */

let server: TestServer;
let ws: TestWorkspace;

beforeAll(async () => {
  server = await startServer();
  ws = await server.workspace();
  // In order: rule C, a duplicate event, a delete of no one, a suppressed drop.
  expect((await ws.identify('log-a', { email: 'log-a@example.com' })).status).toBe(200);
  expect((await ws.identify('log-b', { email: 'log-b@example.com' })).status).toBe(200);
  expect((await ws.identify('log-a', { email: 'log-b@example.com' })).status).toBe(409);
  expect((await ws.track('log-a', { name: 'x', id: 'ev-1' })).status).toBe(200);
  expect((await ws.track('log-a', { name: 'x', id: 'ev-1' })).status).toBe(200);
  expect((await ws.delete('log-ghost')).status).toBe(200);
  expect((await ws.suppress('log-b')).status).toBe(200);
  expect((await ws.identify('log-b', { plan: 'x' })).status).toBe(200);
});

afterAll(async () => {
  await server?.close();
});

const lines = (out: string) => out.split('\n').filter((l) => l !== '');
const log = (...args: string[]) =>
  rosterCli(server.dataDir, ['log', '--workspace', ws.creds.workspace_id, ...args], backendEnv(server.databaseUrl));

describe('roster log', () => {
  it('prints every entry oldest first: time, outcome, surface, reference, reason', async () => {
    const out = lines(await log());
    expect(out.map((l) => l.split('  ')[1])).toEqual([
      'identifier_in_use',
      'duplicate',
      'person_not_found',
      'suppressed',
    ]);
    expect(out[0]).toMatch(
      /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z {2}identifier_in_use {2}track_v1 {2}log-a {2}email: The identifier is already associated with a different profile\.$/,
    );
    expect(out[2]).toContain('person_not_found  track_v1  log-ghost  Nothing to delete.');
  });

  it('--errors prints only failures, not duplicate or suppressed drops', async () => {
    const out = lines(await log('--errors'));
    expect(out.map((l) => l.split('  ')[1])).toEqual(['identifier_in_use', 'person_not_found']);
  });

  it('--limit N prints the latest N, still oldest first', async () => {
    const out = lines(await log('--limit', '2'));
    expect(out.map((l) => l.split('  ')[1])).toEqual(['person_not_found', 'suppressed']);
  });

  it('--json prints one App API activity object per line', async () => {
    const out = lines(await log('--json', '--errors'));
    const entries = out.map((l) => JSON.parse(l));
    expect(entries).toHaveLength(2);
    expect(entries[1]).toEqual({
      id: expect.stringMatching(/^il_\d+$/),
      timestamp: expect.any(Number),
      type: 'person_not_found',
      customer_id: 'log-ghost',
      data: {
        surface: 'track_v1',
        message_id: null,
        reference: 'log-ghost',
        outcome: 'person_not_found',
        reason: 'Nothing to delete.',
      },
    });
  });

  it('prints nothing for a workspace without entries, and fails for one that does not exist', async () => {
    const fresh = await server.workspace();
    expect(
      await rosterCli(server.dataDir, ['log', '--workspace', fresh.creds.workspace_id], backendEnv(server.databaseUrl)),
    ).toBe('');
    await expect(
      rosterCli(server.dataDir, ['log', '--workspace', 'ws_nope'], backendEnv(server.databaseUrl)),
    ).rejects.toThrow(/No workspace ws_nope/);
  });

  it('--follow keeps printing new entries until SIGINT, then exits 0', async () => {
    const w = await server.workspace();
    expect((await w.delete('before-follow')).status).toBe(200);
    const bin = new URL('../../bin/roster.js', import.meta.url).pathname;
    const child = spawn(
      process.execPath,
      [bin, 'log', '--workspace', w.creds.workspace_id, '--follow', '--errors', '--interval', '100'],
      {
        env: { ...process.env, ROSTER_DATA_DIR: server.dataDir, ...backendEnv(server.databaseUrl) },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const waitFor = async (text: string) => {
      const deadline = Date.now() + 15_000;
      while (!out.includes(text)) {
        if (Date.now() > deadline) throw new Error(`never printed ${text}:\n${out}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    try {
      await waitFor('before-follow');
      expect((await w.delete('during-follow')).status).toBe(200);
      // A drop by design is not a failure: --errors leaves it out while following too.
      expect((await w.track('f', { name: 'x', id: 'dup' })).status).toBe(200);
      expect((await w.track('f', { name: 'x', id: 'dup' })).status).toBe(200);
      expect((await w.delete('after-dup')).status).toBe(200);
      await waitFor('after-dup');
      child.kill('SIGINT');
      expect(await exited).toBe(0);
      expect(lines(out).map((l) => l.split('  ')[3])).toEqual(['before-follow', 'during-follow', 'after-dup']);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});

describe('roster workspace set --anonymous-retention-days', () => {
  it('sets the retention; list shows it; a bad value is refused', async () => {
    const w = await server.workspace();
    const id = w.creds.workspace_id;
    await rosterCli(
      server.dataDir,
      ['workspace', 'set', id, '--anonymous-retention-days', '7'],
      backendEnv(server.databaseUrl),
    );
    const listed = JSON.parse(
      await rosterCli(server.dataDir, ['workspace', 'list', '--json'], backendEnv(server.databaseUrl)),
    ) as {
      workspace_id: string;
      anonymous_retention_days: number;
    }[];
    expect(listed.find((x) => x.workspace_id === id)!.anonymous_retention_days).toBe(7);
    await expect(
      rosterCli(
        server.dataDir,
        ['workspace', 'set', id, '--anonymous-retention-days', '0'],
        backendEnv(server.databaseUrl),
      ),
    ).rejects.toThrow();
    await expect(
      rosterCli(
        server.dataDir,
        ['workspace', 'set', id, '--anonymous-retention-days', 'x'],
        backendEnv(server.databaseUrl),
      ),
    ).rejects.toThrow();
    const again = JSON.parse(
      await rosterCli(server.dataDir, ['workspace', 'list', '--json'], backendEnv(server.databaseUrl)),
    ) as typeof listed;
    expect(again.find((x) => x.workspace_id === id)!.anonymous_retention_days).toBe(7);
  });
});
