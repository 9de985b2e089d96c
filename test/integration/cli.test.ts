import { statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  freePort,
  rosterCli as runCli,
  startServeProcess as startServe,
  tempRosterHome,
  type RosterHome,
  type ServeProcess,
} from '../helpers/roster-process.js';

const homes = new Map<string, RosterHome>();
const procs: ServeProcess[] = [];
const tempDir = async () => {
  const home = await tempRosterHome('roster-cli-');
  homes.set(home.dataDir, home);
  return home.dataDir;
};
// The real CLI and server on a test's home (its data dir, and its own schema when testing PostgreSQL).
const rosterCli = (dir: string, args: string[]) => runCli(dir, args, homes.get(dir)!.env);
const startServeProcess = (dir: string, port: number) => startServe(dir, port, homes.get(dir)!.env);
afterEach(async () => {
  for (const p of procs.splice(0)) {
    p.child.kill('SIGKILL');
    await p.exited;
  }
  for (const home of homes.values()) await home.remove();
  homes.clear();
});

const basic = (site: string, key: string) => `Basic ${Buffer.from(`${site}:${key}`).toString('base64')}`;
const identify = (base: string, auth: string, id: string, body: object = {}) =>
  fetch(`${base}/api/v1/customers/${id}`, {
    method: 'PUT',
    headers: { authorization: auth, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

describe('roster workspace', () => {
  it('create --json prints exactly one JSON object with every credential', async () => {
    const dir = await tempDir();
    const out = await rosterCli(dir, ['workspace', 'create', '--name', 'Shop', '--identifiers', 'id_only', '--json']);
    const creds = JSON.parse(out) as Record<string, string>;
    expect(Object.keys(creds).sort()).toEqual(
      [
        'workspace_id',
        'name',
        'identifiers',
        'site_id',
        'track_api_key',
        'app_api_key',
        'segment_write_key',
        'webhook_secret',
      ].sort(),
    );
    expect(creds.name).toBe('Shop');
    expect(creds.identifiers).toBe('id_only');
    expect(creds.track_api_key!.length).toBeGreaterThanOrEqual(32);
    // The master key file that seals the webhook secret is private to its owner.
    expect(statSync(join(dir, 'secret.key')).mode & 0o777).toBe(0o600);
  });

  it('list and set change the settings the identity rules read', async () => {
    const dir = await tempDir();
    const { workspace_id } = JSON.parse(await rosterCli(dir, ['workspace', 'create', '--name', 'A', '--json']));
    await rosterCli(dir, [
      'workspace',
      'set',
      workspace_id,
      '--allow-email-update-by-id',
      'true',
      '--identifiers',
      'id_only',
    ]);
    const [ws] = JSON.parse(await rosterCli(dir, ['workspace', 'list', '--json']));
    expect(ws).toMatchObject({ workspace_id, name: 'A', identifiers: 'id_only', allow_email_update_by_id: true });
  });

  it('set refuses a bad value and changes nothing', async () => {
    const dir = await tempDir();
    const { workspace_id } = JSON.parse(await rosterCli(dir, ['workspace', 'create', '--name', 'A', '--json']));
    await expect(rosterCli(dir, ['workspace', 'set', workspace_id, '--identifiers', 'phone'])).rejects.toThrow();
    const [ws] = JSON.parse(await rosterCli(dir, ['workspace', 'list', '--json']));
    expect(ws.identifiers).toBe('email_or_id');
  });

  it('rotate-keys works beside a running server: new keys work, old ones stop (grace 0) or keep working (grace)', async () => {
    const dir = await tempDir();
    const port = await freePort();
    const a = JSON.parse(await rosterCli(dir, ['workspace', 'create', '--name', 'A', '--json']));
    const b = JSON.parse(await rosterCli(dir, ['workspace', 'create', '--name', 'B', '--json']));
    const proc = await startServeProcess(dir, port);
    procs.push(proc);
    // No Default workspace is made when the data dir already has one.
    expect(proc.output()).not.toContain('Created workspace "Default"');

    const a2 = JSON.parse(await rosterCli(dir, ['workspace', 'rotate-keys', a.workspace_id, '--json']));
    const b2 = JSON.parse(
      await rosterCli(dir, ['workspace', 'rotate-keys', b.workspace_id, '--grace', '600', '--json']),
    );
    expect(a2.site_id).toBe(a.site_id);
    expect(a2.track_api_key).not.toBe(a.track_api_key);

    expect((await identify(proc.base, basic(a.site_id, a.track_api_key), 'u1')).status).toBe(401);
    expect((await identify(proc.base, basic(a2.site_id, a2.track_api_key), 'u1')).status).toBe(200);
    expect((await identify(proc.base, basic(b.site_id, b.track_api_key), 'u1')).status).toBe(200);
    expect((await identify(proc.base, basic(b2.site_id, b2.track_api_key), 'u2')).status).toBe(200);
    const app = await fetch(`${proc.base}/v1/customers/u1/attributes`, {
      headers: { authorization: `Bearer ${a.app_api_key}` },
    });
    expect(app.status).toBe(401);
  });
});

describe('roster serve', () => {
  it('first start on an empty data dir makes "Default" and prints its working credentials once', async () => {
    const dir = await tempDir();
    const proc = await startServeProcess(dir, await freePort());
    procs.push(proc);
    const out = proc.output();
    expect(out).toContain('Created workspace "Default"');
    const site = /site_id +(\S+)/.exec(out)![1]!;
    const key = /track_api_key +(\S+)/.exec(out)![1]!;
    expect((await fetch(`${proc.base}/healthz`)).status).toBe(200);
    expect((await identify(proc.base, basic(site, key), 'first', { plan: 'free' })).status).toBe(200);
    proc.child.kill('SIGTERM');
    expect(await proc.exited).toBe(0);

    const again = await startServeProcess(dir, await freePort());
    procs.push(again);
    expect(again.output()).not.toContain('Created workspace');
    const list = JSON.parse(await rosterCli(dir, ['workspace', 'list', '--json']));
    expect(list).toHaveLength(1);
  });
});
