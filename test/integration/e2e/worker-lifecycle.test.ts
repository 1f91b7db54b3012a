// The worker process as ops run it: Prometheus metrics on METRICS_PORT, health on HEALTH_PORT, JSON logs,
// clean exit on SIGTERM, a failed start-up that ends the process, and a configuration error that names
// every bad variable without echoing the secret.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../../../tooling/devserver';
import { connectTestTemporal, type TestTemporal } from '../../support/temporal-harness';
import { spawnWorkerProcess } from '../../support/worker-process';
import { waitFor } from '../../support/wait-for';

const ROOT = path.resolve(__dirname, '../../..');

/** Runs `worker` to its end (SIGKILL after `timeoutMs`), with its exit code or signal and its output. */
function runWorker(
  env: Record<string, string>,
  timeoutMs: number,
): Promise<{ code: number | null; signal: NodeJS.Signals | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(ROOT, 'bin/m3ter-exports.js'), 'worker'], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, output });
    });
  });
}

describe('worker process lifecycle', () => {
  let temporal: TestTemporal;
  beforeAll(async () => {
    temporal = await connectTestTemporal();
  });
  afterAll(async () => temporal?.close());

  it('serves Prometheus metrics, logs JSON without the secret, and exits 0 on SIGTERM', async () => {
    const metricsPort = await freePort();
    const healthPort = await freePort();
    const secret = `lifecycle-secret-${Date.now()}`;
    const worker = await spawnWorkerProcess({
      M3TER_ORG_ID: 'org-lifecycle',
      M3TER_ACCESS_KEY_ID: 'key-lifecycle',
      M3TER_API_SECRET: secret,
      M3TER_API_URL: 'http://127.0.0.1:9', // never called: no workflows run here
      TEMPORAL_ADDRESS: temporal.address,
      TEMPORAL_TASK_QUEUE: `lifecycle-${Date.now()}`,
      EXPORT_DIR: fs.mkdtempSync(path.join(os.tmpdir(), 'lifecycle-')),
      METRICS_PORT: String(metricsPort),
      HEALTH_PORT: String(healthPort),
    });
    const health = await waitFor(async () => {
      const res = await fetch(`http://127.0.0.1:${healthPort}/healthz`);
      return res.status === 200 ? ((await res.json()) as { live: boolean }) : undefined;
    }, '/healthz');
    expect(health.live).toBe(true);
    const metrics = await waitFor(
      async () => {
        const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
        return /temporal_/.test(text) ? text : undefined;
      },
      'Prometheus metrics',
      { timeoutMs: 10_000 },
    );
    expect(metrics).toMatch(/^temporal_\w+/m);
    const code = await worker.kill('SIGTERM');
    expect(code).toBe(0);
    const lines = worker
      .output()
      .split('\n')
      .filter((l) => l.startsWith('{'));
    const parsed = lines.map((l) => JSON.parse(l) as { msg?: string; level?: string });
    expect(parsed.map((p) => p.msg)).toEqual(expect.arrayContaining(['worker started', 'worker stopped']));
    expect(worker.output()).not.toContain(secret);
  });

  it('exits 1 when a start-up step fails after connecting, closing what it opened', async () => {
    // The health port is taken: the worker has connected to Temporal and built its workers by then, so
    // only a start-up that releases them lets the process end on its own.
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const taken = (blocker.address() as net.AddressInfo).port;
    try {
      const res = await runWorker(
        {
          M3TER_ORG_ID: 'org-lifecycle',
          M3TER_ACCESS_KEY_ID: 'key-lifecycle',
          M3TER_API_SECRET: 'lifecycle-secret',
          M3TER_API_URL: 'http://127.0.0.1:9',
          TEMPORAL_ADDRESS: temporal.address,
          TEMPORAL_TASK_QUEUE: `lifecycle-taken-${Date.now()}`,
          EXPORT_DIR: fs.mkdtempSync(path.join(os.tmpdir(), 'lifecycle-')),
          HEALTH_PORT: String(taken),
          MONITOR: 'off',
        },
        60_000,
      );
      expect(res.signal).toBeNull(); // ended by itself, not by the timeout's SIGKILL
      expect(res.code).toBe(1);
      expect(res.output).toContain('EADDRINUSE');
      expect(res.output).not.toContain('worker started');
    } finally {
      await new Promise((r) => blocker.close(r));
    }
  });

  it('refuses to start on bad configuration, naming every variable and never echoing the secret', () => {
    const secret = 'not-a-url-but-secret-value';
    const res = spawnSync(process.execPath, [path.join(ROOT, 'bin/m3ter-exports.js'), 'worker'], {
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        M3TER_API_SECRET: secret,
        M3TER_API_URL: 'ftp://x',
        METRICS_PORT: '70000',
      },
      encoding: 'utf8',
    });
    expect(res.status).toBe(2);
    for (const name of ['M3TER_ORG_ID', 'M3TER_ACCESS_KEY_ID', 'M3TER_API_URL', 'METRICS_PORT'])
      expect(res.stderr).toContain(name);
    expect(res.stderr + res.stdout).not.toContain(secret);
  });
});
