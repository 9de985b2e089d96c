import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort, printedCredentials, startServeProcess, type ServeProcess } from '../helpers/roster-process.js';

const dirs: string[] = [];
const procs: ServeProcess[] = [];
afterEach(async () => {
  for (const p of procs.splice(0)) {
    if (p.child.exitCode === null) p.child.kill('SIGKILL');
    await p.exited;
  }
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function start(dir: string) {
  const proc = await startServeProcess(dir, await freePort());
  procs.push(proc);
  return proc;
}

/** Sends identifies for `ids` concurrently; resolves with the ids that were answered 200. */
async function identifyAll(base: string, auth: string, ids: string[]): Promise<string[]> {
  const acked: string[] = [];
  await Promise.all(
    ids.map(async (id) => {
      try {
        const r = await fetch(`${base}/api/v1/customers/${id}`, {
          method: 'PUT',
          headers: { authorization: auth, 'content-type': 'application/json' },
          body: JSON.stringify({ marker: id }),
        });
        await r.arrayBuffer();
        if (r.status === 200) acked.push(id);
      } catch {
        // The server went away mid-request: not acknowledged, so nothing is promised.
      }
    }),
  );
  return acked;
}

/** Asks the App API which of the ids exist with their marker. */
async function present(base: string, appKey: string, ids: string[]): Promise<Set<string>> {
  const found = new Set<string>();
  for (let i = 0; i < ids.length; i += 50) {
    await Promise.all(
      ids.slice(i, i + 50).map(async (id) => {
        const r = await fetch(`${base}/v1/customers/${id}/attributes`, {
          headers: { authorization: `Bearer ${appKey}` },
        });
        const body = (await r.json()) as { customer?: { attributes: Record<string, string> } };
        if (r.status === 200 && body.customer?.attributes.marker === id) found.add(id);
      }),
    );
  }
  return found;
}

describe('durability', () => {
  it('SIGTERM lets in-flight requests finish and commit, then exits 0', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'roster-term-'));
    dirs.push(dir);
    const first = await start(dir);
    const creds = printedCredentials(first.output());
    const auth = `Basic ${Buffer.from(`${creds.site_id}:${creds.track_api_key}`).toString('base64')}`;
    const ids = Array.from({ length: 400 }, (_, i) => `term-${i}`);
    const sending = identifyAll(first.base, auth, ids);
    setTimeout(() => first.child.kill('SIGTERM'), 30);
    const acked = await sending;
    expect(await first.exited).toBe(0);

    const second = await start(dir);
    const found = await present(second.base, creds.app_api_key!, ids);
    for (const id of acked) expect(found.has(id), `${id} was acknowledged`).toBe(true);
  });

  it('every acknowledged identify survives SIGKILL, over several kill/restart cycles', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'roster-kill-'));
    dirs.push(dir);
    let proc = await start(dir);
    const creds = printedCredentials(proc.output());
    const auth = `Basic ${Buffer.from(`${creds.site_id}:${creds.track_api_key}`).toString('base64')}`;
    const acked: string[] = [];
    for (let cycle = 0; cycle < 3; cycle++) {
      const ids = Array.from({ length: 600 }, (_, i) => `kill-${cycle}-${i}`);
      const sending = identifyAll(proc.base, auth, ids);
      setTimeout(() => proc.child.kill('SIGKILL'), 20 + Math.floor(Math.random() * 80));
      acked.push(...(await sending));
      await proc.exited;
      proc = await start(dir);
    }
    expect(acked.length).toBeGreaterThan(0);
    const found = await present(proc.base, creds.app_api_key!, acked);
    expect(acked.filter((id) => !found.has(id))).toEqual([]);
  });
});
