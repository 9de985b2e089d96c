// A benchmark fixture: N people (default 1,000,000) and some events in a new id_only workspace of a Roster store,
// written straight into the tables with multi-row inserts in large transactions (src/store/bulk-seed.ts).
//
//   node bench/seed-people.mjs --data-dir DIR [--database-url postgres://…] [--count N]
//
// Or import { seedPeople } from bench code. Needs the built Roster (npm run build, or scripts/bootstrap.mjs).
//
// What is written, deterministically for a given N:
// - id `user-<i>`; email `user<i>@example.com`, except every 50th person, who reuses an earlier person's email in
//   another letter case (2% duplicates, as identifies by different ids make them in id_only workspaces);
// - attributes: `secondary_email` (every 40th reuses an earlier one), `plan` (free/pro/team), `country`, `first_name`,
//   `phone`;
// - created_at spread evenly over the three years before now, with jitter;
// - events: every 5th person has 1 to 3 (`signed_up`, `viewed`, `purchased`).
import { sql } from 'kysely';
import { mkdirSync } from 'node:fs';
import { parseArgs } from 'node:util';

const dist = new URL('../dist/', import.meta.url);
const { openStore } = await import(new URL('store/database.js', dist).href);
const { workspacesStore } = await import(new URL('store/workspaces.js', dist).href);
const { loadMasterKey } = await import(new URL('store/secrets.js', dist).href);
const { bulkSeedStore } = await import(new URL('store/bulk-seed.js', dist).href);
const { newCioId } = await import(new URL('store/people.js', dist).href);

export const plans = ['free', 'free', 'free', 'pro', 'pro', 'team'];
export const countries = ['US', 'GB', 'DE', 'FR', 'NZ', 'BR', 'IN', 'JP', 'CA', 'AU'];
const names = ['Ann', 'Bob', 'Cat', 'Dan', 'Eve', 'Fay', 'Gus', 'Hal', 'Ivy', 'Joe'];
const eventNames = ['signed_up', 'viewed', 'purchased'];
const YEAR_S = 365 * 24 * 3600;

/** The email of person i: unique, except every 50th, which repeats an earlier one in upper case. */
export const seededEmail = (i) => (i % 50 === 49 ? `user${i - 17}@example.com`.toUpperCase() : `user${i}@example.com`);

/** The people the seed makes duplicates of by email (groups of two): how many there are for `count` people. */
export const seededDuplicateEmails = (count) => Math.floor(count / 50);

/**
 * Seeds `count` people into a new id_only workspace of the store at `dataDir` (SQLite) or `databaseUrl`.
 * Returns the workspace's credentials and pk, and how long the inserts took.
 */
export async function seedPeople({ dataDir, databaseUrl, count = 1_000_000, txRows = 50_000, log = () => {} }) {
  mkdirSync(dataDir, { recursive: true });
  const store = await openStore({ dataDir, databaseUrl });
  try {
    const creds = await workspacesStore.create(store.writer, loadMasterKey(dataDir), {
      name: 'bench-people',
      identifiers: 'id_only',
      allowEmailUpdateById: false,
    });
    const ws = await workspacesStore.byPublicId(store.reader, creds.workspace_id);
    const started = performance.now();
    const nowS = Math.floor(Date.now() / 1000);
    let events = 0;
    for (let from = 0; from < count; from += txRows) {
      const to = Math.min(count, from + txRows);
      await store.writer.transaction().execute(async (trx) => {
        const people = [];
        for (let i = from; i < to; i++) people.push(personRow(ws.pk, i, count, nowS));
        const pks = await bulkSeedStore.insertPeople(trx, people);
        const rows = [];
        for (let i = from; i < to; i++) {
          if (i % 5 !== 0) continue;
          const n = 1 + (i % 3);
          for (let k = 0; k < n; k++) {
            const ts = (people[i - from].created_at_s + 3600 * (k + 1)) * 1000;
            rows.push({
              workspace_pk: ws.pk,
              person_pk: pks[i - from],
              anonymous_id: null,
              event_id: null,
              type: 'event',
              name: eventNames[k],
              data: JSON.stringify({ n: k }),
              ts,
              received_at: ts,
              merged: 0,
            });
          }
        }
        await bulkSeedStore.insertEvents(trx, rows);
        events += rows.length;
      });
      log(`  seeded ${to.toLocaleString('en-US')} / ${count.toLocaleString('en-US')} people`);
    }
    const seconds = (performance.now() - started) / 1000;
    // Vacuumed, with fresh planner statistics, as autovacuum leaves a table some time after a bulk load: the visibility
    // map set and hint bits written, so the first full read (an export) does not write every page, nor race
    // autovacuum doing it. Only this store's tables, not every schema of the database.
    if (store.dialect === 'postgres')
      for (const table of ['people', 'events', 'attribute_keys'])
        await sql`vacuum (analyze) ${sql.table(table)}`.execute(store.writer);
    return { creds, workspacePk: ws.pk, people: count, events, seconds };
  } finally {
    await store.close();
  }
}

function personRow(workspacePk, i, count, nowS) {
  const email = seededEmail(i);
  const createdAt = nowS - 3 * YEAR_S + Math.floor((i / count) * 3 * YEAR_S) + (i % 97);
  const secondary = i % 40 === 39 ? `Alt${i - 11}@Mail.test` : `alt${i}@mail.test`;
  const attributes = {
    secondary_email: secondary,
    plan: plans[i % plans.length],
    country: countries[(i * 7) % countries.length],
    first_name: names[(i * 3) % names.length],
    phone: `+1 555 ${String(i % 10_000_000).padStart(7, '0')}`,
  };
  const ms = createdAt * 1000;
  const timestamps = Object.fromEntries(Object.keys(attributes).map((k) => [k, ms]));
  return {
    workspace_pk: workspacePk,
    cio_id: newCioId(),
    id: `user-${i}`,
    email,
    email_norm: email.trim().toLowerCase(),
    // id_only: the email is an attribute, never a key.
    email_key: null,
    attributes: JSON.stringify(attributes),
    attribute_ts: JSON.stringify(timestamps),
    unsubscribed: 0,
    created_at_s: createdAt,
    updated_at: ms,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({
    options: {
      'data-dir': { type: 'string' },
      'database-url': { type: 'string' },
      count: { type: 'string', default: '1000000' },
    },
  });
  if (!values['data-dir']) throw new Error('--data-dir is required (it holds the master key, and the SQLite file)');
  const count = Number(values.count);
  if (!Number.isInteger(count) || count < 1) throw new Error('--count must be a whole number ≥ 1');
  const r = await seedPeople({
    dataDir: values['data-dir'],
    databaseUrl: values['database-url'],
    count,
    log: (line) => console.error(line),
  });
  console.log(
    JSON.stringify({
      workspace_id: r.creds.workspace_id,
      app_api_key: r.creds.app_api_key,
      people: r.people,
      events: r.events,
      seconds: Number(r.seconds.toFixed(1)),
      people_per_s: Math.round(r.people / r.seconds),
    }),
  );
}
