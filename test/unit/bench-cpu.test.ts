/**
 * The benchmark's CPU figures (bench/cpu.mjs): besides cores busy, the time processes were runnable with no core
 * free (`queued`, from /proc schedstat), which tells waiting for a core apart from waiting for the other side.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { availableParallelism } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain ES module of the bench, without types
import { startCpuWatch } from '../../bench/cpu.mjs';

interface Queued {
  self: number;
  selfMain: number;
  processes?: number;
  postgres?: number;
}
type Watch = (options: { pids?: number[] }) => () => { self: number; processes?: number; queued?: Queued };

describe.runIf(process.platform === 'linux')('startCpuWatch', () => {
  it('counts the time busy processes wait for a core when there are more of them than cores', async () => {
    // Twice as many spinning processes as cores, and two more: each is at every moment running or waiting for a core,
    // so their time running and their time waiting add up to one core's worth each.
    const cores = availableParallelism();
    const count = 2 * cores + 2;
    const spinners: ChildProcess[] = Array.from({ length: count }, () =>
      spawn(process.execPath, ['-e', 'process.stdout.write("spinning\\n", () => { for (;;); })'], {
        stdio: ['ignore', 'pipe', 'ignore'],
      }),
    );
    try {
      // Measured only once every one of them is spinning (starting Node reads files: not runnable all the time).
      await Promise.all(spinners.map((c) => once(c.stdout!, 'data')));
      const done = (startCpuWatch as Watch)({ pids: spinners.map((c) => c.pid!) });
      await sleep(1000);
      const cpu = done();
      expect(cpu.processes).toBeGreaterThan(cores / 2);
      expect(cpu.queued?.processes).toBeGreaterThan(cores);
      expect(Math.abs(cpu.processes! + cpu.queued!.processes! - count)).toBeLessThan(0.6);
      expect(cpu.queued?.postgres).toBeUndefined();
      expect(cpu.queued!.selfMain).toBeGreaterThanOrEqual(0);
      expect(cpu.queued!.selfMain).toBeLessThanOrEqual(cpu.queued!.self + 1e-9);
    } finally {
      for (const c of spinners) c.kill('SIGKILL');
    }
  });
});
