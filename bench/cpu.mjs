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

/**
 * Nanoseconds a process's threads (or only its main thread) spent runnable but waiting for a CPU: the second field of
 * each thread's /proc schedstat. Threads that ended during a window take their share with them. Null when unreadable.
 */
function queuedNs(pid, mainThreadOnly = false) {
  try {
    const tids = mainThreadOnly ? [String(pid)] : readdirSync(`/proc/${pid}/task`);
    let sum = 0;
    for (const tid of tids) sum += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[1]);
    return sum;
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
 * Starts totals of one per-process counter (`read(pid)`, null when unreadable) over `pids` and over PostgreSQL's
 * processes (`pgPids`, null to leave them out). The function it returns, given PostgreSQL's processes then, answers
 * how much each total grew: `processes` (left out unless every pid was readable at the start) and `postgres` (left out
 * when there were none; a process that started during the window counts from its start).
 */
function counterWindow(read, pids, pgPids) {
  const processStart = pids.map(read);
  const pgStart = pgPids && new Map(pgPids.map((pid) => [pid, read(pid) ?? 0]));
  return (pgPidsNow) => {
    const grown = {};
    if (pids.length > 0 && processStart.every((t) => t !== null))
      grown.processes = pids.reduce((sum, pid, i) => sum + ((read(pid) ?? processStart[i]) - processStart[i]), 0);
    if (pgStart && pgStart.size > 0) {
      grown.postgres = 0;
      for (const pid of new Set([...pgStart.keys(), ...pgPidsNow])) {
        const before = pgStart.get(pid) ?? 0;
        grown.postgres += (read(pid) ?? before) - before;
      }
    }
    return grown;
  };
}

/**
 * Starts a window; the function it returns ends it and gives cores busy on average (CPU seconds ÷ wall seconds):
 * `self` (this process), `processes` (the pids given, summed) and, with `postgres`, all PostgreSQL processes,
 * counting a backend that started during the window from its start. Where /proc tells, `queued` gives the same
 * processes' time runnable but waiting for a CPU (seconds ÷ wall seconds; `selfMain`: this process's main thread):
 * a machine with idle time on average can still keep the next step of a batch waiting for a core.
 */
export function startCpuWatch({ pids = [], postgres = false } = {}) {
  const wallStart = performance.now();
  const selfStart = process.cpuUsage();
  const pgPids = postgres ? postgresPids() : null;
  const used = counterWindow(ticks, pids, pgPids);
  const waited = counterWindow(queuedNs, pids, pgPids);
  const selfQueued = queuedNs(process.pid);
  const selfMainQueued = queuedNs(process.pid, true);
  return () => {
    const wallS = (performance.now() - wallStart) / 1000;
    const self = process.cpuUsage(selfStart);
    const result = { self: (self.user + self.system) / 1e6 / wallS };
    const pgPidsNow = postgres ? postgresPids() : [];
    const ticksUsed = used(pgPidsNow);
    if (ticksUsed.processes !== undefined) result.processes = ticksUsed.processes / TICKS_PER_S / wallS;
    if (ticksUsed.postgres !== undefined) result.postgres = ticksUsed.postgres / TICKS_PER_S / wallS;
    const selfNow = queuedNs(process.pid);
    const selfMainNow = queuedNs(process.pid, true);
    if (selfQueued !== null && selfMainQueued !== null && selfNow !== null && selfMainNow !== null) {
      const nsWaited = waited(pgPidsNow);
      const cores = (ns) => (ns === undefined ? undefined : ns / 1e9 / wallS);
      result.queued = {
        self: cores(selfNow - selfQueued),
        selfMain: cores(selfMainNow - selfMainQueued),
        processes: cores(nsWaited.processes),
        postgres: cores(nsWaited.postgres),
      };
    }
    return result;
  };
}
