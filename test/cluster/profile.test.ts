// TOML profiles, as the temporal CLI reads them: a config file (TEMPORAL_CONFIG_FILE) whose profile, picked
// with TEMPORAL_PROFILE, holds the address, namespace and mTLS files of the Temporal server on Postgres.
// A worker process and the CLI given only those two variables run an export end to end, as they do with
// the TEMPORAL_* variables; a profile the file lacks is a bad setting (exit 2).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCli } from '../support/cli-process';
import type { SandboxProcess } from '../../tooling/sandbox-process';
import type { PostgresTemporal } from '../support/temporal-postgres';
import { startMtlsStack } from '../support/secured-temporal';
import { temporalEnv } from '../support/temporal-env';
import { createTestPki, type TestPki } from '../support/tls-certs';
import { spawnWorkerProcess, type WorkerProcess } from '../support/worker-process';

describe('a TOML profile selected with TEMPORAL_PROFILE', () => {
  let pki: TestPki;
  let temporal: PostgresTemporal | undefined;
  let sandbox: SandboxProcess | undefined;
  let dir: string;
  let configFile: string;

  beforeAll(async () => {
    pki = createTestPki();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'm3ter-profile-'));
    ({ temporal, sandbox } = await startMtlsStack('profile', pki));
    configFile = path.join(dir, 'temporal.toml');
    // The default profile points nowhere useful: only the selected one may be used.
    fs.writeFileSync(
      configFile,
      [
        '[profile.default]',
        'address = "127.0.0.1:1"',
        '',
        '[profile.secure]',
        `address = "${temporal!.address}"`,
        `namespace = "${temporal!.namespace}"`,
        '',
        '[profile.secure.tls]',
        `client_cert_path = "${pki.client.cert}"`,
        `client_key_path = "${pki.client.key}"`,
        `server_ca_cert_path = "${pki.ca.cert}"`,
        'server_name = "localhost"',
        '',
      ].join('\n'),
    );
  }, 600_000);

  afterAll(async () => {
    await Promise.allSettled([sandbox?.stop(), temporal?.stop()]);
    pki?.remove();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  }, 120_000);

  it('lets a worker and the CLI run an export with nothing but TEMPORAL_CONFIG_FILE and TEMPORAL_PROFILE', async () => {
    const env = temporalEnv({
      TEMPORAL_CONFIG_FILE: configFile,
      TEMPORAL_PROFILE: 'secure',
      TEMPORAL_TASK_QUEUE: 'profile-exports',
    });
    let worker: WorkerProcess | undefined;
    try {
      worker = await spawnWorkerProcess({ ...sandbox!.env, ...env, EXPORT_DIR: path.join(dir, 'exports') });
      const run = await runCli(
        ['export', 'operational', '--types', 'ACCOUNTS', '--name', 'profile', '--wait'],
        env,
      );
      expect(run).toMatchObject({ code: 0 });
      const result = JSON.parse(run.stdout) as { manifest: { path: string; bytes: number } };
      expect(fs.statSync(result.manifest.path).size).toBe(result.manifest.bytes);
      expect(await runCli(['schedules', 'list', '--json'], env)).toMatchObject({ code: 0 });
    } finally {
      await worker?.stop();
    }
  });

  it('names the profile and the file when the profile is missing (exit 2)', async () => {
    const r = await runCli(
      ['failed', 'list'],
      temporalEnv({ TEMPORAL_CONFIG_FILE: configFile, TEMPORAL_PROFILE: 'prod' }),
    );
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(
      `Temporal setting TEMPORAL_PROFILE: profile "prod" not found in ${configFile} (it has "default", "secure")`,
    );
  });

  it('names the profile the address came from when nothing listens there', async () => {
    const r = await runCli(['failed', 'list'], temporalEnv({ TEMPORAL_CONFIG_FILE: configFile }));
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe(
      `Cannot connect to Temporal at 127.0.0.1:1 (from address in profile "default" of ${configFile}): ` +
        'connection refused: nothing listens at 127.0.0.1:1. For a local Temporal, run `m3ter-exports dev`',
    );
  });
});
