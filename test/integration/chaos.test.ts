/**
 * Crash safety (issue 6 §1). Clients send identifies and events with unique markers over every write surface
 * (Track v1 PUT and POST events, v2 /entity and /batch, Segment /v1/batch) to a real `roster serve` process, which is
 * killed with SIGKILL at random moments and restarted, several cycles. Some requests are meant to be refused (a bad
 * attribute, an oversized Segment message, an invalid v2 batch item). Requests with an id (v2 event id, Segment
 * messageId) that got no answer are sent again after the restart, as a retrying client would.
 *
 * Afterwards, read straight from the database:
 * - every 2xx is stored exactly once (people by their id and marker, events by their marker);
 * - a request refused whole (4xx) left nothing; a 207 stored its valid items only;
 * - nothing is stored twice, answered or not; no 5xx was ever answered; SQLite's integrity check passes.
 *
 * `npm run chaos` runs it long (ROSTER_CHAOS=long); ROSTER_SEED replays a seed's request mix.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/database.js';
import { sql } from 'kysely';
import { testBackend } from '../helpers/backend.js';
import {
  freePort,
  printedCredentials,
  startServeProcess,
  tempRosterHome,
  type RosterHome,
  type ServeProcess,
} from '../helpers/roster-process.js';
import { prng, recorded, runSeed, sized } from '../helpers/reliability.js';

const CYCLES = sized(8, 40);
const WORKERS = 8;
const seed = runSeed();

type Kind =
  | 'v1_identify'
  | 'v1_event'
  | 'v1_event_new_person'
  | 'v1_identify_refused'
  | 'v2_entity_event'
  | 'v2_entity_refused'
  | 'v2_batch'
  | 'v2_batch_partial'
  | 'v2_batch_refused'
  | 'segment_batch'
  | 'segment_batch_refused';

/** What a request must have stored if acknowledged (and must not have stored if refused). */
interface Expect {
  people: string[]; // person ids, each with attribute marker = the id
  events: string[]; // event markers (data.marker)
  /** Stored by a 207 only for its valid items; never stored. */
  never: { people: string[]; events: string[] };
}

interface Sent {
  kind: Kind;
  marker: string;
  method: string;
  path: string;
  auth: 'track' | 'segment';
  body: string;
  expect: Expect;
  /** The request carries its own id (event id, messageId), so a client may send it again safely. */
  idempotent: boolean;
  answers: (number | 'none')[];
}

const homes: RosterHome[] = [];
const procs: ServeProcess[] = [];
afterAll(async () => {
  // A failed run may leave its last server up.
  for (const p of procs)
    if (p.child.exitCode === null && p.child.signalCode === null) {
      p.child.kill('SIGKILL');
      await p.exited;
    }
  for (const h of homes) await h.remove();
});

async function startServe(home: RosterHome): Promise<ServeProcess> {
  const p = await startServeProcess(home.dataDir, await freePort(), home.env);
  procs.push(p);
  return p;
}

