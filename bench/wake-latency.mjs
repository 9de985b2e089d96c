// How long a round trip to a PostgreSQL backend takes when one side must be woken on the other core, against both on
// one core: `select 1` over one connection, this process pinned to core 0 and the backend to core 0, then to core 1
// (`taskset`), each first with a 1 ms pause before every query (the backend sleeps, its core may go idle) and then
// back to back. On a virtual machine an idle virtual core is halted, and waking it goes through the host.
// Usage: node bench/wake-latency.mjs [queries]   (default 2,000 per case; ROSTER_TEST_DATABASE_URL or the test database)
import { execFileSync } from 'node:child_process';
import { cpus } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';

const QUERIES = Number(process.argv[2] ?? 2000);
const BASE = process.env.ROSTER_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

if (cpus().length < 2) {
  console.log('One core: nothing to compare.');
  process.exit(0);
}

const pin = (pid, core, allThreads = false) =>
  execFileSync('taskset', ['-p', ...(allThreads ? ['-a'] : []), '-c', String(core), String(pid)], { stdio: 'ignore' });

/** Microseconds at the median, 90th and 99th percentiles and the most, of the given round trips. */
function spread(us) {
  const sorted = [...us].sort((a, b) => a - b);
  const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  return `median ${at(0.5).toFixed(0)} · p90 ${at(0.9).toFixed(0)} · p99 ${at(0.99).toFixed(0)} · max ${sorted.at(-1).toFixed(0)} µs`;
}

const client = new pg.Client({ connectionString: BASE });
await client.connect();
try {
  const backend = (await client.query('select pg_backend_pid() as pid')).rows[0].pid;
  pin(process.pid, 0, true);
  for (const core of [0, 1]) {
    pin(backend, core);
    for (const pause of [true, false]) {
      const us = [];
      for (let i = 0; i < QUERIES; i++) {
        if (pause) await sleep(1);
        const started = process.hrtime.bigint();
        await client.query({ text: 'select 1', name: 'wake' });
        us.push(Number(process.hrtime.bigint() - started) / 1000);
      }
      const where = core === 0 ? 'backend on this core' : 'backend on the other core';
      console.log(`${where}, ${pause ? '1 ms pause before each' : 'back to back'}: ${spread(us)}`);
    }
  }
} finally {
  await client.end();
}
