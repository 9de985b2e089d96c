/**
 * The writer applies a batch through a unit of work: people read once, identifies and events applied in memory and
 * written together at the end, other commands (delete, merge, suppress) applied directly between two flushes. This
 * checks it against the plain path: the same random call sequences are sent once as one v2 batch (one transaction)
 * and once one call per request, one after another (a transaction each), to two fresh workspaces, and both must end
 * with the same people, events, activities and integration log, and answer the same calls with the same errors.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IdentifierMode } from '../../src/domain/workspace.js';
import { prng } from '../helpers/reliability.js';
import { startServer, type TestServer, type TestWorkspace } from '../helpers/roster-server.js';

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await server?.close();
});

const BASE_TS = 1_700_000_000;

/** A sequence of v2 person operations on a few ids and emails, so they collide, rename, merge and repeat. */
function sequence(seed: number, length: number, identifiesAndEventsOnly = false): Record<string, unknown>[] {
  const { next: r, pick } = prng(seed);
  const ids = ['a', 'b', 'c', 'd', 'e'];
  const emails = ['a@x.io', 'b@x.io', 'C@X.io', 'd@x.io', 'e@x.io', 'f@x.io', 'g@x.io', 'H@x.io', 'i@x.io', 'j@x.io'];
  const ref = () => (r() < 0.6 ? { id: pick(ids) } : { email: pick(emails) });
  const ops: Record<string, unknown>[] = [];
  for (let i = 0; i < length; i++) {
    const timestamp = BASE_TS + i;
    const roll = identifiesAndEventsOnly ? r() * 0.72 : r();
    if (roll < 0.45) {
      const attributes: Record<string, unknown> = { n: i, plan: pick(['free', 'pro', null]) };
      if (r() < 0.6) attributes.email = r() < 0.1 ? null : pick(emails);
      if (r() < 0.3) attributes.id = pick(ids);
      if (r() < 0.1) attributes.unsubscribed = r() < 0.5;
      ops.push({ type: 'person', action: 'identify', identifiers: ref(), attributes, timestamp });
    } else if (roll < 0.72) {
      const op: Record<string, unknown> = {
        type: 'person',
        action: 'event',
        identifiers: ref(),
        name: pick(['v', 'w']),
      };
      if (r() < 0.3) op.id = `01HEVENT${Math.floor(r() * 6)}`;
      op.timestamp = timestamp;
      ops.push(op);
    } else if (roll < 0.76) ops.push({ type: 'person', action: 'delete', identifiers: ref() });
    else if (roll < 0.82) ops.push({ type: 'person', action: 'merge', primary: ref(), secondary: ref() });
    else if (roll < 0.87) ops.push({ type: 'person', action: 'suppress', identifiers: ref() });
    else if (roll < 0.9) ops.push({ type: 'person', action: 'unsuppress', identifiers: ref() });
    else ops.push({ type: 'person', action: 'page', identifiers: ref(), name: '/home', timestamp });
  }
  return ops;
}

/** Errors by batch index, from a 207 or from one request per operation. */
type Errors = Record<number, string[]>;

async function asOneBatch(ws: TestWorkspace, ops: Record<string, unknown>[]): Promise<Errors> {
  const reply = await ws.batch(ops);
  expect([200, 207]).toContain(reply.status);
  const errors: Errors = {};
  for (const e of (reply.body?.errors ?? []) as { batch_index: number; reason: string }[])
    (errors[e.batch_index] ??= []).push(e.reason);
  return errors;
}

async function oneByOne(ws: TestWorkspace, ops: Record<string, unknown>[]): Promise<Errors> {
  const errors: Errors = {};
  for (const [i, op] of ops.entries()) {
    const reply = await ws.entity(op);
    expect(reply.status).toBeLessThan(500);
    if (reply.status !== 200) errors[i] = ((reply.body?.errors ?? []) as { reason: string }[]).map((e) => e.reason);
  }
  return errors;
}

