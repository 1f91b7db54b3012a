// The ad-hoc export workflow's own contract on the REAL Temporal dev server (jest global setup) against a
// REAL sandbox process, with an in-process worker running the real activities (real m3ter client, local
// storage, job claims): its status query while it waits, storage 'none', and its input check.
// Exports end to end (files, faults, alerts, a killed worker) run against the worker process in
// test/integration/e2e/worker-process.test.ts.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import { createActivities, createWorkflowJobClaims, type ActivityLogger } from '../../../activities';
import { FailureType } from '../../../src/contract/failures';
import { M3terClient } from '../../../src/m3ter';
import { createLocalStorage } from '../../../src/storage/local';
import { adhocExportWorkflow, type AdhocExportInput } from '../../../workflows/adhoc-export';
import { statusQuery, type ExportStatus } from '../../../workflows/common';
import { startInProcessWorker, type InProcessWorker } from '../../support/in-process-worker';
import { connectTestTemporal, type TestTemporal } from '../../support/temporal-harness';
import { spawnSandboxProcess, type SandboxProcess } from '../../../tooling/sandbox-process';
import { workflowFailure } from '../../support/workflow-failure';

type UsageRequest = Extract<AdhocExportInput['request'], { sourceType: 'USAGE' }>;

// Short polling intervals: the sandbox's jobs here finish within seconds.
const fastPoll = { fastPollMs: 200, slowPollMs: 2_000 };

function usageRequest(): UsageRequest {
  const end = new Date();
  end.setUTCHours(0, 0, 0, 0);
  end.setUTCDate(end.getUTCDate() + 1);
  const start = new Date(end.getTime() - 7 * 86_400_000);
  return { sourceType: 'USAGE', startDate: start.toISOString(), endDate: end.toISOString() };
}

/** Collects log lines as JSON text, for the secret scan. */
function captureLog(lines: string[]): ActivityLogger {
  const push = (level: string) => (obj: object, msg?: string) =>
    lines.push(JSON.stringify({ level, msg, ...obj }));
  return { debug: push('debug'), info: push('info'), warn: push('warn'), error: push('error') };
}

describe('ad-hoc export workflow (in-process worker, dev server + sandbox process)', () => {
  let temporal: TestTemporal;
  let sandbox: SandboxProcess;
  let dir: string;
  const logLines: string[] = [];
  const taskQueue = `exports-it-${process.pid}-${Date.now()}`;
  let worker: InProcessWorker;

  beforeAll(async () => {
    [temporal, sandbox] = await Promise.all([connectTestTemporal(), spawnSandboxProcess()]);
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'm3ter-exports-it-'));
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
    await sandbox?.stop();
    await temporal?.close();
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  beforeEach(async () => {
    logLines.length = 0;
    await sandbox.admin.post('/reset');
    await sandbox.admin.post('/config', {
      jobTiming: { pendingMs: 200, runningMs: 600 },
      nextJobOutcome: 'SUCCEEDED',
      downloadUrlTtlSeconds: 900,
      usageFileSizeBytes: null,
    });
    await sandbox.admin.post('/measurements/seed', { count: 500 });
  });

  const wfId = (what: string) => `it-${what}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;

  function startAdhoc(input: AdhocExportInput): Promise<WorkflowHandle<typeof adhocExportWorkflow>> {
    return temporal.client.workflow.start(adhocExportWorkflow, {
      taskQueue,
      workflowId: wfId('adhoc'),
      args: [input],
    });
  }

  function expectNoSecrets(text: string): void {
    expect(text).not.toContain(sandbox.apiSecret);
    expect(text).not.toMatch(/sig=[0-9a-f]{8}/);
    expect(text).not.toMatch(/Bearer\s+[A-Za-z0-9]/);
    expect(text).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}\./);
  }

  it('the status query reports the waiting phase with the job id and PENDING while the job runs', async () => {
    await sandbox.admin.post('/config', { jobTiming: { pendingMs: 300, runningMs: 5_000 } });
    const handle = await startAdhoc({ request: usageRequest(), poll: fastPoll });
    let status: ExportStatus | undefined;
    for (let i = 0; i < 100; i++) {
      status = await handle.query(statusQuery);
      if (status.phase === 'waiting' && status.jobId) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(status).toMatchObject({ phase: 'waiting', jobStatus: 'PENDING' });
    expect(status?.jobId).toEqual(expect.any(String));
    const result = await handle.result();
    expect(await handle.query(statusQuery)).toMatchObject({
      phase: 'done',
      jobId: result.jobId,
      jobStatus: 'SUCCEEDED',
    });
  });

  it("storage 'none' returns the URL's location and expiry without its signed query, and stores nothing", async () => {
    const handle = await startAdhoc({ request: usageRequest(), storage: 'none', poll: fastPoll });
    const result = await handle.result();
    if (result.storage !== 'none') throw new Error(`expected storage 'none', got ${result.storage}`);
    expect(result.urlWithoutQuery).toMatch(/^http:\/\/[^?#]+\/files\/[^?#]+$/);
    expect(result.expirationTime).toEqual(expect.any(String));
    expectNoSecrets(JSON.stringify(await handle.fetchHistory()));
    expectNoSecrets(logLines.join('\n'));
    const safeWorkflowId = handle.workflowId.replace(/[^A-Za-z0-9._-]+/g, '_');
    const stored = (await fs.readdir(dir)).filter((f) => f.includes(result.jobId) || f.includes(safeWorkflowId));
    expect(stored).toEqual([]);
  });

  it('refuses a malformed request with InvalidExportRequest naming the field, before any API call', async () => {
    const handle = await startAdhoc({ request: { sourceType: 'USAGE', startDate: 'yesterday' } as never });
    const cause = await workflowFailure(handle);
    expect(cause.type).toBe(FailureType.InvalidExportRequest);
    expect(cause.nonRetryable).toBe(true);
    expect(cause.message).toContain('request.startDate');
    expect(await handle.query(statusQuery)).toMatchObject({
      phase: 'failed',
      error: { type: FailureType.InvalidExportRequest },
    });
    expect((await sandbox.admin.get<{ total: number }>('/counters')).total).toBe(0);
  });
});
