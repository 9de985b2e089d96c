/**
 * identity.md, Concurrency: the rules hold under any number of concurrent calls and server processes. Three Roster
 * processes on one database (the in-process server and two `roster serve` children) take a fixed number of requests
 * drawn by a seeded random generator: identifies by id with an email and by email with an id, lead → customer
 * conversions, events with ids (some sent twice, some twice at once), anonymous events, merges, deletes, rare
 * suppress/unsuppress and v2 batches mixing them, all racing on a small pool of ids and emails. Afterwards the
 * stored state is checked against the rules by invariants (not a snapshot, since the interleaving differs each run).
 *
 * The pool is split into two partitions that never meet in one request, so no person ever holds identifiers of both:
 * - stable: never deleted or suppressed, so every acknowledged event and every rule C answer on it must be stored;
 * - volatile: deleted, suppressed and unsuppressed too, so what it loses must be explained by a removal.
 *
 * ROSTER_RACE_SEED=<n> replays a seed's requests (the seed is printed when the test fails); the interleaving of the
 * three processes is the machine's.
 */
import type { Selectable } from 'kysely';
import { randomInt } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { normalizeEmail } from '../../src/domain/identifiers.js';
import type { Database } from '../../src/store/schema.js';
import { backendEnv, testBackend } from '../helpers/backend.js';
import { freePort, startServeProcess, type ServeProcess } from '../helpers/roster-process.js';
import { startServer, TestWorkspace, type Reply, type TestServer } from '../helpers/roster-server.js';
import { prng } from '../helpers/reliability.js';

const REQUESTS = 1500;
const IN_FLIGHT = 48;
const POOL = 6; // ids, emails per partition (12 of each in all)
const ANONS = 3; // anonymous ids per partition

const seed = process.env.ROSTER_RACE_SEED ? Number(process.env.ROSTER_RACE_SEED) >>> 0 : randomInt(2 ** 32);

// ---------------------------------------------------------------------------------------------------------------
// ---------------------------------------------------------------------------------------------------------------
// The pool and the requests.

type Part = 'stable' | 'volatile';
const prefix = (part: Part) => (part === 'stable' ? 's' : 'v');
const idOf = (part: Part, k: number) => `${prefix(part)}-user-${k}`;
const emailOf = (part: Part, k: number) => `${prefix(part)}-${k}@example.com`;
const anonOf = (part: Part, k: number) => `${prefix(part)}-anon-${k}`;
/** The partition an identifier (id, email in any case, anonymous id, event id) belongs to. */
const partOf = (value: string): Part => (value.toLowerCase().startsWith('s-') ? 'stable' : 'volatile');

type Op =
  | { type: 'identify'; ref: string; body: Record<string, unknown> }
  | { type: 'event'; ref: string; eventId: string }
  | { type: 'anon_event'; anonymousId: string; eventId: string }
  | { type: 'merge'; primary: Record<string, string>; secondary: Record<string, string> }
  | { type: 'delete' | 'suppress' | 'unsuppress'; ref: string };

/** One request: a single Track v1 call, a v2 `/entity` call, or a v2 `/batch` of operations. */
interface Planned {
  index: number;
  part: Part;
  transport: 'v1' | 'entity' | 'batch';
  ops: Op[];
}

const rulesC = new Set(['identifier_in_use', 'identifier_change_requires_cio_id']);

/** How one operation of a request ended. */
interface OpResult {
  status: 'ok' | 'conflict' | 'error';
  /** Rule C messages (conflict), or the error code. */
  messages: string[];
  code?: string;
}

interface Done {
  plan: Planned;
  via: number;
  /** Date.now() when sent and answered: the servers' clocks are this machine's. */
  start: number;
  end: number;
  reply: Reply;
  results: OpResult[];
}

