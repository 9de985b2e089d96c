/**
 * Property tests of identity.md against a reference model (test/helpers/identity-model.ts), over real HTTP.
 *
 * 1. Random sequences of identify / event / merge / delete / suppress / unsuppress calls, on a small pool of ids and
 *    emails (in several letter cases) so they collide often, sent over Track v1 or v2 `/entity`, in both workspace
 *    modes. After every call the HTTP answer (status, error code, rule C fields) and the stored people (id, email,
 *    attributes, number of events) and suppressions must be what the model says.
 * 2. Timestamped attribute updates sent in two different orders (over v1 `_timestamp`, v2 `timestamp` and Segment
 *    `timestamp`) converge to the same person: each attribute holds the value of the newest call that named it.
 *
 * Runs are bounded (numRuns below; `npm run chaos` runs many more) and seeded: a failure names its seed, and
 * ROSTER_SEED=<seed> replays it.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IdentityModel, type ModelAnswer, type Mode, type Op, type RefSpec } from '../helpers/identity-model.js';
import { recorded, runSeed, sized } from '../helpers/reliability.js';
import { startServer, type Reply, type TestServer, type TestWorkspace } from '../helpers/roster-server.js';

const seed = runSeed();
const SEQUENCE_RUNS = sized(40, 600, 20);
const CONVERGE_RUNS = sized(40, 500, 15);

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await server?.close();
});

// ---------------------------------------------------------------------------------------------------------------
// Generating calls.

const ids = ['u1', 'u2', 'u3'];
const emails = ['a@x.io', 'A@X.io', 'b@x.io', 'B@x.IO', 'c@x.io'];
const anons = ['anon-1', 'anon-2'];
const refArb: fc.Arbitrary<RefSpec> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...ids).map((value) => ({ kind: 'id' as const, value })) },
  { weight: 3, arbitrary: fc.constantFrom(...emails).map((value) => ({ kind: 'email' as const, value })) },
  { weight: 2, arbitrary: fc.nat({ max: 4 }).map((n) => ({ kind: 'cio' as const, n })) },
);
const attrsArb = fc.dictionary(fc.constantFrom('a', 'b', 'c'), fc.constantFrom<unknown>(1, 'x', 'y', true, null, ''), {
  maxKeys: 2,
});
const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 10,
    arbitrary: fc.record(
      {
        type: fc.constant('identify' as const),
        ref: refArb,
        id: fc.constantFrom(...ids, 'cio_reserved'),
        email: fc.constantFrom(...emails),
        attrs: attrsArb,
        update: fc.boolean(),
        anonymousId: fc.constantFrom(...anons),
      },
      { requiredKeys: ['type', 'ref', 'attrs'] },
    ),
  },
  { weight: 3, arbitrary: fc.record({ type: fc.constant('event' as const), ref: refArb }) },
  {
    weight: 2,
    arbitrary: fc.record({ type: fc.constant('anon_event' as const), anonymousId: fc.constantFrom(...anons) }),
  },
  {
    weight: 3,
    arbitrary: fc.record({ type: fc.constant('merge' as const), primary: refArb, secondary: refArb }),
  },
  { weight: 2, arbitrary: fc.record({ type: fc.constantFrom('delete' as const, 'suppress' as const), ref: refArb }) },
  { weight: 2, arbitrary: fc.record({ type: fc.constant('unsuppress' as const), ref: refArb }) },
);
const stepArb = fc.record({ op: opArb, transport: fc.constantFrom('v1', 'v1', 'v2', 'segment') });

/**
 * The transport a call really takes: Segment has no `_update` and its alias is not a merge, so those go over v1.
 */
const transportOf = (op: Op, transport: string) =>
  transport === 'segment' && (op.type === 'merge' || (op.type === 'identify' && op.update)) ? 'v1' : transport;

// ---------------------------------------------------------------------------------------------------------------
// Sending a call, reading the answer.

