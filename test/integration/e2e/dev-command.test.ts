// `m3ter-exports dev` as a developer runs it: a separate process that starts its own Temporal dev server
// (with UI), a sandbox and a worker, prints how to point the CLI at them, runs an export started by the
// CLI from another process, and on SIGTERM stops everything and exits 0.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../../../tooling/devserver';
import { waitFor } from '../../support/wait-for';

const ROOT = path.resolve(__dirname, '../../..');
const BIN = path.join(ROOT, 'bin/m3ter-exports.js');

const portOpen = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });

describe('m3ter-exports dev', () => {
  it('runs an export started from another shell, and stops everything on SIGTERM', async () => {
    const [temporalPort, uiPort] = [await freePort(), await freePort()];
    const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'm3ter-dev-'));
    const dev = spawn(
      process.execPath,
      [BIN, 'dev', '--temporal-port', String(temporalPort), '--ui-port', String(uiPort)],
      { cwd, env: { ...process.env, LOG_LEVEL: 'warn' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const killOnExit = () => dev.kill('SIGKILL');
    process.once('exit', killOnExit);
    let out = '';
    dev.stdout.on('data', (c: Buffer) => (out += c.toString()));
    dev.stderr.on('data', (c: Buffer) => (out += c.toString()));
    const exited = new Promise<number | null>((resolve) => dev.once('exit', (code) => resolve(code)));
    try {
      await waitFor(
        () => {
          if (dev.exitCode !== null) throw new Error(`dev exited early:\n${out}`);
          return out.includes('Ctrl-C stops everything');
        },
        'the dev stack to be ready',
        { timeoutMs: 120_000, intervalMs: 100 },
      );
      expect(out).toContain(`Temporal UI     http://127.0.0.1:${uiPort}`);
      expect(out).toMatch(/m3ter SANDBOX .*not m3ter/);
      expect((await fetch(`http://127.0.0.1:${uiPort}/`)).status).toBe(200);

      // The "In another shell" lines, as a developer would paste them.
      const env: Record<string, string> = {};
      for (const m of out.matchAll(/^\s+export (.+)$/gm))
        for (const kv of m[1].split(' ')) {
          const [k, v] = kv.split('=');
          env[k] = v;
        }
      expect(Object.keys(env).sort()).toEqual([
        'M3TER_ACCESS_KEY_ID',
        'M3TER_API_SECRET',
        'M3TER_API_URL',
        'M3TER_INGEST_URL',
        'M3TER_ORG_ID',
        'TEMPORAL_ADDRESS',
      ]);
      const exportRun = spawnSync(
        process.execPath,
        [BIN, 'export', 'operational', '--types', 'ACCOUNTS', '--name', 'dev-test', '--wait'],
        { cwd, env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env }, encoding: 'utf8' },
      );
      expect(exportRun.status).toBe(0);
      const manifest = JSON.parse(exportRun.stdout.slice(exportRun.stdout.indexOf('{'))) as {
        manifest?: { path: string };
        path?: string;
      };
      const file = manifest.manifest?.path ?? manifest.path;
      expect(file && fs.existsSync(file)).toBe(true);

      dev.kill('SIGTERM');
      expect(await exited).toBe(0);
      // Its Temporal server went with it.
      expect(await portOpen(temporalPort)).toBe(false);
    } finally {
      if (dev.exitCode === null) dev.kill('SIGKILL');
      process.removeListener('exit', killOnExit);
    }
  });
});