/** The whole run's requests, drawn from the seed. */
function planRequests(s: number): Planned[] {
  const r = prng(s);
  const plans: Planned[] = [];
  // Operations scheduled for a later request: events sent again, leads converted to customers.
  const later: { at: number; part: Part; op: Op }[] = [];
  let eventSeq = 0;

  const anEmail = (part: Part, k = r.int(POOL)) => {
    const e = emailOf(part, k);
    return r.chance(0.2) ? e.toUpperCase() : e; // emails are matched case-insensitively
  };
  const aRef = (part: Part) => (r.chance(0.6) ? idOf(part, r.int(POOL)) : anEmail(part));
  const anIdentifier = (part: Part): Record<string, string> =>
    r.chance(0.5) ? { id: idOf(part, r.int(POOL)) } : { email: anEmail(part) };
  const attrs = (i: number): Record<string, unknown> => {
    const a: Record<string, unknown> = { n: i, [`k${r.int(8)}`]: r.int(100) };
    if (r.chance(0.1)) a.plan = r.pick(['free', 'pro', null]);
    return a;
  };
  const withAnon = (part: Part, body: Record<string, unknown>) =>
    r.chance(0.1) ? { ...body, anonymous_id: anonOf(part, r.int(ANONS)) } : body;
  const newEventId = () => `ev-${eventSeq++}`;

  function eventOp(part: Part, i: number): Op {
    const op: Op = { type: 'event', ref: aRef(part), eventId: `${prefix(part)}-${newEventId()}` };
    // Some events are sent again: often right away (both in flight at once), else a little later.
    if (r.chance(0.15)) later.push({ at: i + 1 + (r.chance(0.5) ? 0 : r.int(60)), part, op });
    return op;
  }

  function randomOp(part: Part, i: number): Op {
    const x = r.next() * (part === 'stable' ? 0.9 : 1);
    if (x < 0.22)
      return {
        type: 'identify',
        ref: idOf(part, r.int(POOL)),
        body: withAnon(part, { email: anEmail(part), ...attrs(i) }),
      };
    if (x < 0.36)
      return {
        type: 'identify',
        ref: anEmail(part),
        body: withAnon(part, { id: idOf(part, r.int(POOL)), ...attrs(i) }),
      };
    if (x < 0.43) {
      // A lead by email, converted to a customer (id + email) a few requests later.
      const k = r.int(POOL);
      const conversion: Op = {
        type: 'identify',
        ref: idOf(part, r.int(POOL)),
        body: { email: anEmail(part, k), ...attrs(i) },
      };
      later.push({ at: i + 1 + r.int(20), part, op: conversion });
      return { type: 'identify', ref: anEmail(part, k), body: attrs(i) };
    }
    if (x < 0.47) return { type: 'identify', ref: idOf(part, r.int(POOL)), body: withAnon(part, attrs(i)) };
    if (x < 0.69) return eventOp(part, i);
    if (x < 0.74)
      return {
        type: 'anon_event',
        anonymousId: anonOf(part, r.int(ANONS)),
        eventId: `${prefix(part)}-${newEventId()}`,
      };
    if (x < 0.83) return { type: 'merge', primary: anIdentifier(part), secondary: anIdentifier(part) };
    if (x < 0.9) return eventOp(part, i);
    // volatile only from here
    if (x < 0.97) return { type: 'delete', ref: aRef(part) };
    // Rarely suppressed, unsuppressed twice as often, so the volatile pool is not all suppressed by the end.
    if (x < 0.98) return { type: 'suppress', ref: aRef(part) };
    return { type: 'unsuppress', ref: aRef(part) };
  }

  for (let i = 0; i < REQUESTS; i++) {
    const due = later.findIndex((l) => l.at <= i);
    if (due >= 0) {
      const [{ part, op }] = later.splice(due, 1) as [(typeof later)[number]];
      plans.push({ index: i, part, transport: r.pick(['v1', 'v1', 'entity', 'batch'] as const), ops: [op] });
      continue;
    }
    const part: Part = r.chance(0.5) ? 'stable' : 'volatile';
    if (r.chance(0.14)) {
      const ops = Array.from({ length: 2 + r.int(5) }, () => randomOp(part, i));
      plans.push({ index: i, part, transport: 'batch', ops });
    } else {
      plans.push({ index: i, part, transport: r.chance(0.12) ? 'entity' : 'v1', ops: [randomOp(part, i)] });
    }
  }
  return plans;
}