/** Builds one request of the given kind, with its own marker. */
function build(kind: Kind, m: string, knownPeople: string[], pick: <T>(xs: readonly T[]) => T): Sent {
  const none = { people: [], events: [] };
  const v1 = (method: string, path: string, body: unknown, expect: Expect, idempotent = false): Sent => ({
    kind,
    marker: m,
    method,
    path,
    auth: 'track',
    body: JSON.stringify(body),
    expect,
    idempotent,
    answers: [],
  });
  const identifyOp = (id: string) => ({
    type: 'person',
    action: 'identify',
    identifiers: { id },
    attributes: { marker: id },
  });
  const eventOp = (id: string, marker: string) => ({
    type: 'person',
    action: 'event',
    identifiers: { id },
    name: 'chaos',
    id: `ev-${marker}`,
    attributes: { marker },
  });
  switch (kind) {
    case 'v1_identify':
      return v1(
        'PUT',
        `/api/v1/customers/p-${m}`,
        { marker: `p-${m}`, email: `p-${m}@example.com` },
        {
          people: [`p-${m}`],
          events: [],
          never: none,
        },
      );
    case 'v1_event':
      // No event id: nothing can deduplicate it, so "exactly once" is the write path's own doing.
      return v1(
        'POST',
        `/api/v1/customers/${pick(knownPeople)}/events`,
        { name: 'chaos', data: { marker: m } },
        {
          people: [],
          events: [m],
          never: none,
        },
      );
    case 'v1_event_new_person':
      return v1(
        'POST',
        `/api/v1/customers/n-${m}/events`,
        { name: 'chaos', data: { marker: m } },
        {
          people: [],
          events: [m],
          never: none,
        },
      );
    case 'v1_identify_refused':
      return v1(
        'PUT',
        `/api/v1/customers/r-${m}`,
        { marker: `r-${m}`, unsubscribed: 'maybe' },
        {
          people: [],
          events: [],
          never: { people: [`r-${m}`], events: [] },
        },
      );
    case 'v2_entity_event':
      return v1(
        'POST',
        '/api/v2/entity',
        eventOp(pick(knownPeople), m),
        { people: [], events: [m], never: none },
        true,
      );
    case 'v2_entity_refused': {
      const attributes: Record<string, unknown> = { marker: `r-${m}` };
      for (let i = 0; i < 301; i++) attributes[`a${i}`] = i;
      return v1(
        'POST',
        '/api/v2/entity',
        { type: 'person', action: 'identify', identifiers: { id: `r-${m}` }, attributes },
        { people: [], events: [], never: { people: [`r-${m}`], events: [] } },
      );
    }
    case 'v2_batch':
      return v1(
        'POST',
        '/api/v2/batch',
        { batch: [identifyOp(`b-${m}-0`), eventOp(`b-${m}-0`, `${m}-0`), identifyOp(`b-${m}-1`)] },
        { people: [`b-${m}-0`, `b-${m}-1`], events: [`${m}-0`], never: none },
        true,
      );
    case 'v2_batch_partial':
      // The middle item's email is not an address: 207 naming it, the other two stored.
      return v1(
        'POST',
        '/api/v2/batch',
        {
          batch: [
            identifyOp(`b-${m}-0`),
            {
              type: 'person',
              action: 'identify',
              identifiers: { id: `r-${m}` },
              attributes: { marker: `r-${m}`, email: 'not an address' },
            },
            eventOp(`b-${m}-0`, `${m}-0`),
          ],
        },
        { people: [`b-${m}-0`], events: [`${m}-0`], never: { people: [`r-${m}`], events: [] } },
        true,
      );
    case 'v2_batch_refused': {
      // Over the 500 KB batch limit: refused whole (413) before any item is applied.
      const pad = 'x'.repeat(900);
      const batch = Array.from({ length: 600 }, (_, i) => ({
        ...identifyOp(`r-${m}-${i}`),
        attributes: { marker: `r-${m}-${i}`, pad },
      }));
      return v1(
        'POST',
        '/api/v2/batch',
        { batch },
        { people: [], events: [], never: { people: batch.map((_, i) => `r-${m}-${i}`), events: [] } },
      );
    }
    case 'segment_batch':
      return {
        ...v1(
          'POST',
          '/v1/batch',
          {
            batch: [
              { type: 'identify', userId: `s-${m}`, traits: { marker: `s-${m}` }, messageId: `si-${m}` },
              { type: 'track', userId: `s-${m}`, event: 'chaos', properties: { marker: m }, messageId: `st-${m}` },
            ],
          },
          { people: [`s-${m}`], events: [m], never: none },
          true,
        ),
        auth: 'segment',
      };
    case 'segment_batch_refused':
      // One message over Segment's 32 KB message limit: the whole batch is refused (400) and nothing applied.
      return {
        ...v1(
          'POST',
          '/v1/batch',
          {
            batch: [
              { type: 'identify', userId: `r-${m}`, traits: { marker: `r-${m}` }, messageId: `ri-${m}` },
              { type: 'track', userId: `r-${m}`, event: 'chaos', properties: { marker: m, pad: 'y'.repeat(40_000) } },
            ],
          },
          { people: [], events: [], never: { people: [`r-${m}`], events: [m] } },
        ),
        auth: 'segment',
      };
  }
}

const kinds: Kind[] = [
  'v1_identify',
  'v1_identify',
  'v1_event',
  'v1_event',
  'v1_event_new_person',
  'v1_identify_refused',
  'v2_entity_event',
  'v2_entity_refused',
  'v2_batch',
  'v2_batch',
  'v2_batch_partial',
  'segment_batch',
  'segment_batch',
  'segment_batch_refused',
];

