import BetterSqlite3 from 'better-sqlite3';
import { copyFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { testBackend } from '../helpers/backend.js';
import {
  freePort,
  printedCredentials,
  rosterCli,
  startServeProcess,
  tempRosterHome,
  type RosterHome,
  type ServeProcess,
} from '../helpers/roster-process.js';

const homes: RosterHome[] = [];
const dirs: string[] = [];
const procs: ServeProcess[] = [];
afterEach(async () => {
  for (const p of procs.splice(0)) {
    p.child.kill('SIGKILL');
    await p.exited;
  }
  for (const home of homes.splice(0)) await home.remove();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

describe.skipIf(testBackend === 'postgres')('roster backup (SQLite)', () => {
  it('backs up while the server takes writes; a server on the restored copy has every write acknowledged before', async () => {
    const home = await tempRosterHome('roster-backup-');
    homes.push(home);
    const server = await startServeProcess(home.dataDir, await freePort());
    procs.push(server);
    const creds = printedCredentials(server.output());
    const trackAuth = basic(creds.site_id!, creds.track_api_key!);

    // Four writers identify new people as fast as the server answers, noting when each write was acknowledged.
    const acked: { id: string; at: number }[] = [];
    let stop = false;
    const writer = async (w: number) => {
      for (let i = 0; !stop; i++) {
        const id = `w${w}-${i}`;
        const res = await fetch(`${server.base}/api/v1/customers/${id}`, {
          method: 'PUT',
          headers: { authorization: trackAuth, 'content-type': 'application/json' },
          body: JSON.stringify({ seq: i, writer: w, note: 'x'.repeat(200) }),
        });
        if (res.status !== 200) throw new Error(`identify ${id}: ${res.status} ${await res.text()}`);
        acked.push({ id, at: Date.now() });
      }
    };
    const writers = [0, 1, 2, 3].map(writer);
    while (acked.length < 300) await new Promise((r) => setTimeout(r, 20));

    const out = join(home.dataDir, 'backup.sqlite');
    // Everything acknowledged so far was acknowledged before the backup began (timestamps can tie at a millisecond).
    const ackedBefore = acked.length;
    const startedAt = Date.now();
    const printed = await rosterCli(home.dataDir, ['backup', '--out', out], home.env);
    const endedAt = Date.now();
    stop = true;
    await Promise.all(writers);
    expect(printed).toContain('integrity_check: ok');
    // The server was taking writes while the backup ran.
    expect(acked.filter((a) => a.at >= startedAt && a.at <= endedAt).length).toBeGreaterThan(0);
    const before = acked.slice(0, ackedBefore).map((a) => a.id);
    expect(before.length).toBeGreaterThanOrEqual(300);

    const check = new BetterSqlite3(out, { readonly: true });
    expect(check.pragma('integrity_check', { simple: true })).toBe('ok');
    check.close();

    // Restore: a new data dir with the copy as roster.sqlite (and the same secret key), then start a server on it.
    const restored = mkdtempSync(join(tmpdir(), 'roster-restored-'));
    dirs.push(restored);
    copyFileSync(out, join(restored, 'roster.sqlite'));
    copyFileSync(join(home.dataDir, 'secret.key'), join(restored, 'secret.key'));
    const second = await startServeProcess(restored, await freePort());
    procs.push(second);
    expect(second.output()).not.toContain('Created workspace');

    const missing: string[] = [];
    const queue = [...before];
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        for (let id = queue.pop(); id !== undefined; id = queue.pop()) {
          const res = await fetch(`${second.base}/v1/customers/${id}/attributes`, {
            headers: { authorization: `Bearer ${creds.app_api_key}` },
          });
          if (res.status !== 200) missing.push(`${id}: ${res.status}`);
        }
      }),
    );
    expect(missing).toEqual([]);
    // The restored server takes writes too.
    const res = await fetch(`${second.base}/api/v1/customers/after-restore`, {
      method: 'PUT',
      headers: { authorization: trackAuth, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(res.status).toBe(200);
  });

  it('refuses to overwrite a file unless --force', async () => {
    const home = await tempRosterHome('roster-backup-');
    homes.push(home);
    await rosterCli(home.dataDir, ['migrate'], home.env);
    const out = join(home.dataDir, 'exists.sqlite');
    writeFileSync(out, 'not a database');
    await expect(rosterCli(home.dataDir, ['backup', '--out', out], home.env)).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringContaining('--force'),
    });
    const printed = await rosterCli(home.dataDir, ['backup', '--out', out, '--force'], home.env);
    expect(printed).toContain('integrity_check: ok');
    const copy = new BetterSqlite3(out, { readonly: true });
    expect(copy.prepare('select count(*) as n from workspaces').get()).toEqual({ n: 0 });
    copy.close();
  });
});

describe.skipIf(testBackend !== 'postgres')('roster backup (PostgreSQL)', () => {
  it('explains that PostgreSQL is backed up with pg_dump, and exits 2', async () => {
    const home = await tempRosterHome('roster-backup-');
    homes.push(home);
    const out = join(home.dataDir, 'backup.sqlite');
    await expect(rosterCli(home.dataDir, ['backup', '--out', out], home.env)).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringContaining('pg_dump'),
    });
    expect(existsSync(out)).toBe(false);
  });
});
