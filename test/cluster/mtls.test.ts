// Mutual TLS: the Temporal server on Postgres with frontend TLS and requireClientAuth, its certificates made
// for this run by a test CA. A worker process and the CLI given a client certificate through the TEMPORAL_TLS_*
// variables run an export end to end against the sandbox; without a certificate, with one from another CA,
// without the CA that signed the server's, or in plaintext, both are refused with one line naming the cause.
import { runCli } from '../support/cli-process';
import { expectExported, startMtlsStack, type SecuredStack } from '../support/secured-temporal';
import { temporalEnv } from '../support/temporal-env';
import { spawnWorkerProcess } from '../support/worker-process';

describe('a Temporal server that requires client certificates', () => {
  let stack: SecuredStack;

  beforeAll(async () => {
    stack = await startMtlsStack('mtls');
  }, 600_000);

  afterAll(() => stack?.stop(), 120_000);

  const settings = (extra: Record<string, string>) => stack.settings('mtls-exports', extra);
  const withClientCert = () =>
    settings({
      TEMPORAL_TLS_CLIENT_CERT_PATH: stack.pki.client.cert,
      TEMPORAL_TLS_CLIENT_KEY_PATH: stack.pki.client.key,
    });

  /** The CLI and the worker with these settings: both must exit 1 with one line containing `expected`. */
  async function expectRefused(env: Record<string, string>, expected: RegExp): Promise<void> {
    // Independent processes: started together, they cost one start-up instead of two.
    const [cli, worker] = await Promise.all([
      runCli(['failed', 'list'], env),
      runCli(['worker'], { ...stack.sandbox.env, ...env, EXPORT_DIR: stack.dir }),
    ]);
    expect(cli.code).toBe(1);
    expect(cli.stderr.trim()).toMatch(expected);
    expect(cli.stderr.trim().split('\n')).toHaveLength(1);
    expect(cli.stderr).toContain(
      `Cannot connect to Temporal at ${stack.temporal.address} (from TEMPORAL_ADDRESS)`,
    );
    expect(cli.stderr).not.toMatch(/\n\s+at /);

    expect(worker.code).toBe(1);
    expect(worker.stderr.trim().split('\n').at(-1)).toMatch(expected);
    expect(worker.stderr).not.toMatch(/\n\s+at /);
  }

  it('lets a worker and the CLI with a client certificate run an export end to end', async () => {
    const env = withClientCert();
    const worker = await spawnWorkerProcess({ ...stack.sandbox.env, ...env, EXPORT_DIR: stack.dir });
    try {
      const setup = await runCli(['setup'], env);
      expect(setup).toMatchObject({ code: 0 });
      const run = await runCli(
        ['export', 'operational', '--types', 'ACCOUNTS', '--name', 'mtls', '--wait'],
        env,
      );
      const result = expectExported<{ storage: string; manifest: { path: string; bytes: number } }>(run);
      expect(result.storage).toBe('local');
      const workflowId = /started \S+ (\S+)/.exec(run.stderr)![1];
      const status = await runCli(['status', workflowId, '--json'], env);
      expect(status).toMatchObject({ code: 0 });
      expect(JSON.parse(status.stdout)).toMatchObject({ temporalStatus: 'COMPLETED' });
      expect(await runCli(['failed', 'list'], env)).toMatchObject({ code: 0 });
    } finally {
      await worker.stop();
    }
  });

  it('refuses a worker and the CLI without a client certificate, saying one is required', async () => {
    await expectRefused(settings({}), /requires a client certificate \(mTLS\) and none is set/);
  });

  it('refuses a client certificate from another CA, naming the setting it came from', async () => {
    await expectRefused(
      settings({
        TEMPORAL_TLS_CLIENT_CERT_PATH: stack.pki.strangerClient.cert,
        TEMPORAL_TLS_CLIENT_KEY_PATH: stack.pki.strangerClient.key,
      }),
      /refused the client certificate \(TEMPORAL_TLS_CLIENT_CERT_PATH\)/,
    );
  });

  it("says when the server's certificate fails verification", async () => {
    await expectRefused(
      { ...withClientCert(), TEMPORAL_TLS_SERVER_CA_CERT_PATH: stack.pki.otherCa.cert },
      /server's certificate failed verification: .*CA from TEMPORAL_TLS_SERVER_CA_CERT_PATH/,
    );
  });

  it('says when the server requires TLS and the settings have none', async () => {
    await expectRefused(
      temporalEnv({ TEMPORAL_ADDRESS: stack.temporal.address }),
      /requires TLS but TLS is off/,
    );
  });

  it('fails before connecting, with exit 2, when the certificate does not match its key', async () => {
    const env = settings({
      TEMPORAL_TLS_CLIENT_CERT_PATH: stack.pki.client.cert,
      TEMPORAL_TLS_CLIENT_KEY_PATH: stack.pki.strangerClient.key,
    });
    const cli = await runCli(['failed', 'list'], env);
    expect(cli.code).toBe(2);
    expect(cli.stderr.trim()).toBe(
      'Temporal setting TEMPORAL_TLS_CLIENT_CERT_PATH / TEMPORAL_TLS_CLIENT_KEY_PATH: the client certificate does not match the private key',
    );
    expect(cli.stderr).not.toContain('PRIVATE KEY');
  });
});
