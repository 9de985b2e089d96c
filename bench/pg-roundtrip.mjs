// What one round trip to PostgreSQL costs this machine in CPU, on each side: a trivial prepared statement
// (`select $1::int`) run one after another on one connection, with the CPU this process and PostgreSQL used over it.
// A writer batch makes five round trips (begin, lock, read, write, commit), so this says what sending fewer of them
// (pipelining) could save per op. Not part of `npm run bench`.
// Usage: node bench/pg-roundtrip.mjs [round trips per try, default 5000]   (ROSTER_TEST_DATABASE_URL or the test db)
import pg from 'pg';
import { startCpuWatch } from './cpu.mjs';

const COUNT = Number(process.argv[2] ?? 5000);
const client = new pg.Client({
  connectionString: process.env.ROSTER_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
});
await client.connect();
const statement = (v) => client.query({ name: 'roundtrip', text: 'select $1::int as x', values: [v] });
await statement(0);
for (let attempt = 1; attempt <= 3; attempt++) {
  const done = startCpuWatch({ postgres: true });
  const started = performance.now();
  for (let i = 0; i < COUNT; i++) await statement(i);
  const wallS = (performance.now() - started) / 1000;
  const cpu = done();
  // Cores busy × wall seconds ÷ round trips = CPU seconds per round trip; PostgreSQL's is left out when /proc has
  // none of its processes (another machine), rather than shown as 0.
  const per = (cores) => (cores === undefined ? '(unreadable)' : ((cores * wallS * 1e6) / COUNT).toFixed(1));
  console.log(
    `try ${attempt}: ${COUNT} round trips, wall ${((wallS * 1e6) / COUNT).toFixed(1)} µs each; ` +
      `CPU per round trip: this process ${per(cpu.self)} µs, PostgreSQL ${per(cpu.postgres)} µs`,
  );
}
await client.end();
