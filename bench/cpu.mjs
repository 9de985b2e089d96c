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
 * Starts a window; the function it returns ends it and gives cores busy on average (CPU seconds ÷ wall seconds):
 * `self` (this process), `processes` (the pids given, summed) and, with `postgres`, all PostgreSQL processes,
 * counting a backend that started during the window from its start. Where /proc tells, `queued` gives the same
 * processes' time runnable but waiting for a CPU (seconds ÷ wall seconds; `selfMain`: this process's main thread):
 * a machine with idle time on average can still keep the next step of a batch waiting for a core.
 */
export function startCpuWatch({ pids = [], postgres = false } = {}) {
  const wallStart = performance.now();
  const selfStart = process.cpuUsage();
  const processStart = pids.map(ticks);
  const pgStart = postgres ? new Map(postgresPids().map((pid) => [pid, ticks(pid) ?? 0])) : null;
  const queuedStart = {
    self: queuedNs(process.pid),
    selfMain: queuedNs(process.pid, true),
    processes: pids.map((pid) => queuedNs(pid)),
    postgres: postgres ? new Map(postgresPids().map((pid) => [pid, queuedNs(pid) ?? 0])) : null,
  };
  return () => {
    const wallS = (performance.now() - wallStart) / 1000;
    const self = process.cpuUsage(selfStart);
    const result = { self: (self.user + self.system) / 1e6 / wallS };
    const queued = {};
    const since = (now, before) => (now === null || before === null ? undefined : (now - before) / 1e9 / wallS);
    queued.self = since(queuedNs(process.pid), queuedStart.self);
    queued.selfMain = since(queuedNs(process.pid, true), queuedStart.selfMain);
    if (pids.length > 0 && queuedStart.processes.every((t) => t !== null))
      queued.processes = since(
        pids.reduce((sum, pid, i) => sum + (queuedNs(pid) ?? queuedStart.processes[i]), 0),
        queuedStart.processes.reduce((sum, t) => sum + t, 0),
      );
    if (queuedStart.postgres && queuedStart.postgres.size > 0) {
      let waited = 0;
      for (const pid of new Set([...queuedStart.postgres.keys(), ...postgresPids()])) {
        const before = queuedStart.postgres.get(pid) ?? 0;
        waited += (queuedNs(pid) ?? before) - before;
      }
      queued.postgres = waited / 1e9 / wallS;
    }
    if (queued.self !== undefined) result.queued = queued;
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
