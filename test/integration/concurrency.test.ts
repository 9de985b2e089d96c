/**
 * identity.md, Concurrency: under any number of concurrent calls and server processes, two calls can never create
 * two people with the same id or email, and no acknowledged change is lost. Identifies race over real HTTP on the
 * same 20 people, half by id with the email in the body, half by email (in varying case) with the id in the body.
 */
import { backendEnv } from '../helpers/backend.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startServeProcess, type ServeProcess } from '../helpers/roster-process.js';
import { startServer, TestWorkspace, type Reply, type TestServer } from '../helpers/roster-server.js';

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await server?.close();
});

const PEOPLE = 20;
const idOf = (k: number) => `racer-${k}`;
const emailOf = (k: number) => `racer-${k}@example.com`;

/** `calls` identifies on PEOPLE people, sent all at once; call i goes through `via(i)`. */
function race(calls: number, via: (i: number) => TestWorkspace): Promise<Reply[]> {
  return Promise.all(
    Array.from({ length: calls }, (_, i) => {
      const k = i % PEOPLE;
      const round = Math.floor(i / PEOPLE);
      const attrs = { [`seen_${round}`]: true, last_call: i };
      if ((i + round) % 2 === 0) return via(i).identify(idOf(k), { email: emailOf(k), ...attrs });
      const email = round % 3 === 0 ? emailOf(k).toUpperCase() : emailOf(k);
      return via(i).identify(email, { id: idOf(k), ...attrs });
    }),
  );
}

/** Every call answered 200, and each of the PEOPLE is one person holding both identifiers and every round's change. */
async function expectOnePersonEach(ws: TestWorkspace, replies: Reply[]) {
  expect(replies.filter((r) => r.status >= 500).map((r) => r.body)).toEqual([]);
  // Every call agrees with the others on who each person is, so none is a conflict.
  expect(replies.map((r) => r.status)).toEqual(Array(replies.length).fill(200));

  const cioIds = new Set<string>();
  for (let k = 0; k < PEOPLE; k++) {
    const byEmail = await ws.byEmail(emailOf(k));
    expect(byEmail, `one person holds ${emailOf(k)}`).toHaveLength(1);
    expect(byEmail[0]!.id).toBe(idOf(k));
    const p = await ws.person(idOf(k));
    expect(p).not.toBeNull();
    expect(p.identifiers.cio_id).toBe(byEmail[0]!.cio_id);
    expect(p.identifiers.email.toLowerCase()).toBe(emailOf(k));
    // No acknowledged change was lost: every round's attribute reached the one person.
    for (let round = 0; round < replies.length / PEOPLE; round++) expect(p.attributes[`seen_${round}`]).toBe('true');
    cioIds.add(p.identifiers.cio_id);
  }
  expect(cioIds.size).toBe(PEOPLE);
}

describe('concurrent identifies', () => {
  it('200 racing identifies on 20 ids/emails leave exactly one person per identifier, with no 5xx', async () => {
    const ws = await server.workspace();
    await expectOnePersonEach(ws, await race(200, () => ws));
  });

  describe('across server processes on one data file', () => {
    const processes: ServeProcess[] = [];
    afterAll(async () => {
      for (const p of processes) {
        p.child.kill('SIGTERM');
        await p.exited;
      }
    });

    it('900 identifies spread over three processes leave exactly one person per identifier, with no 5xx', async () => {
      const ws = await server.workspace();
      for (let n = 0; n < 2; n++)
        processes.push(await startServeProcess(server.dataDir, await freePort(), backendEnv(server.databaseUrl)));
      const via = [ws, ...processes.map((p) => new TestWorkspace(p.base, ws.creds))];
      await expectOnePersonEach(ws, await race(900, (i) => via[i % via.length]!));
    });
  });
});
