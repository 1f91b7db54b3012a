// The reaper cleans up after a test process that is killed outright, and stays quiet once cancelled.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { waitFor } from '../../support/wait-for';

const REAPER = path.resolve(__dirname, '../../support/reaper.ts');
const REGISTER = path.resolve(__dirname, '../../../bin/register-ts.js');

/** Runs a node process that starts a reaper writing `marker`, optionally cancels it, then waits. */
function owner(marker: string, cancel: boolean) {
  const code = `
    require(${JSON.stringify(REGISTER)}).resolveEntry('test/support/reaper.ts');
    const { startReaper, shellQuote } = require(${JSON.stringify(REAPER)});
    const reaper = startReaper('echo reaped > ' + shellQuote(${JSON.stringify(marker)}));
    if (${cancel}) reaper.cancel();
    process.stdout.write('ready ' + reaper.pid + '\\n');
    setInterval(() => undefined, 1000);
  `;
  const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  /** Resolves with the reaper's pid once the owner started it. */
  const ready = new Promise<number>((resolve, reject) => {
    child.stdout.on('data', (c: Buffer) => {
      const m = /ready (\d+)/.exec(c.toString());
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', (c) => reject(new Error(`owner exited early with ${c}`)));
  });
  return { child, ready };
}

/** Whether a process runs (a zombie, dead but not yet reaped, does not). */
function running(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

describe('reaper', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'm3ter-reaper-test-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('runs its command once the owner process is SIGKILLed', async () => {
    const marker = path.join(dir, 'reaped');
    const { child, ready } = owner(marker, false);
    try {
      await ready;
      expect(fs.existsSync(marker)).toBe(false);
      child.kill('SIGKILL');
      await waitFor(async () => (fs.existsSync(marker) ? true : undefined), 'the reaper', {
        timeoutMs: 10_000,
      });
      expect(fs.readFileSync(marker, 'utf8').trim()).toBe('reaped');
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('runs nothing when it was cancelled before the owner died', async () => {
    const marker = path.join(dir, 'reaped');
    const { child, ready } = owner(marker, true);
    try {
      const reaperPid = await ready;
      child.kill('SIGKILL');
      // Once the reaper's process is gone, it can no longer run its command.
      await waitFor(() => !running(reaperPid), 'the reaper to be gone', { timeoutMs: 10_000 });
      expect(fs.existsSync(marker)).toBe(false);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