// ---------------------------------------------------------------------------------------------------------------
// Sending, and reading the answers.

const v2Identifiers = (ref: string) => (ref.includes('@') ? { email: ref } : { id: ref });

function v2Operation(op: Op): Record<string, unknown> {
  switch (op.type) {
    case 'identify':
      return { type: 'person', action: 'identify', identifiers: v2Identifiers(op.ref), attributes: op.body };
    case 'event':
      return { type: 'person', action: 'event', identifiers: v2Identifiers(op.ref), name: 'race', id: op.eventId };
    case 'anon_event':
      return {
        type: 'person',
        action: 'event',
        identifiers: { anonymous_id: op.anonymousId },
        name: 'race',
        id: op.eventId,
      };
    case 'merge':
      return { type: 'person', action: 'merge', primary: op.primary, secondary: op.secondary };
    default:
      return { type: 'person', action: op.type, identifiers: v2Identifiers(op.ref) };
  }
}

function sendV1(ws: TestWorkspace, op: Op): Promise<Reply> {
  switch (op.type) {
    case 'identify':
      return ws.identify(op.ref, op.body);
    case 'event':
      return ws.track(op.ref, { name: 'race', id: op.eventId, data: { via: 'v1' } });
    case 'anon_event':
      return ws.anonymousEvent({ anonymous_id: op.anonymousId, name: 'race', id: op.eventId });
    case 'merge':
      return ws.merge(op.primary, op.secondary);
    case 'delete':
      return ws.delete(op.ref);
    case 'suppress':
      return ws.suppress(op.ref);
    case 'unsuppress':
      return ws.unsuppress(op.ref);
  }
}

function send(ws: TestWorkspace, plan: Planned): Promise<Reply> {
  if (plan.transport === 'v1') return sendV1(ws, plan.ops[0]!);
  if (plan.transport === 'entity') return ws.entity(v2Operation(plan.ops[0]!));
  return ws.batch(plan.ops.map(v2Operation));
}

/** Each operation's outcome, from the answer in its API's shape. */
function readResults(plan: Planned, reply: Reply): OpResult[] {
  const ok: OpResult = { status: 'ok', messages: [] };
  const error = (code: string): OpResult => ({ status: 'error', messages: [], code });
  if (reply.status === 200) return plan.ops.map(() => ok);
  if (plan.transport === 'batch') {
    if (reply.status !== 207) return plan.ops.map(() => error(`http_${reply.status}`));
    const errors = (reply.body?.errors ?? []) as { batch_index: number; reason: string; message: string }[];
    return plan.ops.map((_, i) => {
      const mine = errors.filter((e) => e.batch_index === i);
      if (mine.length === 0) return ok;
      if (mine.every((e) => rulesC.has(e.reason))) return { status: 'conflict', messages: mine.map((e) => e.message) };
      return error(mine.map((e) => e.reason).join(','));
    });
  }
  if (plan.transport === 'entity') {
    const errors = (reply.body?.errors ?? []) as { reason: string; message: string }[];
    if (reply.status === 409 && errors.every((e) => rulesC.has(e.reason)))
      return [{ status: 'conflict', messages: errors.map((e) => e.message) }];
    return [error(errors.map((e) => e.reason).join(',') || `http_${reply.status}`)];
  }
  if (reply.status === 409 && rulesC.has(reply.body?.meta?.code))
    return [{ status: 'conflict', messages: reply.body.meta.errors as string[] }];
  return [error(reply.body?.meta?.code ?? `http_${reply.status}`)];
}

