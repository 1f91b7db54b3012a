// The worker process as ops run it: Prometheus metrics on METRICS_PORT, JSON logs, clean exit on SIGTERM,
// and a configuration error that names every bad variable without echoing the secret.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../../../tooling/devserver';
import { connectTestTemporal, type TestTemporal } from '../../support/temporal-harness';
import { spawnWorkerProcess } from '../../support/worker-process';
import { waitFor } from '../../support/wait-for';

const ROOT = path.resolve(__dirname, '../../..');

describe('worker process lifecycle', () => {
  let temporal: TestTemporal;
  beforeAll(async () => {
    temporal = await connectTestTemporal();
  });
  afterAll(async () => temporal?.close());

  it('serves Prometheus metrics, logs JSON without the secret, and exits 0 on SIGTERM', async () => {
    const metricsPort = await freePort();
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
    });
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