/** The stored state with what differs between two workspaces by design (keys, cio_ids, arrival times) left out. */
async function state(ws: TestWorkspace, on: TestServer = server) {
  const dump = await on.dump(ws);
  const people = dump.people as {
    pk: number;
    id: string | null;
    email: string | null;
    attributes: string;
    unsubscribed: number;
    created_at_s: number;
  }[];
  const name = new Map(people.map((p) => [p.pk, `${p.id ?? '-'}/${p.email ?? '-'}`]));
  const who = (pk: number | null) => (pk === null ? 'anonymous' : (name.get(pk) ?? `gone`));
  const log = await ws.request('GET', '/v1/activities?limit=1000', undefined, `Bearer ${ws.creds.app_api_key}`);
  return {
    people: people
      .map((p) => ({
        who: who(p.pk),
        attributes: JSON.parse(p.attributes),
        unsubscribed: p.unsubscribed,
        created: p.created_at_s < BASE_TS + 1000 ? p.created_at_s : 'on arrival',
      }))
      .sort((a, b) => a.who.localeCompare(b.who)),
    events: (
      dump.events as { person_pk: number | null; name: string; event_id: string | null; ts: number; merged: number }[]
    )
      .map((e) => `${who(e.person_pk)} ${e.name} ${e.event_id ?? ''} ${e.ts} ${e.merged}`)
      .sort(),
    activities: (dump.activities as { pk: number; person_pk: number; type: string }[])
      .sort((a, b) => a.pk - b.pk)
      .map((a) => `${who(a.person_pk)} ${a.type}`),
    suppressions: (dump.suppressions as { kind: string; value: string }[]).map((s) => `${s.kind}:${s.value}`).sort(),
    log: ((log.body?.activities ?? []) as { type: string }[]).map((a) => a.type).sort(),
  };
}

describe('a batch through the unit of work ends where one call per transaction ends', () => {
  const cases: [IdentifierMode, boolean, number][] = [];
  for (const mode of ['email_or_id', 'id_only'] as const)
    for (const allowEmailUpdateById of [false, true])
      for (let seed = 1; seed <= 8; seed++) cases.push([mode, allowEmailUpdateById, seed]);

  it.each(cases)('%s, email updates by id %s, seed %i: same state and errors', async (mode, allow, seed) => {
    const ops = sequence(seed * 7919, 120);
    const batched = await server.workspace({ identifiers: mode, allowEmailUpdateById: allow });
    const single = await server.workspace({ identifiers: mode, allowEmailUpdateById: allow });
    const batchErrors = await asOneBatch(batched, ops);
    const singleErrors = await oneByOne(single, ops);
    expect(batchErrors).toEqual(singleErrors);
    expect(await state(batched)).toEqual(await state(single));
  });
});

describe('a batch split over several transactions in flight at once ends where one call per transaction ends', () => {
  // Batches of 7 commands, three in flight (PostgreSQL; SQLite has one writer): each waits for the one before it
  // to hold its locks, so commands on the same person still apply in the order sent.
  let small: TestServer;
  beforeAll(async () => {
    small = await startServer({ writer: { maxBatch: 7, writers: 3 } });
  });
  afterAll(async () => {
    await small?.close();
  });

  // Activities are compared person by person: batches on different people may commit in either order.
  const perPerson = (s: Awaited<ReturnType<typeof state>>) => ({
    ...s,
    activities: [...s.activities].sort((a, b) => a.split(' ')[0]!.localeCompare(b.split(' ')[0]!)),
  });

  it.each([1, 2, 3, 4, 5, 6].flatMap((seed) => [[seed, true] as const, [seed, false] as const]))(
    'seed %i, identifies and events only %s: same state and errors',
    async (seed, identifiesAndEventsOnly) => {
      const ops = sequence(seed * 104729, 160, identifiesAndEventsOnly);
      const batched = await small.workspace();
      const single = await server.workspace();
      const batchErrors = await asOneBatch(batched, ops);
      const singleErrors = await oneByOne(single, ops);
      expect(batchErrors).toEqual(singleErrors);
      expect(perPerson(await state(batched, small))).toEqual(perPerson(await state(single, server)));
    },
  );
});
