// The people the benchmark writes, shared by the HTTP load and the raw SQLite ceiling so both do the same work.

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
