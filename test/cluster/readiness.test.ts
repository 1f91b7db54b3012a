// /readyz while the worker's Temporal goes away: a worker process connected with an API key over TLS to the
// Temporal server on Postgres reports ready; with the server stopped it reports `not connected: <cause>`
// (the same cause a failed connection prints), without the key; with the server back, ready again.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../../tooling/devserver/dev-server';
import type { SandboxProcess } from '../../tooling/sandbox-process';
import { startJwtIssuer, type JwtIssuer } from '../support/jwks';
import type { PostgresTemporal } from '../support/temporal-postgres';
import { startApiKeyStack } from '../support/secured-temporal';
import { temporalEnv } from '../support/temporal-env';
import { createTestPki, type TestPki } from '../support/tls-certs';
import { waitFor } from '../support/wait-for';
import { spawnWorkerProcess, type WorkerProcess } from '../support/worker-process';

interface ReadyBody {
  ready: boolean;
  reasons: string[];
}

describe("a worker's readiness when Temporal goes away", () => {
  let pki: TestPki;
  let issuer: JwtIssuer | undefined;
  let temporal: PostgresTemporal | undefined;
  let sandbox: SandboxProcess | undefined;
  let exportDir: string;

  beforeAll(async () => {
    pki = createTestPki();
    exportDir = fs.mkdtempSync(path.join(os.tmpdir(), 'm3ter-readiness-'));
    issuer = await startJwtIssuer();
    ({ temporal, sandbox } = await startApiKeyStack(
      'readiness',
      pki,
      issuer,
      issuer.mint({ permissions: ['temporal-system:admin'] }),
    ));
  }, 600_000);

  afterAll(async () => {
    await Promise.allSettled([sandbox?.stop(), temporal?.stop(), issuer?.close()]);
    pki?.remove();
    if (exportDir) fs.rmSync(exportDir, { recursive: true, force: true });
  }, 120_000);

  it('reports "not connected: <cause>" without the key or the address while the server is down, and ready once it is back', async () => {
    const apiKey = issuer!.mint({ permissions: ['default:admin'] });
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
        ...sandbox!.env,
        ...temporalEnv({
          TEMPORAL_ADDRESS: temporal!.address,
          TEMPORAL_NAMESPACE: temporal!.namespace,
          TEMPORAL_TASK_QUEUE: 'readiness',
          TEMPORAL_TLS_SERVER_CA_CERT_PATH: pki.ca.cert,
          TEMPORAL_API_KEY: apiKey,
        }),
        EXPORT_DIR: exportDir,
        HEALTH_PORT: String(port),
      });
      expect(await waitFor(async () => ((await readyz()).status === 200 ? true : undefined), 'ready')).toBe(
        true,
      );

      await temporal!.stopServer();
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
      expect(down.text).not.toContain(temporal!.address);
      // The worker's own log has the address (its lines reach this process through a pipe, a moment later).
      await waitFor(
        async () => worker!.output().includes(`nothing listens at ${temporal!.address}`) || undefined,
        'the cause with the address in the worker log',
      );

      await temporal!.startServer();
      serverDown = false;
      await waitFor(async () => ((await readyz()).status === 200 ? true : undefined), 'ready again', {
        timeoutMs: 120_000,
      });
    } finally {
      // Back up for the other tests' sake when this one failed while it was down.
      if (serverDown) await temporal?.startServer().catch(() => undefined);
      await worker?.stop();
      if (worker) expect(worker.output()).not.toContain(apiKey);
    }
  });
});
