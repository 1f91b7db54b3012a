// End to end with real processes: the sandbox process, the worker process (`m3ter-exports worker`), and the
// real Temporal dev server. Covers the product's promises: files with checksums that match the source,
// alerts on failure, resilience to faults, expiring tokens, a SIGKILLed worker, exactly one ExportJob per
// request, small histories, and no secrets in history or logs.
import { createHash, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import { connectTestTemporal, type TestTemporal } from '../../support/temporal-harness';
import { spawnSandboxProcess, type SandboxProcess } from '../../support/sandbox-process';
import { spawnWorkerProcess, startWebhookReceiver, type WorkerProcess } from '../../support/worker-process';
import { workflowFailure } from '../../support/workflow-failure';

interface SandboxJob {
  id: string;
  status: string;
  dateCreated?: string;
  completedAt?: string;
  files?: { fileId: string; name: string; bytes: number; sha256: string }[];
}
type LocalResult = {
  storage: 'local';
  jobId: string;
  recovered: boolean;
  polls: number;
  manifest: { path: string; sha256: string; bytes: number; rows?: number; file: string; jobId?: string };
};

const DAY = 86_400_000;
const today = () => {
  const d = new Date();
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
};
const usageRequest = () => ({
  sourceType: 'USAGE',
  startDate: new Date(today() - 3 * DAY).toISOString(),
  endDate: new Date(today() + DAY).toISOString(),
});
const operationalRequest = { sourceType: 'OPERATIONAL', operationalDataTypes: ['ACCOUNTS'] };
// Fast polling keeps the suite quick; production defaults are exercised by the long-job test below.
const fastPoll = { fastPollMs: 200, fastPhaseMs: 60_000, inActivityPhaseMs: 120_000, slowPollMs: 2_000 };

function sha256File(p: string): string {
  return createHash('sha256').update(fs.readFileSync(p)).digest('hex');
}

async function waitFor<T>(fn: () => Promise<T | undefined>, what: string, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('export worker process against the sandbox process', () => {
  let temporal: TestTemporal;
  let sandbox: SandboxProcess;
  let worker: WorkerProcess;
  const workerOutputs: string[] = [];
  let webhook: Awaited<ReturnType<typeof startWebhookReceiver>>;
  let exportDir: string;
  let env: Record<string, string>;
  const taskQueue = `e2e-${randomUUID()}`;
  const started: WorkflowHandle[] = [];
  let longJob: WorkflowHandle;

  const start = async (type: string, input: Record<string, unknown>, id = `e2e-${randomUUID()}`) => {
    const h = await temporal.client.workflow.start(type, { taskQueue, workflowId: id, args: [input] });
    started.push(h);
    return h;
  };
  const sandboxJobs = () =>
    sandbox.admin
      .get<SandboxJob[] | { data: SandboxJob[] }>('/jobs')
      .then((r) => (Array.isArray(r) ? r : r.data));
  const sandboxJob = (id: string) => sandbox.admin.get<SandboxJob>(`/jobs/${id}`);

  beforeAll(async () => {
    temporal = await connectTestTemporal();
    sandbox = await spawnSandboxProcess();
    webhook = await startWebhookReceiver();
    exportDir = fs.mkdtempSync(path.join(os.tmpdir(), 'm3ter-e2e-exports-'));
    env = {
      ...sandbox.env,
      TEMPORAL_ADDRESS: temporal.address,
      TEMPORAL_NAMESPACE: temporal.namespace,
      TEMPORAL_TASK_QUEUE: taskQueue,
      EXPORT_DIR: exportDir,
      ALERT_WEBHOOK_URL: webhook.url,
    };
    await sandbox.admin.post('/measurements/seed', {
      count: 2000,
      from: new Date(today() - 3 * DAY).toISOString(),
      to: new Date().toISOString(),
    });
    worker = await spawnWorkerProcess(env);

    // A job that stays RUNNING for two minutes, started first so it overlaps the rest of the suite.
    // It uses the production poll schedule (1 s, growing to 20 s, then the retry policy).
    await sandbox.admin.post('/config', { jobTiming: { pendingMs: 500, runningMs: 120_000 } });
    longJob = await start('adhocExportWorkflow', { request: operationalRequest, name: 'long' });
    await waitFor(async () => (await longJob.query<{ jobId?: string }>('status')).jobId, 'long job id');
    await sandbox.admin.post('/config', { jobTiming: { pendingMs: 200, runningMs: 600 } });
  });

  afterAll(async () => {
    await worker?.stop();
    if (worker) workerOutputs.push(worker.output());
    await sandbox?.stop();
    await webhook?.close();
    await temporal?.close();
  });

  it('exports usage data: the stored file matches the sandbox file byte for byte (sha256)', async () => {
    const h = await start('adhocExportWorkflow', { request: usageRequest(), name: 'usage', poll: fastPoll });
    const result = (await h.result()) as LocalResult;
    const job = await sandboxJob(result.jobId);
    expect(job.status).toBe('SUCCEEDED');
    expect(result.manifest.sha256).toBe(job.files![0].sha256);
    expect(result.manifest.bytes).toBe(job.files![0].bytes);
    expect(sha256File(result.manifest.path)).toBe(result.manifest.sha256);
    expect(result.manifest.rows).toBeGreaterThan(0);
    expect(fs.existsSync(`${result.manifest.path}.manifest.json`)).toBe(true);
    // Nothing half-written is left behind.
    expect(fs.readdirSync(exportDir).filter((f) => /\.(partial|tmp)/.test(f))).toEqual([]);
  });

  it('exports operational data and a Data Explorer bill CSV', async () => {
    const op = await start('adhocExportWorkflow', {
      request: { sourceType: 'OPERATIONAL', operationalDataTypes: ['ACCOUNTS', 'PLANS'] },
      poll: fastPoll,
    });
    const bills = await start('billsCsvExportWorkflow', {
      request: {
        startDate: new Date(today() - 60 * DAY).toISOString(),
        endDate: new Date(today() + DAY).toISOString(),
        lineItemTypes: ['STANDING_CHARGE', 'USAGE'],
      },
    });
    const opResult = (await op.result()) as LocalResult;
    const opJob = await sandboxJob(opResult.jobId);
    expect(opResult.manifest.sha256).toBe(opJob.files![0].sha256);
    const billsManifest = (await bills.result()) as {
      sha256: string;
      path: string;
      bytes: number;
      rows?: number;
    };
    expect(billsManifest.bytes).toBeGreaterThan(0);
    expect(sha256File(billsManifest.path)).toBe(billsManifest.sha256);
    expect(fs.readFileSync(billsManifest.path, 'utf8').split('\n')[0]).toMatch(/,/); // a CSV header
  });

  it('a FAILED job fails the workflow with ExportJobFailed carrying the job id, and alerts the webhook', async () => {
    await sandbox.admin.post('/config', { nextJobOutcome: 'FAILED' });
    try {
      const h = await start('adhocExportWorkflow', { request: operationalRequest, poll: fastPoll });
      const cause = await workflowFailure(h);
      expect(cause.type).toBe('ExportJobFailed');
      expect(cause.nonRetryable).toBe(true);
      const { jobId } = cause.details?.[0] as { jobId: string };
      expect((await sandboxJob(jobId)).status).toBe('FAILED');
      const alert = await waitFor(
        async () =>
          webhook.received.find((a) => (a as { jobId?: string }).jobId === jobId) as
            Record<string, unknown> | undefined,
        'alert at the webhook',
      );
      expect(alert).toMatchObject({ kind: 'ExportJobFailed', jobId, workflowId: h.workflowId });
    } finally {
      await sandbox.admin.post('/config', { nextJobOutcome: 'SUCCEEDED' });
    }
  });

  it('with 20% of responses 5xx or 429, every export completes with exactly one job each', async () => {
    const jobsBefore = (await sandboxJobs()).length;
    await sandbox.admin.post('/faults', { route: '*', errorRate: 0.2, errorStatuses: [500, 502, 503, 429] });
    try {
      const handles = await Promise.all(
        Array.from({ length: 6 }, (_, i) =>
          start('adhocExportWorkflow', {
            request: i % 2 ? usageRequest() : operationalRequest,
            poll: fastPoll,
          }),
        ),
      );
      const results = (await Promise.all(handles.map((h) => h.result()))) as LocalResult[];
      for (const r of results) expect(sha256File(r.manifest.path)).toBe(r.manifest.sha256);
      expect(new Set(results.map((r) => r.jobId)).size).toBe(6);
      // A 5xx on the trigger is ambiguous; the recovery must never create a second job for one request.
      expect((await sandboxJobs()).length - jobsBefore).toBe(6);
    } finally {
      await sandbox.admin.del('/faults');
    }
  });

  it('a trigger whose response is lost after the job was created adopts that job instead of creating another', async () => {
    const jobsBefore = (await sandboxJobs()).length;
    await sandbox.admin.post('/faults', {
      route: 'POST /organizations/:orgId/dataexports/adhoc',
      loseResponseAfterCommit: 1,
    });
    const h = await start('adhocExportWorkflow', { request: operationalRequest, poll: fastPoll });
    const result = (await h.result()) as LocalResult;
    expect(result.recovered).toBe(true);
    expect((await sandboxJobs()).length - jobsBefore).toBe(1);
  });

  it('a worker killed with SIGKILL mid-wait is replaced and the export finishes with one job and one file', async () => {
    const jobsBefore = (await sandboxJobs()).length;
    await sandbox.admin.post('/config', { jobTiming: { pendingMs: 500, runningMs: 15_000 } });
    const h = await start('adhocExportWorkflow', {
      request: operationalRequest,
      name: 'killed',
      poll: fastPoll,
    });
    const jobId = await waitFor(async () => {
      const s = await h.query<{ phase: string; jobId?: string }>('status');
      return s.phase === 'waiting' ? s.jobId : undefined;
    }, 'waiting phase');
    await sandbox.admin.post('/config', { jobTiming: { pendingMs: 200, runningMs: 600 } });
    await worker.kill('SIGKILL');
    workerOutputs.push(worker.output());
    worker = await spawnWorkerProcess(env);
    const result = (await h.result()) as LocalResult;
    expect(result.jobId).toBe(jobId);
    expect((await sandboxJobs()).length - jobsBefore).toBe(1);
    const files = fs.readdirSync(exportDir).filter((f) => f.includes(jobId) && !f.endsWith('.manifest.json'));
    expect(files).toHaveLength(1);
    expect(sha256File(path.join(exportDir, files[0]))).toBe(result.manifest.sha256);
  });

  it('a job RUNNING for two minutes leaves fewer than 60 history events', async () => {
    const result = (await longJob.result()) as LocalResult;
    expect((await sandboxJob(result.jobId)).status).toBe('SUCCEEDED');
    const history = await longJob.fetchHistory();
    const events = history.events ?? [];
    expect(events.length).toBeLessThan(60);
    // However many polls and attempts the wait took (this job also lives through the SIGKILL test, so how
    // many depends on timing), it is ONE scheduled activity: retries add no history events.
    const waits = events.filter(
      (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'waitForExportJob',
    );
    expect(waits).toHaveLength(1);
    expect(result.polls).toBeGreaterThanOrEqual(2);
    const job = await sandboxJob(result.jobId);
    expect(Date.parse(job.completedAt!) - Date.parse(job.dateCreated!)).toBeGreaterThanOrEqual(120_000);
  });

  it('a download cut mid-file after its URL expired re-fetches the URL and resumes: one file, matching checksum', async () => {
    // Runs after the long-job test: the fault jumps the sandbox clock 16 minutes.
    const counters = async () =>
      (await sandbox.admin.get<{ routes: Record<string, number> }>('/counters')).routes;
    const urlCalls = async () =>
      (await counters())['GET /organizations/:orgId/dataexports/jobs/:jobId/getdownloadurl'] ?? 0;
    await sandbox.admin.post('/config', { usageFileSizeBytes: 20_000_000 });
    await sandbox.admin.post('/faults', {
      route: 'GET /files/:fileId',
      cutNextStream: { count: 1, afterBytes: 5_000_000, advanceClockMs: 16 * 60_000 },
    });
    const urlCallsBefore = await urlCalls();
    try {
      const h = await start('adhocExportWorkflow', { request: usageRequest(), name: 'cut', poll: fastPoll });
      const result = (await h.result()) as LocalResult;
      const [file] = (await sandboxJob(result.jobId)).files!;
      expect(result.manifest.bytes).toBe(20_000_000);
      expect(result.manifest.sha256).toBe(file.sha256);
      expect(sha256File(result.manifest.path)).toBe(file.sha256);
      expect((await urlCalls()) - urlCallsBefore).toBeGreaterThanOrEqual(2);
      expect(
        fs.readdirSync(exportDir).filter((f) => f.includes(result.jobId) && !f.endsWith('.manifest.json')),
      ).toHaveLength(1);
    } finally {
      await sandbox.admin.post('/config', { usageFileSizeBytes: null });
      await sandbox.admin.del('/faults');
    }
  });

  it('keeps working when the bearer token expires mid-run', async () => {
    // The worker holds a token with the default 5 h lifetime: jump the sandbox clock past it (runs after the
    // long-job test, which this jump would otherwise cut short), and make new tokens last 2 s.
    await sandbox.admin.post('/config', {
      tokenLifetimeSeconds: 2,
      jobTiming: { pendingMs: 500, runningMs: 6000 },
    });
    await sandbox.admin.post('/clock', { advanceMs: 18_001_000 });
    const tokenCalls = async () =>
      (await sandbox.admin.get<{ routes: Record<string, number> }>('/counters')).routes[
        'POST /oauth/token'
      ] ?? 0;
    const before = await tokenCalls();
    try {
      const h = await start('adhocExportWorkflow', { request: operationalRequest, poll: fastPoll });
      const result = (await h.result()) as LocalResult;
      expect(sha256File(result.manifest.path)).toBe(result.manifest.sha256);
      // The expired token was replaced (401 -> refresh -> retry), then the 2 s tokens were refreshed ahead
      // of expiry during the 6.5 s job.
      expect((await tokenCalls()) - before).toBeGreaterThanOrEqual(2);
    } finally {
      await sandbox.admin.post('/config', {
        tokenLifetimeSeconds: 18000,
        jobTiming: { pendingMs: 200, runningMs: 600 },
      });
    }
  });

  it('no API secret, bearer token or presigned URL in any workflow history or worker log', async () => {
    // Make sure this runs after the others' workflows are closed.
    await Promise.allSettled(started.map((h) => h.result()));
    workerOutputs.push(worker.output());
    const histories = await Promise.all(started.map((h) => h.fetchHistory().then((x) => JSON.stringify(x))));
    const haystacks = { history: histories.join('\n'), logs: workerOutputs.join('\n') };
    expect(haystacks.history.length).toBeGreaterThan(1000);
    expect(haystacks.logs.length).toBeGreaterThan(1000);
    // A real token, for its exact value: the sandbox issues JWTs (eyJ...).
    const tokenRes = await fetch(`${sandbox.baseUrl}/oauth/token`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${sandbox.accessKeyId}:${sandbox.apiSecret}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: 'grant_type=client_credentials',
    });
    const token = ((await tokenRes.json()) as { access_token: string }).access_token;
    expect(token).toMatch(/^eyJ/);
    for (const [where, text] of Object.entries(haystacks)) {
      expect({ where, secret: text.includes(sandbox.apiSecret) }).toEqual({ where, secret: false });
      expect({ where, jwt: /eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}/.test(text) }).toEqual({
        where,
        jwt: false,
      });
      expect({ where, bearer: /Bearer\s+[A-Za-z0-9._-]{8,}/.test(text) }).toEqual({ where, bearer: false });
      expect({ where, signedUrl: /[?&](sig|expires|X-Amz-Signature)=/.test(text) }).toEqual({
        where,
        signedUrl: false,
      });
    }
  });
});