interface Stored {
  id: string | null;
  email: string | null;
  cio_id: string;
  attrs: Record<string, unknown>;
  events: number;
  anonymousIds: string[];
}

/** The workspace's people and suppression groups, straight from the database. */
async function storedState(ws: TestWorkspace) {
  const dump = await server.dump(ws);
  const events = dump.events as { person_pk: number | null; anonymous_id: string | null }[];
  const links = dump.anonymous_ids as { person_pk: number; anonymous_id: string }[];
  const people: Stored[] = (
    dump.people as { pk: number; id: string | null; email: string | null; cio_id: string; attributes: string }[]
  ).map((p) => ({
    id: p.id,
    email: p.email,
    cio_id: p.cio_id,
    attrs: JSON.parse(p.attributes) as Record<string, unknown>,
    events: events.filter((e) => e.person_pk === p.pk).length,
    anonymousIds: links.filter((l) => l.person_pk === p.pk).map((l) => l.anonymous_id),
  }));
  const anonymousEvents: Record<string, number> = {};
  for (const e of events)
    if (e.person_pk === null && e.anonymous_id !== null)
      anonymousEvents[e.anonymous_id] = (anonymousEvents[e.anonymous_id] ?? 0) + 1;
  const groups = new Map<string, string[]>();
  for (const s of dump.suppressions as { kind: string; value: string; group_key: string }[])
    groups.set(s.group_key, [...(groups.get(s.group_key) ?? []), `${s.kind}:${s.value}`]);
  return {
    people,
    suppressed: [...groups.values()].map((g) => g.sort().join(' ')).sort(),
    anonymousEvents: Object.fromEntries(Object.entries(anonymousEvents).sort()),
  };
}

const canon = (p: {
  id: string | null;
  email: string | null;
  attrs: Record<string, unknown>;
  events: number;
  anonymousIds: string[];
}) =>
  JSON.stringify([
    p.id,
    p.email,
    Object.fromEntries(Object.entries(p.attrs).sort()),
    p.events,
    [...p.anonymousIds].sort(),
  ]);

/** The reference text a RefSpec stands for now: a cio ref names the model's n-th person's stored cio_id. */
function refText(ref: RefSpec, model: IdentityModel, stored: Stored[]): { type: string; value: string } {
  if (ref.kind !== 'cio') return { type: ref.kind, value: ref.value };
  const p = model.people[ref.n];
  const match =
    p &&
    stored.find((s) =>
      p.id !== null ? s.id === p.id : s.email !== null && s.email.toLowerCase() === p.email!.toLowerCase(),
    );
  return { type: 'cio_id', value: match ? match.cio_id : 'nobody0000000' };
}

let segmentMessages = 0;

