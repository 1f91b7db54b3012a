// The ad-hoc export workflow's own contract on the REAL Temporal dev server (jest global setup) against a
// REAL sandbox process, with the export worker built by its own wiring in this process (test/support/stack.ts):
// its status query while it waits, storage 'none', and its input check.
// Exports end to end (files, faults, alerts, a killed worker) run against the worker process in
// test/integration/e2e/worker-process.test.ts.
import fs from 'node:fs';
import type { WorkflowHandle } from '@temporalio/client';
import { FailureType } from '../../../src/contract/failures';
import { adhocExportWorkflow, type AdhocExportInput } from '../../../workflows/adhoc-export';
import { statusQuery } from '../../../workflows/common';
import { startStack, type Stack } from '../../support/stack';
import { waitFor } from '../../support/wait-for';
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

describe('ad-hoc export workflow (in-process worker, dev server + sandbox process)', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack({ name: 'adhoc', logLevel: 'debug' });
  });

  afterAll(() => stack?.close());

  beforeEach(async () => {
    stack.logLines.length = 0;
    await stack.sandbox.admin.post('/reset');
    await stack.sandbox.admin.post('/config', {
      jobTiming: { pendingMs: 200, runningMs: 600 },
      nextJobOutcome: 'SUCCEEDED',
      downloadUrlTtlSeconds: 900,
      usageFileSizeBytes: null,
    });
    await stack.sandbox.admin.post('/measurements/seed', { count: 500 });
  });

  const wfId = (what: string) => `it-${what}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;

  function startAdhoc(input: AdhocExportInput): Promise<WorkflowHandle<typeof adhocExportWorkflow>> {
    return stack.client.workflow.start(adhocExportWorkflow, {
      taskQueue: stack.taskQueue,
      workflowId: wfId('adhoc'),
      args: [input],
    });
  }

  function expectNoSecrets(text: string): void {
    expect(text).not.toContain(stack.sandbox.apiSecret);
    expect(text).not.toMatch(/sig=[0-9a-f]{8}/);
    expect(text).not.toMatch(/Bearer\s+[A-Za-z0-9]/);
    expect(text).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}\./);
  }

  it('the status query reports the waiting phase with the job id and PENDING while the job runs', async () => {
    await stack.sandbox.admin.post('/config', { jobTiming: { pendingMs: 300, runningMs: 5_000 } });
    const handle = await startAdhoc({ request: usageRequest(), poll: fastPoll });
    const status = await waitFor(async () => {
      const s = await handle.query(statusQuery);
      return s.phase === 'waiting' && s.jobId ? s : undefined;
    }, 'the waiting phase with a job id');
    expect(status).toMatchObject({ phase: 'waiting', jobStatus: 'PENDING' });
    expect(status.jobId).toEqual(expect.any(String));
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
    expect(stack.logLines.length).toBeGreaterThan(0);
    expectNoSecrets(stack.logLines.join('\n'));
    const safeWorkflowId = handle.workflowId.replace(/[^A-Za-z0-9._-]+/g, '_');
    const stored = (fs.existsSync(stack.exportDir) ? fs.readdirSync(stack.exportDir) : []).filter((f) => f.includes(result.jobId) || f.includes(safeWorkflowId));
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
    expect((await stack.sandbox.admin.get<{ total: number }>('/counters')).total).toBe(0);
  });
});