/** What each operation may answer under the rules; anything else (5xx above all) is a failure. */
function allowed(op: Op, result: OpResult): boolean {
  if (result.status === 'ok') return true;
  if (op.type === 'identify') return result.status === 'conflict';
  // A merge of someone not (or no longer) there is 404; of one person with themself (by two of their keys) 400.
  if (op.type === 'merge') return result.code === 'person_not_found' || result.code === 'invalid_merge';
  return false;
}

async function runAll(plans: Planned[], via: TestWorkspace[]): Promise<Done[]> {
  const done: Done[] = [];
  let next = 0;
  async function worker() {
    while (next < plans.length) {
      const plan = plans[next++]!;
      const v = plan.index % via.length;
      const start = Date.now();
      let reply: Reply;
      try {
        reply = await send(via[v]!, plan);
      } catch (err) {
        reply = { status: 0, body: String(err) }; // the connection failed: as bad as a 5xx
      }
      done[plan.index] = { plan, via: v, start, end: Date.now(), reply, results: readResults(plan, reply) };
    }
  }
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  return done;
}

// ---------------------------------------------------------------------------------------------------------------
// The invariants.

type Row<T extends keyof Database> = Selectable<Database[T]>;

function countBy<T>(xs: T[], key: (x: T) => string): Map<string, number> {
  const m = new Map<string, number>();
  for (const x of xs) m.set(key(x), (m.get(key(x)) ?? 0) + 1);
  return m;
}

const isPlainObject = (v: unknown) => v !== null && typeof v === 'object' && !Array.isArray(v);
const parses = (text: string) => {
  try {
    return isPlainObject(JSON.parse(text));
  } catch {
    return false;
  }
};

/** Every identifier the run could have given anyone. */
const poolIds = new Set(
  (['stable', 'volatile'] as const).flatMap((p) => Array.from({ length: POOL }, (_, k) => idOf(p, k))),
);
const poolEmails = new Set(
  (['stable', 'volatile'] as const).flatMap((p) => Array.from({ length: POOL }, (_, k) => emailOf(p, k))),
);