async function send(
  ws: TestWorkspace,
  op: Op,
  transport: string,
  model: IdentityModel,
  stored: Stored[],
): Promise<Reply> {
  const text = (r: RefSpec) => refText(r, model, stored);
  const path = (r: RefSpec) => {
    const t = text(r);
    return encodeURIComponent(t.type === 'cio_id' ? `cio_${t.value}` : t.value);
  };
  const typed = (r: RefSpec) => {
    const t = text(r);
    return { [t.type]: t.value };
  };
  if (transport === 'segment') {
    // Segment's tracking API: userId is read like a path reference (a cio_…, an email, else an id).
    const userId = (r: RefSpec) => {
      const t = text(r);
      return t.type === 'cio_id' ? `cio_${t.value}` : t.value;
    };
    const messageId = `model-${++segmentMessages}`;
    switch (op.type) {
      case 'identify': {
        const traits: Record<string, unknown> = { ...op.attrs };
        if (op.id !== undefined) traits.id = op.id;
        if (op.email !== undefined) traits.email = op.email;
        const anonymousId = op.anonymousId === undefined ? {} : { anonymousId: op.anonymousId };
        return ws.segment('/v1/identify', { userId: userId(op.ref), traits, messageId, ...anonymousId });
      }
      case 'event':
        return ws.segment('/v1/track', { userId: userId(op.ref), event: 'model', messageId });
      case 'anon_event':
        return ws.segment('/v1/track', { anonymousId: op.anonymousId, event: 'model', messageId });
      case 'merge':
        throw new Error('a merge goes over v1 (transportOf)');
      default: {
        const names = { delete: 'User Deleted', suppress: 'User Suppressed', unsuppress: 'User Unsuppressed' } as const;
        return ws.segment('/v1/track', {
          userId: userId(op.ref),
          event: names[op.type as keyof typeof names],
          messageId,
        });
      }
    }
  }
  if (transport === 'v1' || (op.type === 'identify' && op.update)) {
    switch (op.type) {
      case 'identify': {
        const body: Record<string, unknown> = { ...op.attrs };
        if (op.id !== undefined) body.id = op.id;
        if (op.email !== undefined) body.email = op.email;
        if (op.update) body._update = true;
        if (op.anonymousId !== undefined) body.anonymous_id = op.anonymousId;
        return ws.request('PUT', `/api/v1/customers/${path(op.ref)}`, body);
      }
      case 'event':
        return ws.request('POST', `/api/v1/customers/${path(op.ref)}/events`, { name: 'model' });
      case 'anon_event':
        return ws.anonymousEvent({ anonymous_id: op.anonymousId, name: 'model' });
      case 'merge':
        return ws.merge(typed(op.primary), typed(op.secondary));
      case 'delete':
        return ws.request('DELETE', `/api/v1/customers/${path(op.ref)}`);
      default:
        return ws.request('POST', `/api/v1/customers/${path(op.ref)}/${op.type}`, {});
    }
  }
  const person = { type: 'person' };
  switch (op.type) {
    case 'identify': {
      const attributes: Record<string, unknown> = { ...op.attrs };
      if (op.id !== undefined) attributes.id = op.id;
      if (op.email !== undefined) attributes.email = op.email;
      if (op.anonymousId !== undefined) attributes.anonymous_id = op.anonymousId;
      return ws.entity({ ...person, action: 'identify', identifiers: typed(op.ref), attributes });
    }
    case 'event':
      return ws.entity({ ...person, action: 'event', identifiers: typed(op.ref), name: 'model' });
    case 'anon_event':
      return ws.entity({ ...person, action: 'event', identifiers: { anonymous_id: op.anonymousId }, name: 'model' });
    case 'merge':
      return ws.entity({ ...person, action: 'merge', primary: typed(op.primary), secondary: typed(op.secondary) });
    default:
      return ws.entity({ ...person, action: op.type, identifiers: typed(op.ref) });
  }
}

/** The answer in the model's terms: status, code, rule C fields. */
function answerOf(r: Reply): ModelAnswer {
  if (r.status === 200) return { status: 200 };
  const b = r.body ?? {};
  if (b.meta) {
    const code = b.meta.code as string;
    if (r.status !== 409) return { status: r.status, code };
    const fields = (b.meta.errors as string[]).map((m) => m.split(':')[0]!);
    return { status: r.status, code, fields };
  }
  const errors = (b.errors ?? []) as { reason: string; field: string }[];
  if (r.status !== 409) return { status: r.status, code: errors[0]?.reason };
  return { status: r.status, code: errors[0]?.reason, fields: errors.map((e) => e.field) };
}

/** What the model expects over a transport: v2 identifiers are typed, so an email one in id_only is refused. */
function expectedOver(transport: string, op: Op, model: IdentityModel): ModelAnswer | null {
  if (transport !== 'v2' || model.mode !== 'id_only' || (op.type === 'identify' && op.update)) return null;
  if (op.type === 'anon_event') return null;
  const refs = op.type === 'merge' ? [op.primary, op.secondary] : [op.ref];
  return refs.some((r) => r.kind === 'email') ? { status: 400, code: 'invalid_identifier' } : null;
}

