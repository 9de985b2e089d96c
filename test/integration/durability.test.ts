import { afterEach, describe, expect, it } from 'vitest';
import {
  freePort,
  printedCredentials,
  startServeProcess,
  tempRosterHome,
  type RosterHome,
  type ServeProcess,
} from '../helpers/roster-process.js';

const homes: RosterHome[] = [];
const procs: ServeProcess[] = [];
afterEach(async () => {
  for (const p of procs.splice(0)) {
    if (p.child.exitCode === null) p.child.kill('SIGKILL');
    await p.exited;
  }
  for (const home of homes.splice(0)) await home.remove();
});

async function start(home: RosterHome) {
  const proc = await startServeProcess(home.dataDir, await freePort(), home.env);
  procs.push(proc);
  return proc;
}

/** Sends identifies for `ids` concurrently, pushing each id answered 200 into `acked` as it comes. */
async function identifyAll(base: string, auth: string, ids: string[], acked: string[] = []): Promise<string[]> {
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

/** Waits until at least one more request than before has been acknowledged (at most 10 s). */
async function firstAck(acked: string[]): Promise<void> {
  const before = acked.length;
  const deadline = Date.now() + 10_000;
  while (acked.length === before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 2));
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
    const dir = await tempRosterHome('roster-term-');
    homes.push(dir);
    const first = await start(dir);
    const creds = printedCredentials(first.output());
    const auth = `Basic ${Buffer.from(`${creds.site_id}:${creds.track_api_key}`).toString('base64')}`;
    const ids = Array.from({ length: 400 }, (_, i) => `term-${i}`);
    const acked: string[] = [];
    const sending = identifyAll(first.base, auth, ids, acked);
    await firstAck(acked);
    first.child.kill('SIGTERM');
    await sending;
    expect(await first.exited).toBe(0);

    const second = await start(dir);
    const found = await present(second.base, creds.app_api_key!, ids);
    for (const id of acked) expect(found.has(id), `${id} was acknowledged`).toBe(true);
  });

  it('every acknowledged identify survives SIGKILL, over several kill/restart cycles', async () => {
    const dir = await tempRosterHome('roster-kill-');
    homes.push(dir);
    let proc = await start(dir);
    const creds = printedCredentials(proc.output());
    const auth = `Basic ${Buffer.from(`${creds.site_id}:${creds.track_api_key}`).toString('base64')}`;
    const acked: string[] = [];
    for (let cycle = 0; cycle < 3; cycle++) {
      const ids = Array.from({ length: 600 }, (_, i) => `kill-${cycle}-${i}`);
      const sending = identifyAll(proc.base, auth, ids, acked);
      // Kill while requests are in flight: some acknowledged, some not yet.
      await firstAck(acked);
      await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 30)));
      proc.child.kill('SIGKILL');
      await sending;
      await proc.exited;
      proc = await start(dir);
    }
    expect(acked.length).toBeGreaterThan(0);
    const found = await present(proc.base, creds.app_api_key!, acked);
    expect(acked.filter((id) => !found.has(id))).toEqual([]);
  });
});
