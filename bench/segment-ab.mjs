// Compares two checkouts on the Segment row of `npm run bench`, alternating so both see the same machine load:
// `roster serve` from each root in turn on a fresh SQLite data dir, the same `/v1/batch` bodies (100 messages: 60%
// track, 30% identify, 10% page), 8 connections, 3 s warm-up, 10 s measured. Prints msgs/s, the server's CPU (cores,
// from /proc) and msgs per server core-second, the figure that moves least when other work shares the machine.
// Each root must be built (`npm run build`). Usage: node bench/segment-ab.mjs <rootA> <rootB> [rounds, default 3]
// AB_NODE_FLAGS_A / AB_NODE_FLAGS_B give the server of A / B extra Node flags (space-separated), so one root can be
// compared with itself under another flag.
import autocannon from 'autocannon';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { serveNodeFlags } from './serve-flags.mjs';
import { createIdPool, segmentBatchMessages } from './workload.mjs';

const [rootA, rootB, rounds = '3'] = process.argv.slice(2);
if (!rootA || !rootB) throw new Error('usage: node bench/segment-ab.mjs <rootA> <rootB> [rounds]');
const SECONDS = 10;

/** CPU seconds a process has used, from /proc/<pid>/stat (utime + stime, in clock ticks of 1/100 s). */
function cpuSeconds(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function segmentBatch(nextId) {
  let seq = 0;
  return {
    method: 'POST',
    path: '/v1/batch',
    setupRequest(req) {
      const batch = segmentBatchMessages(nextId, 100, () => `ab-${process.pid}-${Date.now()}-${seq++}`);
      req.body = JSON.stringify({ batch });
      return req;
    },
  };
}

async function measure(root, nodeFlags) {
  const dataDir = mkdtempSync(join(tmpdir(), 'roster-segment-ab-'));
  const env = { ...process.env, ROSTER_DATA_DIR: dataDir, LOG_LEVEL: 'warn', HOST: '127.0.0.1', PORT: '0' };
  const bin = join(root, 'bin/roster.js');
  const ws = JSON.parse(
    execFileSync(process.execPath, [bin, 'workspace', 'create', '--name', 'ab', '--json'], { env }),
  );
  const authorization = `Basic ${Buffer.from(`${ws.segment_write_key}:`).toString('base64')}`;
  const child = spawn(process.execPath, [...nodeFlags, bin, 'serve'], {
    env,
    cwd: root,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    const port = await new Promise((done, fail) => {
      let out = '';
      const timer = setTimeout(() => fail(new Error(`${root}: the server did not start`)), 20_000);
      child.stdout.on('data', (chunk) => {
        out += chunk;
        const found = /running at http:\/\/127\.0\.0\.1:(\d+)/.exec(out);
        if (!found) return;
        clearTimeout(timer);
        done(Number(found[1]));
      });
    });
    const options = {
      url: `http://127.0.0.1:${port}`,
      connections: 8,
      headers: { 'content-type': 'application/json', authorization },
      requests: [segmentBatch(createIdPool())],
    };
    await autocannon({ ...options, duration: 3 });
    const cpu = cpuSeconds(child.pid);
    const started = Date.now();
    const result = await autocannon({ ...options, duration: SECONDS });
    const cores = (cpuSeconds(child.pid) - cpu) / ((Date.now() - started) / 1000);
    // The server's peak resident memory so far (kB).
    const peakKb = Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1]);
    const msgsPerS = (result['2xx'] * 100) / SECONDS;
    return { root, msgsPerS, cores, perCore: msgsPerS / cores, peakKb, failed: result.non2xx + result.errors };
  } finally {
    child.kill('SIGTERM');
    await new Promise((done) => (child.exitCode === null ? child.once('exit', done) : done()));
    rmSync(dataDir, { recursive: true, force: true });
  }
}

for (let round = 0; round < Number(rounds); round++)
  for (const [root, flags] of [
    [resolve(rootA), process.env.AB_NODE_FLAGS_A],
    [resolve(rootB), process.env.AB_NODE_FLAGS_B],
  ]) {
    // The flags `npm start` gives `roster serve`, then the side's own.
    const nodeFlags = [...serveNodeFlags, ...(flags ? flags.split(' ') : [])];
    const r = await measure(root, nodeFlags);
    console.log(
      `${r.root}${flags ? ` (${flags})` : ''}: ${Math.round(r.msgsPerS)} msgs/s · server ${r.cores.toFixed(2)} cores · ` +
        `${Math.round(r.perCore)} msgs per server core-second · peak RSS ${Math.round(r.peakKb / 1024)} MB · ` +
        `failed ${r.failed} · load ${loadavg()[0].toFixed(2)}`,
    );
  }
