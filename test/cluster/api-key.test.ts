// API keys: the Temporal server on Postgres with TLS and its JWT authorizer (the default claim mapper and
// authorizer), checking keys against a JWKS this test serves on loopback. A worker process and the CLI
// given TEMPORAL_API_KEY run an export end to end; a key signed by another key or expired is refused with
// one line; the key appears in no log, error, `--help` output or workflow history.
import fs from 'node:fs';
import { Client, Connection } from '@temporalio/client';
import { runCli } from '../support/cli-process';
import { expectExported, startApiKeyStack, type ApiKeyStack } from '../support/secured-temporal';
import { spawnWorkerProcess, type WorkerProcess } from '../support/worker-process';

describe('a Temporal server that authorizes API keys', () => {
  let stack: ApiKeyStack;
  let apiKey: string;
  /** Everything the worker and CLI processes printed, for the secret scan. */
  const outputs: string[] = [];
  const workflowIds: string[] = [];

  beforeAll(async () => {
    stack = await startApiKeyStack('api-key');
    apiKey = stack.issuer.mint({ permissions: ['default:admin'] });
  }, 600_000);

  afterAll(() => stack?.stop(), 120_000);

  const settings = (key: string) => stack.settings('api-key-exports', { TEMPORAL_API_KEY: key });
  const cli = async (args: string[], env: Record<string, string>) => {
    const r = await runCli(args, env);
    outputs.push(r.stdout, r.stderr);
    return r;
  };

  it('lets a worker and the CLI with TEMPORAL_API_KEY run an export end to end', async () => {
    const env = settings(apiKey);
    let worker: WorkerProcess | undefined;
    try {
      worker = await spawnWorkerProcess({ ...stack.sandbox.env, ...env, EXPORT_DIR: stack.dir });
      const run = await cli(
        ['export', 'usage', '--start', '2026-01-01', '--end', '2026-01-02', '--wait'],
        env,
      );
      expectExported(run);
      workflowIds.push(/started \S+ (\S+)/.exec(run.stderr)![1]);
      expect(await cli(['failed', 'list'], env)).toMatchObject({ code: 0 });
    } finally {
      await worker?.stop();
      if (worker) outputs.push(worker.output());
    }
  });

  it('refuses a key signed by another key, with one line and exit 1', async () => {
    const wrong = stack.issuer.mintForeign({ permissions: ['default:admin'] });
    const r = await cli(['failed', 'list'], settings(wrong));
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toMatch(
      /^Cannot connect to Temporal at \S+ \(from TEMPORAL_ADDRESS\): the server refused the API key \(TEMPORAL_API_KEY\)/,
    );
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).not.toContain(wrong);

    const worker = await runCli(['worker'], {
      ...stack.sandbox.env,
      ...settings(wrong),
      EXPORT_DIR: stack.dir,
    });
    outputs.push(worker.stdout, worker.stderr);
    expect(worker.code).toBe(1);
    expect(worker.stderr.trim().split('\n').at(-1)).toMatch(
      /the server refused the API key \(TEMPORAL_API_KEY\)/,
    );
    expect(`${worker.stdout}${worker.stderr}`).not.toContain(wrong);
  });

  it('refuses an expired key the same way', async () => {
    const expired = stack.issuer.mint({ permissions: ['default:admin'], expiresInSec: -600 });
    const r = await cli(['failed', 'list'], settings(expired));
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toMatch(/the server refused the API key \(TEMPORAL_API_KEY\)/);
    expect(r.stderr).not.toContain(expired);
  });

  it('tells the CLI and the worker without a key that the server wants credentials', async () => {
    const env = stack.settings('api-key-exports', { TEMPORAL_TLS: 'true' });
    const expected = `Temporal at ${stack.temporal.address} refused the request (Request unauthorized.): it wants credentials: set TEMPORAL_API_KEY, or a client certificate`;
    const r = await cli(['failed', 'list'], env);
    expect(r).toMatchObject({ code: 1, stderr: `${expected}\n` });
    const worker = await cli(['worker'], { ...stack.sandbox.env, ...env, EXPORT_DIR: stack.dir });
    expect(worker.code).toBe(1);
    expect(worker.stderr.trim().split('\n').at(-1)).toBe(expected);
  });

  it('never shows the key: not in --help, logs, errors or workflow history', async () => {
    const help = await cli(['--help'], settings(apiKey));
    expect(help.code).toBe(0);
    expect(workflowIds.length).toBeGreaterThan(0);
    const connection = await Connection.connect({
      address: stack.temporal.address,
      tls: { serverRootCACertificate: fs.readFileSync(stack.pki.ca.cert) },
      apiKey: stack.adminKey,
    });
    try {
      const client = new Client({ connection, namespace: stack.temporal.namespace });
      for (const id of workflowIds)
        outputs.push(JSON.stringify(await client.workflow.getHandle(id).fetchHistory()));
    } finally {
      await connection.close();
    }
    const haystack = outputs.join('\n');
    expect(haystack.length).toBeGreaterThan(1000);
    // The whole key, and its signature alone (the part that makes it a credential).
    expect(haystack).not.toContain(apiKey);
    expect(haystack).not.toContain(apiKey.split('.')[2]);
  });
});
