// The people the benchmark writes, shared by the HTTP load and the raw SQLite ceiling so both do the same work.
import { randomUUID } from 'node:crypto';

const PLANS = ['free', 'pro', 'team', 'enterprise'];
const CITIES = ['Berlin', 'Lisbon', 'Osaka', 'Toronto', 'Nairobi', 'Lima'];

const pick = (list) => list[Math.floor(Math.random() * list.length)];

/**
 * Returns a function giving the next person id. A coin flip between a never-used id and one already handed out
 * keeps the mix at about half creates and half updates however long the run lasts.
 */
export function createIdPool() {
  let issued = 0;
  return () => (issued === 0 || Math.random() < 0.5 ? `u${issued++}` : `u${Math.floor(Math.random() * issued)}`);
}

/** A small attribute body (~100 bytes); the email follows from the id so updates never collide on email. */
export function attributesFor(id) {
  return {
    email: `${id}@bench.example`,
    plan: pick(PLANS),
    city: pick(CITIES),
    score: Math.floor(Math.random() * 1000),
  };
}

/**
 * Returns a function giving the next Segment messageId, in the form `BENCH_MESSAGE_IDS` names:
 * - `sequential` (the default, as every committed result was measured): `bench-<pid>-<n>`;
 * - `node`: analytics-node's own, `node-next-<unix ms>-<uuid v4>`: time first, so new ids land near each other in an
 *   index, as sequential ones do;
 * - `uuid`: a bare random UUID v4, as analytics-python sends: each id lands on a random page of the indexes keyed by
 *   it (remembered message ids, and tracks' event ids).
 */
export function createMessageIds(form = process.env.BENCH_MESSAGE_IDS || 'sequential') {
  let seq = 0;
  if (form === 'sequential') return () => `bench-${process.pid}-${seq++}`;
  if (form === 'node') return () => `node-next-${Date.now()}-${randomUUID()}`;
  if (form === 'uuid') return () => randomUUID();
  throw new Error(`BENCH_MESSAGE_IDS must be sequential, node or uuid, got ${form}`);
}

/**
 * The messages of one Segment `/v1/batch` request: per ten, 6 tracks, 3 identifies and a page, each naming the next
 * person of `nextId` and carrying the next of `messageId()`.
 */
export function segmentBatchMessages(nextId, count, messageId) {
  const batch = [];
  for (let i = 0; i < count; i++) {
    const userId = nextId();
    const id = messageId();
    const timestamp = new Date().toISOString();
    const kind = i % 10;
    if (kind < 6)
      batch.push({
        type: 'track',
        userId,
        event: 'Item Viewed',
        properties: { sku: `s${i}`, price: i },
        messageId: id,
        timestamp,
      });
    else if (kind < 9)
      batch.push({ type: 'identify', userId, traits: attributesFor(userId), messageId: id, timestamp });
    else
      batch.push({
        type: 'page',
        userId,
        name: 'Home',
        properties: { url: 'https://example.com/' },
        messageId: id,
        timestamp,
      });
  }
  return batch;
}
