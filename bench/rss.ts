// Resident memory of bench processes, read from /proc (Linux only, as the benches are): what the kernel
// charges the process, the figure a container's memory limit is held against.
import fs from 'node:fs';

export function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : NaN;
}

export interface PeakRssSampler {
  /** Highest RSS seen per pid, in the order given, from the first sample on. */
  peaks(): number[];
  stop(): void;
}

/**
 * Samples every pid's RSS every `everyMs` and keeps the highest. A peak between two samples is missed, so
 * the interval is short; a process that exited keeps the peak it had.
 */
export function samplePeakRss(pids: number[], everyMs = 250): PeakRssSampler {
  const peaks = pids.map(() => 0);
  const sample = () => {
    pids.forEach((pid, i) => {
      try {
        peaks[i] = Math.max(peaks[i], rssBytes(pid));
      } catch {
        /* exited: whoever waits on the process reports it */
      }
    });
  };
  sample();
  const timer = setInterval(sample, everyMs);
  return { peaks: () => [...peaks], stop: () => clearInterval(timer) };
}

export const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(0);

/** A /proc `stat` line's command name and its user and system CPU seconds. */
function statTimes(stat: string): { name: string; user: number; system: number } {
  // Fields after the command name (which may hold spaces, so split after its closing parenthesis).
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime and stime are fields 14 and 15 of the line: 11 and 12 after the state field, in clock ticks.
  return {
    name: stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')),
    user: Number(fields[11]) / CLOCK_TICKS_PER_SECOND,
    system: Number(fields[12]) / CLOCK_TICKS_PER_SECOND,
  };
}

/** CPU time (user + system) a process has used so far, in seconds; NaN once it has exited. */
export function cpuSeconds(pid: number): number {
  try {
    const { user, system } = statTimes(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
    return user + system;
  } catch {
    return NaN;
  }
}

/** This process's CPU so far by thread kind: the event loop, libuv's thread pool, and all other threads. */
export interface ThreadCpu {
  eventLoop: { user: number; system: number };
  threadPool: { user: number; system: number };
  others: { user: number; system: number };
}

/**
 * This process's CPU by thread kind, in seconds, from /proc/self/task; undefined where /proc cannot be read.
 * The main thread is the event loop; libuv names its pool's threads `libuv-worker`.
 */
export function threadCpu(): ThreadCpu | undefined {
  try {
    const sum: ThreadCpu = {
      eventLoop: { user: 0, system: 0 },
      threadPool: { user: 0, system: 0 },
      others: { user: 0, system: 0 },
    };
    for (const tid of fs.readdirSync('/proc/self/task')) {
      let stat: string;
      try {
        stat = fs.readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      } catch {
        continue; // the thread ended meanwhile
      }
      const t = statTimes(stat);
      const kind =
        Number(tid) === process.pid ? sum.eventLoop : t.name === 'libuv-worker' ? sum.threadPool : sum.others;
      kind.user += t.user;
      kind.system += t.system;
    }
    return sum;
  } catch {
    return undefined;
  }
}

/**
 * CPU used since `before`, by thread kind. A thread that ended meanwhile would count against its kind; the
 * event loop and the thread pool live as long as the process.
 */
export function threadCpuSince(before: ThreadCpu): ThreadCpu | undefined {
  const now = threadCpu();
  if (!now) return undefined;
  const less = (a: { user: number; system: number }, b: { user: number; system: number }) => ({
    user: a.user - b.user,
    system: a.system - b.system,
  });
  return {
    eventLoop: less(now.eventLoop, before.eventLoop),
    threadPool: less(now.threadPool, before.threadPool),
    others: less(now.others, before.others),
  };
}

/** USER_HZ: the kernel reports process times in these ticks on every Linux the benches run on. */
const CLOCK_TICKS_PER_SECOND = 100;
