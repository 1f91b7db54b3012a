// Cleans up after a test process that dies without running its own cleanup (SIGKILL, an OOM kill, a CI
// timeout). `process.on('exit')` handlers do not run then, and servers that daemonise (pg_ctl's postmaster)
// or that were spawned as plain children are left running, holding ports and temporary directories.
//
// The reaper is a detached shell that polls the owner's pid once a second; when the owner is gone it runs
// its command. The owner stops it (SIGKILL, so the command never runs) after a normal cleanup.
import { spawn } from 'node:child_process';

export interface Reaper {
  /** The reaper's own process. */
  pid: number | undefined;
  /** Cancels the reaper: call after the owner cleaned up itself. Safe to call twice. */
  cancel(): void;
}

/**
 * Starts a reaper for the current process. `command` is a POSIX shell script, run with `sh -c` once this
 * process has died; it must be idempotent and quiet (its output goes nowhere).
 */
export function startReaper(command: string, ownerPid: number = process.pid): Reaper {
  const script = `while kill -0 ${ownerPid} 2>/dev/null; do sleep 1; done\n${command}`;
  const child = spawn('sh', ['-c', script], { detached: true, stdio: 'ignore' });
  child.unref();
  let cancelled = false;
  return {
    pid: child.pid,
    cancel() {
      if (cancelled) return;
      cancelled = true;
      try {
        child.kill('SIGKILL');
      } catch {
        // Already gone.
      }
    },
  };
}

/** Single-quotes a value for a POSIX shell command line. */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}
