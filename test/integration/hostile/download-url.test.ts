// A hostile m3ter end to end: the REAL sandbox process in its hostile mode hands out download URLs that
// point at a loopback "metadata" server; a real workflow on the REAL Temporal dev server, with the
// worker's own wiring (the stack fixture), must refuse them: the export fails with
// DownloadUrlRefused, the metadata server sees no connection, nothing is stored.
import fs from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { FailureType } from '../../../src/contract/failures';
import { adhocExportWorkflow } from '../../../workflows/adhoc-export';
import { startStack, type Stack } from '../../support/stack';
import { workflowFailure } from '../../support/workflow-failure';

describe('download URLs from a hostile m3ter (sandbox hostile mode, real worker)', () => {
  let stack: Stack;
  let metadata: http.Server;
  let metadataPort = 0;
  let connections = 0;

  beforeAll(async () => {
    metadata = http.createServer((_req, res) => res.end('{"AccessKeyId":"AKIA-STOLEN"}'));
    metadata.on('connection', () => connections++);
    await new Promise<void>((r) => metadata.listen(0, '127.0.0.1', r));
    metadataPort = (metadata.address() as AddressInfo).port;
    stack = await startStack({ name: 'hostile-url', logLevel: 'debug' });
  }, 180_000);

  afterAll(async () => {
    await stack?.sandbox.admin.post('/config', { hostileDownloadUrl: null }).catch(() => undefined);
    await stack?.close();
    metadata?.closeAllConnections();
    await new Promise<void>((r) => (metadata ? metadata.close(() => r()) : r()));
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
      const { sandbox, client, taskQueue, exportDir, logLines } = stack;
      await sandbox.admin.post('/reset');
      await sandbox.admin.post('/config', {
        jobTiming: { pendingMs: 100, runningMs: 300 },
        nextJobOutcome: 'SUCCEEDED',
        hostileDownloadUrl: url(metadataPort),
      });
      logLines.length = 0;
      const handle = await client.workflow.start(adhocExportWorkflow, {
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
      const stored = await fs.readdir(exportDir).catch(() => [] as string[]);
      expect(stored.filter((n) => !n.startsWith('.'))).toEqual([]);
      // The refused URL's query appears nowhere: not in history, not in the logs.
      const history = JSON.stringify(await handle.fetchHistory());
      for (const text of [history, logLines.join('\n')]) expect(text).not.toContain('sig=abc');
    },
  );
});