describe('chaos: SIGKILL at random moments', () => {
  it(`every 2xx stored exactly once, every refusal left nothing (${testBackend})`, async () => {
    await recorded({ suite: 'chaos', test: 'SIGKILL during writes on every surface', seed }, async (size) => {
      const rand = prng(seed);
      const home = await tempRosterHome('roster-chaos-');
      homes.push(home);
      let proc: ServeProcess = await startServe(home);
      const creds = printedCredentials(proc.output());
      const auths = {
        track: `Basic ${Buffer.from(`${creds.site_id}:${creds.track_api_key}`).toString('base64')}`,
        segment: `Basic ${Buffer.from(`${creds.segment_write_key}:`).toString('base64')}`,
      };
      const knownPeople = Array.from({ length: 5 }, (_, i) => `known-${i}`);
      for (const id of knownPeople) {
        const r = await fetch(`${proc.base}/api/v1/customers/${id}`, {
          method: 'PUT',
          headers: { authorization: auths.track, 'content-type': 'application/json' },
          body: JSON.stringify({ marker: id }),
        });
        expect(r.status).toBe(200);
      }

      const all: Sent[] = [];
      let seq = 0;
      const send = async (base: string, s: Sent) => {
        try {
          const r = await fetch(base + s.path, {
            method: s.method,
            headers: { authorization: auths[s.auth], 'content-type': 'application/json' },
            body: s.body,
          });
          await r.arrayBuffer();
          s.answers.push(r.status);
        } catch {
          s.answers.push('none');
        }
      };

      let acksBeforeKill = 0;
      for (let cycle = 0; cycle < CYCLES; cycle++) {
        const base = proc.base;
        // A client that sent with an id and heard nothing sends again once the server is back.
        const retries = all.filter((s) => s.idempotent && s.answers.at(-1) === 'none');
        await Promise.all(retries.map((s) => send(base, s)));

        let killed = false;
        const workers = Array.from({ length: WORKERS }, async () => {
          while (!killed) {
            const s = build(rand.pick(kinds), `c${cycle}-${seq++}`, knownPeople, rand.pick);
            all.push(s);
            await send(base, s);
            if (s.answers.at(-1) === 'none') return; // the server is gone
          }
        });
        // Kill at a random moment once the server is busy: after a few acknowledgements, then 0–600 ms more.
        const acked = () => all.filter((s) => typeof s.answers.at(-1) === 'number').length;
        const start = acked();
        const deadline = Date.now() + 10_000;
        while (acked() < start + 5 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
        await new Promise((r) => setTimeout(r, rand.int(600)));
        acksBeforeKill += acked() - start;
        proc.child.kill('SIGKILL');
        killed = true;
        await Promise.all(workers);
        await proc.exited;
        proc = await startServe(home);
      }
      // The last retries, on the server that stays up.
      await Promise.all(all.filter((s) => s.idempotent && s.answers.at(-1) === 'none').map((s) => send(proc.base, s)));
      proc.child.kill('SIGTERM');
      expect(await proc.exited).toBe(0);

      const store = await openStore({ dataDir: home.dataDir, databaseUrl: home.env.DATABASE_URL });
      try {
        const people = await store.reader.selectFrom('people').select(['id', 'attributes']).execute();
        const events = await store.reader.selectFrom('events').select(['data', 'event_id']).execute();
        const personCount = new Map<string, number>();
        for (const p of people) {
          const marker = (JSON.parse(p.attributes) as { marker?: unknown }).marker;
          if (p.id !== null && marker === p.id) personCount.set(p.id, (personCount.get(p.id) ?? 0) + 1);
        }
        const peopleById = new Map(people.map((p) => [p.id, p]));
        const eventCount = new Map<string, number>();
        for (const e of events) {
          const marker = (JSON.parse(e.data) as { marker?: unknown }).marker;
          if (typeof marker === 'string') eventCount.set(marker, (eventCount.get(marker) ?? 0) + 1);
        }

        const problems: unknown[] = [];
        const statuses = new Map<string, number>();
        for (const s of all) {
          for (const a of s.answers) statuses.set(String(a), (statuses.get(String(a)) ?? 0) + 1);
          const last = s.answers.at(-1);
          const ok = s.answers.some((a) => a === 200 || a === 207);
          const why = { kind: s.kind, marker: s.marker, answers: s.answers };
          if (s.answers.some((a) => a !== 'none' && a >= 500)) problems.push({ ...why, problem: '5xx' });
          for (const id of s.expect.people) {
            const n = personCount.get(id) ?? 0;
            if (ok && n !== 1) problems.push({ ...why, id, stored: n, problem: 'acknowledged person not stored' });
          }
          for (const e of s.expect.events) {
            const n = eventCount.get(e) ?? 0;
            if (ok && n !== 1) problems.push({ ...why, event: e, stored: n, problem: 'acknowledged event not once' });
            if (n > 1) problems.push({ ...why, event: e, stored: n, problem: 'event stored twice' });
          }
          for (const id of s.expect.never.people)
            if (peopleById.has(id)) problems.push({ ...why, id, problem: 'refused person stored' });
          for (const e of s.expect.never.events)
            if (eventCount.has(e)) problems.push({ ...why, event: e, problem: 'refused event stored' });
          const expectedStatus: Partial<Record<Kind, number>> = {
            v1_identify_refused: 400,
            v2_entity_refused: 400,
            v2_batch_refused: 413,
            v2_batch_partial: 207,
            segment_batch_refused: 400,
          };
          if (typeof last === 'number' && last !== (expectedStatus[s.kind] ?? 200))
            problems.push({ ...why, problem: `answered ${last}` });
        }
        // Known people were never duplicated by events naming them.
        for (const id of knownPeople) if (personCount.get(id) !== 1) problems.push({ id, problem: 'known person' });

        if (store.dialect === 'sqlite') {
          const check = await sql<{ integrity_check: string }>`pragma integrity_check`.execute(store.reader);
          expect(check.rows.map((r) => r.integrity_check)).toEqual(['ok']);
        }
        const answered = all.filter((s) => s.answers.some((a) => a !== 'none')).length;
        Object.assign(size, {
          cycles: CYCLES,
          requests: all.length,
          sends: all.reduce((n, s) => n + s.answers.length, 0),
          answered,
          no_answer: all.length - answered,
          retried: all.filter((s) => s.answers.length > 1).length,
          people: people.length,
          events: events.length,
        });
        expect(acksBeforeKill, 'the server acknowledged requests between kills').toBeGreaterThan(CYCLES);
        expect(problems.slice(0, 20), `seed ${seed}: ${problems.length} problems`).toEqual([]);
      } finally {
        await store.close();
      }
    });
  }, 600_000);
});