describe('many processes racing on one database', () => {
  let server: TestServer;
  const processes: ServeProcess[] = [];
  beforeAll(async () => {
    server = await startServer();
    const env = backendEnv(server.databaseUrl);
    processes.push(
      ...(await Promise.all([0, 1].map(async () => startServeProcess(server.dataDir, await freePort(), env)))),
    );
  });
  afterAll(async () => {
    for (const p of processes) {
      p.child.kill('SIGTERM');
      await p.exited;
    }
    await server?.close();
  });

  it(`${REQUESTS} mixed identifies, conversions, events, merges, deletes and batches over three processes keep the rules`, async ({
    onTestFailed,
  }) => {
    const ws = await server.workspace();
    const via = [ws, ...processes.map((p) => new TestWorkspace(p.base, ws.creds))];
    let done: Done[] = [];
    onTestFailed(() => {
      const file = join(tmpdir(), `roster-race-${testBackend}-${seed}.json`);
      writeFileSync(file, JSON.stringify(done, null, 1));
      console.error(
        `multi-process race failed on ${testBackend}: seed ${seed} (replay with ROSTER_RACE_SEED=${seed}); ` +
          `every request and answer in ${file}\n` +
          // What each `roster serve` said after its start-up banner (errors, stack traces).
          processes
            .map(
              (p, i) =>
                `--- roster serve #${i + 1}:\n${p
                  .output()
                  .split(/Data: .*\n/)
                  .pop()!
                  .slice(-4000)}`,
            )
            .join('\n'),
      );
    });
    done = await runAll(planRequests(seed), via);

    // No 5xx, no broken connection: a lost race is retried inside the server, never surfaced.
    const faults = done.filter((d) => d.reply.status >= 500 || d.reply.status === 0);
    expect(
      faults.map((d) => ({
        request: d.plan.index,
        via: d.via,
        ops: d.plan.ops,
        status: d.reply.status,
        body: d.reply.body,
      })),
      `seed ${seed}: 5xx answers`,
    ).toEqual([]);

    // Every operation answered as the rules allow.
    const unexpected = done.flatMap((d) =>
      d.plan.ops.flatMap((op, i) =>
        allowed(op, d.results[i]!) ? [] : [{ request: d.plan.index, op, result: d.results[i], reply: d.reply.body }],
      ),
    );
    expect(unexpected, `seed ${seed}: answers the rules do not allow`).toEqual([]);

    // The run raced for real: conflicts, merges and deletes all happened.
    const flat = done.flatMap((d) => d.plan.ops.map((op, i) => ({ d, op, result: d.results[i]! })));
    const okOf = (type: Op['type']) => flat.filter((x) => x.op.type === type && x.result.status === 'ok').length;
    expect(flat.filter((x) => x.result.status === 'conflict').length).toBeGreaterThan(0);
    expect(okOf('merge')).toBeGreaterThan(0);
    expect(okOf('delete')).toBeGreaterThan(0);

    const dump = await server.dump(ws);
    const people = dump.people as Row<'people'>[];
    const events = dump.events as Row<'events'>[];
    const activities = dump.activities as Row<'activities'>[];
    const anonymousIds = dump.anonymous_ids as Row<'anonymous_ids'>[];
    const devices = dump.devices as Row<'devices'>[];
    const suppressions = dump.suppressions as Row<'suppressions'>[];
    const db = server.roster.store.reader;
    const { pk: workspacePk } = await db
      .selectFrom('workspaces')
      .select('pk')
      .where('site_id', '=', ws.creds.site_id)
      .executeTakeFirstOrThrow();
    const log = await db.selectFrom('integration_log').selectAll().where('workspace_pk', '=', workspacePk).execute();

    // --- People: no id or email belongs to two people; every row is well-formed.
    const dupes = (values: (string | null)[]) =>
      [
        ...countBy(
          values.filter((v): v is string => v !== null),
          (v) => v,
        ),
      ]
        .filter(([, n]) => n > 1)
        .map(([v]) => v);
    expect(dupes(people.map((p) => p.cio_id)), 'cio_ids are unique').toEqual([]);
    expect(dupes(people.map((p) => p.id)), 'no id belongs to two people').toEqual([]);
    expect(dupes(people.map((p) => p.email_key)), 'no email belongs to two people').toEqual([]);
    expect(
      dupes(people.map((p) => (p.email === null ? null : normalizeEmail(p.email)))),
      'no email belongs to two people, in any case',
    ).toEqual([]);
    const badPeople = people.flatMap((p) => {
      const problems: string[] = [];
      const norm = p.email === null ? null : normalizeEmail(p.email);
      if (!parses(p.attributes)) problems.push('attributes do not parse');
      if (!parses(p.attribute_ts)) problems.push('attribute timestamps do not parse');
      if (p.email_key !== norm || p.email_norm !== norm) problems.push('email keys disagree with the email');
      if (p.id === null && p.email === null) problems.push('neither id nor email: no one can find this person');
      if (p.id !== null && !poolIds.has(p.id)) problems.push('an id no call sent');
      if (norm !== null && !poolEmails.has(norm)) problems.push('an email no call sent');
      if (p.id !== null && norm !== null && partOf(p.id) !== partOf(norm))
        problems.push('identifiers from two requests that never met');
      if (parses(p.attributes) && (JSON.parse(p.attributes).unsubscribed === true) !== (p.unsubscribed === 1))
        problems.push('unsubscribed flag disagrees with the attribute');
      return problems.length ? [{ person: p, problems }] : [];
    });
    expect(badPeople, 'every person is well-formed').toEqual([]);

    // --- Suppressed identifiers are never re-added (identity.md, Delete and suppress).
    const heldSuppressed = suppressions.filter((s) =>
      people.some((p) => (s.kind === 'id' ? p.id === s.value : p.email_key === s.value)),
    );
    expect(heldSuppressed, 'no person holds a suppressed identifier').toEqual([]);

    // --- Nothing points at a person who is gone.
    const personPks = new Set(people.map((p) => p.pk));
    const dangling = [
      ...events.filter((e) => e.person_pk !== null && !personPks.has(e.person_pk)).map((e) => ({ event: e })),
      ...activities.filter((a) => !personPks.has(a.person_pk)).map((a) => ({ activity: a })),
      ...anonymousIds.filter((a) => !personPks.has(a.person_pk)).map((a) => ({ anonymous_id: a })),
      ...devices.filter((a) => !personPks.has(a.person_pk)).map((a) => ({ device: a })),
    ];
    expect(dangling, 'no row belongs to a deleted person').toEqual([]);

    // --- Anonymous ids: linked at most once; a linked id has no events left waiting under it.
    expect(dupes(anonymousIds.map((a) => a.anonymous_id)), 'no anonymous id linked twice').toEqual([]);
    const linked = new Map(anonymousIds.map((a) => [a.anonymous_id, a.person_pk]));
    const unadopted = events.filter(
      (e) => e.person_pk === null && e.anonymous_id !== null && linked.has(e.anonymous_id),
    );
    expect(unadopted, 'events of a linked anonymous id belong to its person').toEqual([]);

    // --- Events: each acknowledged event id stored at most once, exactly once unless its person was removed.
    interface Sent {
      eventId: string;
      ref: string;
      sends: number;
      acked: number;
      firstStart: number;
    }
    const sent = new Map<string, Sent>();
    for (const { d, op, result } of flat) {
      if (op.type !== 'event' && op.type !== 'anon_event') continue;
      const ref = op.type === 'event' ? op.ref : op.anonymousId;
      const s = sent.get(op.eventId) ?? { eventId: op.eventId, ref, sends: 0, acked: 0, firstStart: Infinity };
      s.sends++;
      if (result.status === 'ok') {
        s.acked++;
        s.firstStart = Math.min(s.firstStart, d.start);
      }
      sent.set(op.eventId, s);
    }
    const removals = flat.filter(
      (x) => (x.op.type === 'delete' || x.op.type === 'suppress') && x.result.status === 'ok',
    );
    const lastRemovalEnd = Math.max(-Infinity, ...removals.map((x) => x.d.end));
    const suppressedRefs = new Set(log.filter((l) => l.outcome === 'suppressed').map((l) => l.reference));
    const duplicates = countBy(
      log.filter((l) => l.outcome === 'duplicate'),
      (l) => /^Event id (.*) was already received\.$/.exec(l.reason)?.[1] ?? l.reason,
    );
    const stored = countBy(
      events.filter((e) => e.event_id !== null),
      (e) => e.event_id!,
    );
    const pkPart = new Map(people.map((p) => [p.pk, partOf(p.id ?? p.email_key ?? '')]));
    const eventProblems: unknown[] = [];
    for (const [eventId, n] of stored) {
      if (n > 1) eventProblems.push({ eventId, problem: `stored ${n} times` });
      if (!sent.has(eventId)) eventProblems.push({ eventId, problem: 'stored but never sent' });
    }
    for (const e of events) {
      const owner = e.person_pk === null ? partOf(e.anonymous_id ?? '') : pkPart.get(e.person_pk);
      if (e.event_id !== null && owner !== undefined && owner !== partOf(e.event_id))
        eventProblems.push({ event: e, problem: 'stored on a person its call never named' });
    }
    for (const s of sent.values()) {
      const n = stored.get(s.eventId) ?? 0;
      const dups = duplicates.get(s.eventId) ?? 0;
      if (partOf(s.eventId) === 'stable') {
        // Never deleted or suppressed: every acknowledged event is there, once; every other send was a duplicate.
        if (s.acked > 0 && n !== 1) eventProblems.push({ ...s, stored: n, problem: 'acknowledged, not stored once' });
        if (dups !== s.acked - 1) eventProblems.push({ ...s, stored: n, dups, problem: 'duplicates miscounted' });
      } else {
        const removedSince = lastRemovalEnd >= s.firstStart;
        if (s.acked > 0 && n === 0 && !removedSince && !suppressedRefs.has(s.ref))
          eventProblems.push({ ...s, problem: 'acknowledged, lost, and no removal explains it' });
        if (dups > s.sends - 1) eventProblems.push({ ...s, dups, problem: 'more duplicates than resends' });
      }
    }
    expect(eventProblems, 'events stored exactly once').toEqual([]);

    // --- Rule C: every conflict answered is in the integration log once, and on its person unless they are gone.
    const answered = flat.flatMap(({ op, result }) =>
      result.status === 'conflict' && op.type === 'identify' ? result.messages.map((m) => ({ ref: op.ref, m })) : [],
    );
    const conflictLog = log.filter((l) => rulesC.has(l.outcome));
    const answeredCounts = countBy(answered, (a) => `${a.ref} | ${a.m}`);
    const loggedCounts = countBy(conflictLog, (l) => `${l.reference} | ${l.reason}`);
    expect(Object.fromEntries(loggedCounts), 'each rule C answer logged once').toEqual(
      Object.fromEntries(answeredCounts),
    );

    const failedChanges = activities.filter((a) => a.type === 'failed_attribute_change');
    // Matched by time and message, and by partition (the refused value's, the reference's): calls in the same
    // millisecond on the two partitions must not stand in for each other.
    const unmatchedActivities = countBy(failedChanges, (a) => {
      const { message, value } = JSON.parse(a.data) as { message: string; value: string };
      return `${a.ts} | ${message} | ${partOf(value)}`;
    });
    const conflictProblems: unknown[] = [];
    for (const l of conflictLog) {
      const key = `${l.ts} | ${l.reason} | ${partOf(l.reference ?? '')}`;
      const n = unmatchedActivities.get(key) ?? 0;
      if (n > 0) {
        unmatchedActivities.set(key, n - 1);
        continue;
      }
      // The person the call was about is gone: only a delete or suppress answered after the call can do that.
      if (partOf(l.reference ?? '') === 'stable' || lastRemovalEnd < l.ts)
        conflictProblems.push({ log: l, problem: 'a rule C answer with no failed_attribute_change activity' });
    }
    for (const [key, n] of unmatchedActivities)
      if (n > 0) conflictProblems.push({ key, problem: `${n} failed_attribute_change activities no answer reported` });
    expect(conflictProblems, 'every 409 is a failed_attribute_change on its person').toEqual([]);

    // --- The App API, through every process, agrees with the stored rows.
    const apiProblems: unknown[] = [];
    let k = 0;
    for (const id of poolIds) {
      const row = people.find((p) => p.id === id);
      const customer = await via[k++ % via.length]!.person(id);
      if ((customer?.identifiers.cio_id ?? null) !== (row?.cio_id ?? null)) apiProblems.push({ id, customer, row });
    }
    for (const email of poolEmails) {
      const rows = people.filter((p) => p.email_key === email);
      const results = await via[k++ % via.length]!.byEmail(email.toUpperCase());
      if (JSON.stringify(results.map((x) => x.cio_id)) !== JSON.stringify(rows.map((p) => p.cio_id)))
        apiProblems.push({ email, results, rows });
    }
    for (const p of people) {
      const customer = await via[k++ % via.length]!.person(p.cio_id, 'cio_id');
      if (customer?.identifiers.id !== p.id || customer?.identifiers.email !== p.email)
        apiProblems.push({ person: p, customer });
    }
    expect(apiProblems, 'the App API shows the stored people').toEqual([]);
  }, 120_000);
});
