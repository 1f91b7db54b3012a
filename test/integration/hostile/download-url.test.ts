// A hostile m3ter end to end: the REAL sandbox process in its hostile mode hands out download URLs that
// point at a loopback "metadata" server; a real workflow on the REAL Temporal dev server, with an
// in-process worker running the real activities, must refuse them: the export fails with
// DownloadUrlRefused, the metadata server sees no connection, nothing is stored.
import fs from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createActivities, createWorkflowJobClaims, type ActivityLogger } from '../../../activities';
import { FailureType } from '../../../src/contract/failures';
import { M3terClient } from '../../../src/m3ter';
import { createLocalStorage } from '../../../src/storage/local';
import { adhocExportWorkflow } from '../../../workflows/adhoc-export';
import { spawnSandboxProcess, type SandboxProcess } from '../../../tooling/sandbox-process';
import { startInProcessWorker, type InProcessWorker } from '../../support/in-process-worker';
import { connectTestTemporal, type TestTemporal } from '../../support/temporal-harness';
import { workflowFailure } from '../../support/workflow-failure';

function captureLog(lines: string[]): ActivityLogger {
  const push = (level: string) => (obj: object, msg?: string) =>
    lines.push(JSON.stringify({ level, msg, ...obj }));
  return { debug: push('debug'), info: push('info'), warn: push('warn'), error: push('error') };
}

describe('download URLs from a hostile m3ter (sandbox hostile mode, real worker)', () => {
  let temporal: TestTemporal;
  let sandbox: SandboxProcess;
  let worker: InProcessWorker;
  let dir: string;
  let metadata: http.Server;
  let metadataPort = 0;
  let connections = 0;
  const logLines: string[] = [];
  const taskQueue = `hostile-it-${process.pid}-${Date.now()}`;

  beforeAll(async () => {
    metadata = http.createServer((_req, res) => res.end('{"AccessKeyId":"AKIA-STOLEN"}'));
    metadata.on('connection', () => connections++);
    await new Promise<void>((r) => metadata.listen(0, '127.0.0.1', r));
    metadataPort = (metadata.address() as AddressInfo).port;
    [temporal, sandbox] = await Promise.all([connectTestTemporal(), spawnSandboxProcess()]);
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'm3ter-hostile-it-'));
    const log = captureLog(logLines);
    const activities = createActivities({
      m3ter: new M3terClient({ ...sandbox.m3ter, logger: log }),
      storage: createLocalStorage({ dir }),
      log,
      jobClaims: createWorkflowJobClaims({ client: temporal.client, taskQueue }),
    });
    worker = await startInProcessWorker(temporal, { taskQueue, activities });
  }, 180_000);

  afterAll(async () => {
    await worker?.stop();
    await sandbox?.admin.post('/config', { hostileDownloadUrl: null }).catch(() => undefined);
    await sandbox?.stop();
    await temporal?.close();
    metadata?.closeAllConnections();
    await new Promise<void>((r) => (metadata ? metadata.close(() => r()) : r()));
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  it.each([
    [
      'plain http to the metadata server',
      (p: number) => `http://127.0.0.1:${p}/latest/meta-data/iam?sig=abc`,
      'https-only',
    ],
    [
      'https to a name resolving to loopback',
      (p: number) => `https://localhost:${p}/latest/meta-data/iam?sig=abc`,
      'public-address-only',
    ],
  ])(
    '%s: the export fails with DownloadUrlRefused and nothing is fetched or stored',
    async (_what, url, rule) => {
      await sandbox.admin.post('/reset');
      await sandbox.admin.post('/config', {
        jobTiming: { pendingMs: 100, runningMs: 300 },
        nextJobOutcome: 'SUCCEEDED',
        hostileDownloadUrl: url(metadataPort),
      });
      logLines.length = 0;
      const handle = await temporal.client.workflow.start(adhocExportWorkflow, {
        taskQueue,
        workflowId: `hostile-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`,
        args: [
          {
            request: { sourceType: 'OPERATIONAL', operationalDataTypes: ['ACCOUNTS'] },
            poll: { fastPollMs: 200, slowPollMs: 2_000 },
          },
        ],
      });
      const cause = await workflowFailure(handle);
      expect(cause.type).toBe(FailureType.DownloadUrlRefused);
      expect(cause.nonRetryable).toBe(true);
      expect(cause.message).toContain(`rule ${rule}`);
      expect(connections).toBe(0);
      expect(await fs.readdir(dir).then((names) => names.filter((n) => !n.startsWith('.')))).toEqual([]);
      // The refused URL's query appears nowhere: not in history, not in the logs.
      const history = JSON.stringify(await handle.fetchHistory());
      for (const text of [history, logLines.join('\n')]) expect(text).not.toContain('sig=abc');
    },
  );
});
