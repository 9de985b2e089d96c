import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type * as PeopleModule from '../../src/store/people.js';
import { startServer, type TestServer, type TestWorkspace } from '../helpers/roster-server.js';

/**
 * A new person's cio_id is random (41 bits, src/store/people.ts), so two people may one day draw the same one. The
 * unique index (workspace_pk, cio_id) refuses the second; the writer re-runs the batch, which draws a fresh cio_id,
 * and the call succeeds. The generator is made to repeat an existing cio_id here (the only thing not real).
 */
const forced: string[] = [];
vi.mock('../../src/store/people.js', async (importOriginal) => {
  const real = await importOriginal<typeof PeopleModule>();
  return { ...real, newCioId: (now?: number) => forced.shift() ?? real.newCioId(now) };
});

let server: TestServer;
let ws: TestWorkspace;

beforeAll(async () => {
  server = await startServer();
  ws = await server.workspace();
});

afterAll(async () => {
  await server?.close();
});

interface Row {
  id: string | null;
  cio_id: string;
}
const people = async (): Promise<Row[]> =>
  ((await server.dump(ws)).people as Row[])
    .map(({ id, cio_id }) => ({ id, cio_id }))
    .sort((a, b) => (a.id! < b.id! ? -1 : 1));

describe('a cio_id drawn twice', () => {
  it('one identify: the person is created under a fresh cio_id, the holder is untouched', async () => {
    expect((await ws.identify('first', { plan: 'a' })).status).toBe(200);
    const [first] = await people();
    forced.push(first!.cio_id);
    expect((await ws.identify('second', { plan: 'b' })).status).toBe(200);
    expect(forced).toEqual([]); // the colliding draw was used
    const after = await people();
    expect(after.map((p) => p.id)).toEqual(['first', 'second']);
    expect(after[0]).toEqual(first);
    expect(after[1]!.cio_id).not.toBe(first!.cio_id);
    expect((await ws.person('second')).attributes.plan).toBe('b');
  });

  it('a batch: every new person is created, each with a cio_id of their own', async () => {
    const before = await people();
    forced.push(before[0]!.cio_id, before[1]!.cio_id);
    const r = await ws.batch(
      ['x1', 'x2', 'x3'].map((id) => ({
        type: 'person',
        action: 'identify',
        identifiers: { id },
        attributes: { n: id },
      })),
    );
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(forced).toEqual([]);
    const after = await people();
    expect(after.map((p) => p.id)).toEqual(['first', 'second', 'x1', 'x2', 'x3']);
    expect(new Set(after.map((p) => p.cio_id)).size).toBe(5);
    expect(after.slice(0, 2)).toEqual(before);
  });
});
