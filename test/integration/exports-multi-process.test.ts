import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backendEnv } from '../helpers/backend.js';
import { freePort, startServeProcess, type ServeProcess } from '../helpers/roster-process.js';
import { startServer, TestWorkspace, type TestServer } from '../helpers/roster-server.js';

/**
 * Exports across processes on one database: the process that takes `POST /v1/exports/customers` need not be the one
 * that builds the CSV (the job is in the shared queue), nor the one that serves the download (the CSV is stored in
 * the database). Here the in-process server's job runner is stopped, so a `roster serve` child must run the export.
 */

let server: TestServer;
let child: ServeProcess;
let ws: TestWorkspace;
let viaChild: TestWorkspace;

beforeAll(async () => {
  server = await startServer();
  ws = await server.workspace();
  await server.roster.jobs.stop();
  child = await startServeProcess(server.dataDir, await freePort(), {
    ...backendEnv(server.databaseUrl),
    ROSTER_JOB_POLL_MS: '100',
  });
  viaChild = new TestWorkspace(child.base, ws.creds);
  for (const id of ['mp-1', 'mp-2', 'mp-3']) expect((await ws.identify(id, { plan: 'pro' })).status).toBe(200);
}, 60_000);

afterAll(async () => {
  child?.child.kill('SIGTERM');
  await child?.exited;
  await server?.close();
});

describe('an export queued by one process', () => {
  it('is built by another and downloadable from either', async () => {
    const created = await ws.app('POST', '/v1/exports/customers', {
      filters: { attribute: { field: 'plan', operator: 'eq', value: 'pro' } },
    });
    expect(created.status).toBe(200);
    const id = created.body.export.id as number;
    let status = 'pending';
    for (let i = 0; i < 300 && status === 'pending'; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      status = (await ws.app('GET', `/v1/exports/${id}`)).body.export.status;
    }
    expect(status).toBe('done');
    // The export is marked done by the job's handler; the job itself, just after the handler returns.
    const jobOf = async () =>
      (
        await server.roster.store.reader.selectFrom('jobs').selectAll().where('kind', '=', 'customers_export').execute()
      )[0]!;
    let job = await jobOf();
    for (let i = 0; i < 100 && job.status === 'running'; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      job = await jobOf();
    }
    expect(job.status).toBe('done');
    expect(job.claimed_by).not.toBe(server.roster.jobs.workerId);

    const texts: string[] = [];
    for (const w of [ws, viaChild]) {
      const link = await w.app('GET', `/v1/exports/${id}/download`);
      expect(link.status).toBe(200);
      for (const base of [ws.base, viaChild.base]) {
        const url = new URL(link.body.url as string);
        const res = await fetch(new URL(url.pathname + url.search, base));
        expect(res.status).toBe(200);
        texts.push(await res.text());
      }
    }
    expect(new Set(texts).size).toBe(1);
    expect(texts[0]!.split('\r\n').filter((l) => l !== '')).toHaveLength(4);
  }, 60_000);
});
