// CPU time spent over a measured window by PostgreSQL, by given child processes and by this process, read from
// /proc (Linux). Elsewhere, or for processes it may not read, the figures are left out rather than guessed.
import { readdirSync, readFileSync } from 'node:fs';

// USER_HZ: the unit of utime/stime in /proc/<pid>/stat, 100 on every Linux architecture Node supports.
const TICKS_PER_S = 100;

/** utime + stime of a process in ticks, or null when it is gone or unreadable. */
function ticks(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start at field 3: utime is 14, stime is 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return null;
  }
}

/** The PostgreSQL server's processes (postmaster, backends, WAL writer, …) visible on this machine. */
function postgresPids() {
  try {
    return readdirSync('/proc').filter((name) => {
      if (!/^\d+$/.test(name)) return false;
      try {
        return readFileSync(`/proc/${name}/comm`, 'utf8') === 'postgres\n';
      } catch {
        return false;
      }
    });
  } catch {
    return [];
  }
}

/**
 * Starts a window; the function it returns ends it and gives cores busy on average (CPU seconds ÷ wall seconds):
 * `self` (this process), `processes` (the pids given, summed) and, with `postgres`, all PostgreSQL processes,
 * counting a backend that started during the window from its start.
 */
export function startCpuWatch({ pids = [], postgres = false } = {}) {
  const wallStart = performance.now();
  const selfStart = process.cpuUsage();
  const processStart = pids.map(ticks);
  const pgStart = postgres ? new Map(postgresPids().map((pid) => [pid, ticks(pid) ?? 0])) : null;
  return () => {
    const wallS = (performance.now() - wallStart) / 1000;
    const self = process.cpuUsage(selfStart);
    const result = { self: (self.user + self.system) / 1e6 / wallS };
    if (pids.length > 0 && processStart.every((t) => t !== null)) {
      const used = pids.reduce((sum, pid, i) => sum + ((ticks(pid) ?? processStart[i]) - processStart[i]), 0);
      result.processes = used / TICKS_PER_S / wallS;
    }
    if (pgStart && pgStart.size > 0) {
      let used = 0;
      for (const pid of new Set([...pgStart.keys(), ...postgresPids()])) {
        const before = pgStart.get(pid) ?? 0;
        used += (ticks(pid) ?? before) - before;
      }
      result.postgres = used / TICKS_PER_S / wallS;
    }
    return result;
  };
}