async function runSequence(
  mode: Mode,
  allowEmailUpdateById: boolean,
  steps: { op: Op; transport: string }[],
): Promise<void> {
  const ws = await server.workspace({ identifiers: mode, allowEmailUpdateById });
  const model = new IdentityModel(mode, allowEmailUpdateById);
  let stored = (await storedState(ws)).people;
  for (const [i, step] of steps.entries()) {
    const { op } = step;
    const transport = transportOf(op, step.transport);
    const reply = await send(ws, op, transport, model, stored);
    let expected = expectedOver(transport, op, model) ?? model.apply(op);
    // Segment's convention: every accepted request is 200; refusals and rule C go to the integration log.
    if (transport === 'segment') expected = { status: 200 };
    const got = answerOf(reply);
    const state = await storedState(ws);
    stored = state.people;
    const want = {
      answer: expected,
      people: model.people.map(canon).sort(),
      suppressed: model.suppressed.map((g) => [...g].sort().join(' ')).sort(),
      anonymousEvents: Object.fromEntries([...model.anonymousEvents].sort()),
    };
    const have = {
      answer: got,
      people: stored.map(canon).sort(),
      suppressed: state.suppressed,
      anonymousEvents: state.anonymousEvents,
    };
    if (JSON.stringify(want) !== JSON.stringify(have))
      throw new Error(
        `${mode}, step ${i} (${transport}) ${JSON.stringify(op)}\n` +
          `reply ${reply.status} ${JSON.stringify(reply.body)}\n` +
          `model:  ${JSON.stringify(want)}\nserver: ${JSON.stringify(have)}`,
      );
  }
}

