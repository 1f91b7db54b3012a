// TOML profiles, as the temporal CLI reads them: a config file (TEMPORAL_CONFIG_FILE) whose profile, picked
// with TEMPORAL_PROFILE, holds the address, namespace and mTLS files of the Temporal server on Postgres.
// A worker process and the CLI given only those two variables run an export end to end, as they do with
// the TEMPORAL_* variables; a profile the file lacks is a bad setting (exit 2).
import fs from 'node:fs';
import path from 'node:path';
import { runCli } from '../support/cli-process';
import { expectExported, startMtlsStack, type SecuredStack } from '../support/secured-temporal';
import { temporalEnv } from '../support/temporal-env';
import { spawnWorkerProcess, type WorkerProcess } from '../support/worker-process';

describe('a TOML profile selected with TEMPORAL_PROFILE', () => {
  let stack: SecuredStack;
  let configFile: string;

  beforeAll(async () => {
    stack = await startMtlsStack('profile');
    const { pki, temporal } = stack;
    configFile = path.join(stack.dir, 'temporal.toml');
    // The default profile points nowhere useful: only the selected one may be used.
    fs.writeFileSync(
      configFile,
      [
        '[profile.default]',
        'address = "127.0.0.1:1"',
        '',
        '[profile.secure]',
        `address = "${temporal.address}"`,
        `namespace = "${temporal.namespace}"`,
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

  afterAll(() => stack?.stop(), 120_000);

  it('lets a worker and the CLI run an export with nothing but TEMPORAL_CONFIG_FILE and TEMPORAL_PROFILE', async () => {
    const env = temporalEnv({
      TEMPORAL_CONFIG_FILE: configFile,
      TEMPORAL_PROFILE: 'secure',
      TEMPORAL_TASK_QUEUE: 'profile-exports',
    });
    let worker: WorkerProcess | undefined;
    try {
      worker = await spawnWorkerProcess({
        ...stack.sandbox.env,
        ...env,
        EXPORT_DIR: path.join(stack.dir, 'exports'),
      });
      const run = await runCli(
        ['export', 'operational', '--types', 'ACCOUNTS', '--name', 'profile', '--wait'],
        env,
      );
      expectExported(run);
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
