// /readyz while the worker's Temporal goes away: a worker process connected with an API key over TLS to the
// Temporal server on Postgres reports ready; with the server stopped it reports `not connected: <cause>`
// (the same cause a failed connection prints), without the key; with the server back, ready again.
import { freePort } from '../../tooling/devserver/dev-server';
import { startApiKeyStack, type ApiKeyStack } from '../support/secured-temporal';
import { waitFor } from '../support/wait-for';
import { spawnWorkerProcess, type WorkerProcess } from '../support/worker-process';

interface ReadyBody {
  ready: boolean;
  reasons: string[];
}

describe("a worker's readiness when Temporal goes away", () => {
  let stack: ApiKeyStack;

  beforeAll(async () => {
    stack = await startApiKeyStack('readiness');
  }, 600_000);

  afterAll(() => stack?.stop(), 120_000);

  it('reports "not connected: <cause>" without the key or the address while the server is down, and ready once it is back', async () => {
    const apiKey = stack.issuer.mint({ permissions: ['default:admin'] });
    const port = await freePort();
    const readyz = async (): Promise<{ status: number; text: string; body: ReadyBody }> => {
      const res = await fetch(`http://127.0.0.1:${port}/readyz`);
      const text = await res.text();
      return { status: res.status, text, body: JSON.parse(text) as ReadyBody };
    };
    let worker: WorkerProcess | undefined;
    let serverDown = false;
    try {
      worker = await spawnWorkerProcess({
        ...stack.sandbox.env,
        ...stack.settings('readiness', { TEMPORAL_API_KEY: apiKey }),
        EXPORT_DIR: stack.dir,
        HEALTH_PORT: String(port),
      });
      expect(await waitFor(async () => ((await readyz()).status === 200 ? true : undefined), 'ready')).toBe(
        true,
      );

      await stack.temporal.stopServer();
      serverDown = true;
      const down = await waitFor(async () => {
        const r = await readyz();
        return r.status === 503 && r.body.reasons.some((x) => x.startsWith('not connected:')) ? r : undefined;
      }, 'not connected');
      // The probe's cause without the address: whoever reaches the port learns the state, not the topology.
      expect(down.body.reasons).toContain(
        'not connected: connection refused: nothing listens at the Temporal address',
      );
      expect(down.text).not.toContain(apiKey);
      expect(down.text).not.toContain(stack.temporal.address);
      // The worker's own log has the address (its lines reach this process through a pipe, a moment later).
      await waitFor(
        async () => worker!.output().includes(`nothing listens at ${stack.temporal.address}`) || undefined,
        'the cause with the address in the worker log',
      );

      await stack.temporal.startServer();
      serverDown = false;
      await waitFor(async () => ((await readyz()).status === 200 ? true : undefined), 'ready again', {
        timeoutMs: 120_000,
      });
    } finally {
      // Back up for the other tests' sake when this one failed while it was down.
      if (serverDown) await stack.temporal.startServer().catch(() => undefined);
      await worker?.stop();
      if (worker) expect(worker.output()).not.toContain(apiKey);
    }
  });
});