describe('identity rules against the reference model', () => {
  for (const [mode, allow] of [
    ['email_or_id', false],
    ['email_or_id', true],
    ['id_only', false],
  ] as const) {
    const name = `${mode}${allow ? ', allow_email_update_by_id' : ''}`;
    it(`random call sequences (${name}): answers and stored people match the model`, async () => {
      await recorded({ suite: 'identity-model', test: `random call sequences, ${name}`, seed }, async (size) => {
        let sequences = 0;
        let calls = 0;
        await fc.assert(
          fc.asyncProperty(fc.array(stepArb, { minLength: 5, maxLength: 30, size: 'large' }), async (steps) => {
            sequences++;
            calls += steps.length;
            await runSequence(mode, allow, steps);
          }),
          { seed, numRuns: SEQUENCE_RUNS },
        );
        Object.assign(size, {
          sequences: SEQUENCE_RUNS,
          calls_including_shrinks: calls,
          runs_including_shrinks: sequences,
        });
      });
    }, 600_000);
  }

  it('timestamped attribute updates in any order converge to the same person', async () => {
    await recorded(
      { suite: 'identity-model', test: 'timestamped updates converge in any order', seed },
      async (size) => {
        const ws = await server.workspace();
        let runs = 0;
        let calls = 0;
        const updateArb = fc.record({
          attrs: fc.dictionary(fc.constantFrom('a', 'b', 'c'), fc.constantFrom<unknown>(1, 'x', 'y', false, null, ''), {
            minKeys: 1,
            maxKeys: 3,
          }),
          via: fc.constantFrom('v1', 'v2', 'segment'),
        });
        const input = fc.array(updateArb, { minLength: 2, maxLength: 8 }).chain((updates) =>
          fc.tuple(
            fc.constant(updates),
            fc.shuffledSubarray(
              updates.map((_, i) => i),
              { minLength: updates.length },
            ),
          ),
        );
        await fc.assert(
          fc.asyncProperty(input, async ([updates, order]) => {
            const run = runs++;
            // Distinct times, one second apart, so "newest" is never a tie.
            const timed = updates.map((u, i) => ({ ...u, ts: 1_700_000_000 + i }));
            const apply = async (person: string, sequence: typeof timed) => {
              for (const u of sequence) {
                calls++;
                let r: Reply;
                if (u.via === 'v1') r = await ws.identify(person, { ...u.attrs, _timestamp: u.ts });
                else if (u.via === 'v2')
                  r = await ws.entity({
                    type: 'person',
                    action: 'identify',
                    identifiers: { id: person },
                    timestamp: u.ts,
                    attributes: u.attrs,
                  });
                else
                  r = await ws.segment('/v1/identify', {
                    userId: person,
                    traits: u.attrs,
                    timestamp: new Date(u.ts * 1000).toISOString(),
                  });
                expect(r.status, JSON.stringify(r.body)).toBe(200);
              }
            };
            await apply(`conv-${run}-a`, timed);
            await apply(
              `conv-${run}-b`,
              order.map((i) => timed[i]!),
            );
            // The model: per attribute, the newest call naming it wins; null or "" there means removed.
            const expected: Record<string, unknown> = {};
            for (const key of ['a', 'b', 'c']) {
              const newest = timed.filter((u) => key in u.attrs).at(-1);
              const v = newest?.attrs[key];
              if (v !== undefined && v !== null && v !== '') expected[key] = v;
            }
            // Objects keep per-attribute timestamps like people (docs/identity.md): the same updates, as v2 objects.
            const applyToObject = async (objectId: string, sequence: typeof timed) => {
              for (const u of sequence) {
                calls++;
                const r = await ws.entity({
                  type: 'object',
                  action: 'identify',
                  identifiers: { object_type_id: '1', object_id: objectId },
                  timestamp: u.ts,
                  attributes: u.attrs,
                });
                expect(r.status, JSON.stringify(r.body)).toBe(200);
              }
            };
            await applyToObject(`conv-${run}-a`, timed);
            await applyToObject(
              `conv-${run}-b`,
              order.map((i) => timed[i]!),
            );
            const dump = await server.dump(ws);
            const attrsOf = (id: string) => {
              const row = (dump.people as { id: string; attributes: string }[]).find((p) => p.id === id);
              const all = JSON.parse(row!.attributes) as Record<string, unknown>;
              return Object.fromEntries(
                Object.entries(all)
                  .filter(([k]) => ['a', 'b', 'c'].includes(k))
                  .sort(),
              );
            };
            const objectAttrsOf = (id: string) => {
              const row = (dump.objects as { object_id: string; attributes: string }[]).find((o) => o.object_id === id);
              const all = JSON.parse(row!.attributes) as Record<string, unknown>;
              return Object.fromEntries(Object.entries(all).sort());
            };
            const oa = objectAttrsOf(`conv-${run}-a`);
            const ob = objectAttrsOf(`conv-${run}-b`);
            const wanted = JSON.stringify(Object.fromEntries(Object.entries(expected).sort()));
            if (JSON.stringify(oa) !== wanted || JSON.stringify(ob) !== wanted)
              throw new Error(
                `objects: in order ${JSON.stringify(oa)}; permuted ${JSON.stringify(order)}: ${JSON.stringify(ob)}; ` +
                  `model: ${wanted}; updates ${JSON.stringify(timed)}`,
              );
            const a = attrsOf(`conv-${run}-a`);
            const b = attrsOf(`conv-${run}-b`);
            if (
              JSON.stringify(a) !== JSON.stringify(b) ||
              JSON.stringify(a) !== JSON.stringify(Object.fromEntries(Object.entries(expected).sort()))
            )
              throw new Error(
                `in order: ${JSON.stringify(a)}; permuted ${JSON.stringify(order)}: ${JSON.stringify(b)}; ` +
                  `model: ${JSON.stringify(expected)}; updates ${JSON.stringify(timed)}`,
              );
          }),
          { seed, numRuns: CONVERGE_RUNS },
        );
        Object.assign(size, { update_lists: CONVERGE_RUNS, calls_including_shrinks: calls });
      },
    );
  }, 600_000);
});
