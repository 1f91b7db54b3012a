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

/** CPU time (user + system) a process has used so far, in seconds; NaN once it has exited. */
export function cpuSeconds(pid: number): number {
  try {
    // Fields after the command name (which may hold spaces, so split after its closing parenthesis).
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime are fields 14 and 15 of the line: 11 and 12 after the state field, in clock ticks.
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return NaN;
  }
}

/** USER_HZ: the kernel reports process times in these ticks on every Linux the benches run on. */
const CLOCK_TICKS_PER_SECOND = 100;
