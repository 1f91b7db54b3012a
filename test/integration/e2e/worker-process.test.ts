// End to end with real processes: the sandbox process, the worker process (`m3ter-exports worker`), and the
// real Temporal dev server, as users run them. Covers the product's promises: files with checksums that
// match the source, alerts on failure, resilience to faults, expiring URLs and tokens, a SIGKILLed worker,
// exactly one ExportJob per request, small histories, and no secrets in history or logs.
import { createHash, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import { FailureType } from '../../../src/contract/failures';
import type { Manifest } from '../../../src/storage/types';
import {
  adhocExportWorkflow,
  type AdhocExportInput,
  type AdhocExportResult,
} from '../../../workflows/adhoc-export';
import { billsCsvExportWorkflow } from '../../../workflows/bills-csv-export';
import { statusQuery } from '../../../workflows/common';
import { M3terExportJobId } from '../../../src/contract/search-attributes';
import { startStack, type Stack } from '../../support/stack';
import { spawnWorkerProcess, startWebhookReceiver, type WorkerProcess } from '../../support/worker-process';
import { waitFor } from '../../support/wait-for';
import { workflowFailure } from '../../support/workflow-failure';

type UsageRequest = Extract<AdhocExportInput['request'], { sourceType: 'USAGE' }>;

interface SandboxJob {
  id: string;
  status: string;
  dateCreated?: string;
  completedAt?: string;
  files?: { fileId: string; name: string; bytes: number; sha256: string }[];
}

const ADHOC_ROUTE = 'POST /organizations/:orgId/dataexports/adhoc';
const BILLS_ROUTE = 'POST /organizations/:orgId/dataexplorer/bills/download/csv';
const URL_ROUTE = 'GET /organizations/:orgId/dataexports/jobs/:jobId/getdownloadurl';
const FILE_ROUTE = 'GET /files/:fileId';
const TOKEN_ROUTE = 'POST /oauth/token';

const DAY = 86_400_000;
const today = () => {
  const d = new Date();
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
};
const usageRequest = (): UsageRequest => ({
  sourceType: 'USAGE',
  startDate: new Date(today() - 3 * DAY).toISOString(),
  endDate: new Date(today() + DAY).toISOString(),
});
const operationalRequest: AdhocExportInput['request'] = {
  sourceType: 'OPERATIONAL',
  operationalDataTypes: ['ACCOUNTS'],
};
// Fast polling keeps the suite quick; production defaults are exercised by the long job.
const fastPoll = { fastPollMs: 200, slowPollMs: 2_000 };

function sha256File(p: string): string {
  return createHash('sha256').update(fs.readFileSync(p)).digest('hex');
}

/** The manifest of an export stored on the worker's disk (the default storage). */
function storedManifest(result: AdhocExportResult): Manifest {
  if (result.storage !== 'local') throw new Error(`expected a locally stored file, got ${result.storage}`);
  return result.manifest;
}

describe('export worker process against the sandbox process', () => {
  let stack: Stack;
  let temporal: Stack['temporal'];
  let sandbox: Stack['sandbox'];
  let worker: WorkerProcess;
  const workerOutputs: string[] = [];
  let webhook: Awaited<ReturnType<typeof startWebhookReceiver>>;
  let exportDir: string;
  let env: Record<string, string>;
  let taskQueue: string;
  const started: WorkflowHandle[] = [];
  /** The long job runs on a stack of its own, so no test's faults or clock jumps can reach it. */
  let longStack: Stack;
  let longJob: WorkflowHandle<typeof adhocExportWorkflow>;

  /** Starts a workflow by its definition on the worker's task queue; the secret scan reads its history. */
  const start = async <W extends typeof adhocExportWorkflow | typeof billsCsvExportWorkflow>(
    workflow: W,
    input: Parameters<W>[0],
  ) => {
    const h = await temporal.client.workflow.start(workflow, {
      taskQueue,
      workflowId: `e2e-${randomUUID()}`,
      args: [input] as Parameters<W>,
    });
    started.push(h);
    return h;
  };
  const startAdhoc = (input: AdhocExportInput) => start(adhocExportWorkflow, input);
  const sandboxJobs = () =>
    sandbox.admin
      .get<SandboxJob[] | { data: SandboxJob[] }>('/jobs')
      .then((r) => (Array.isArray(r) ? r : r.data));
  const sandboxJob = (id: string) => sandbox.admin.get<SandboxJob>(`/jobs/${id}`);
  const sandboxJobIds = async () => new Set((await sandboxJobs()).map((j) => j.id));
  /** Ids of the jobs created since `before` (the suite shares one sandbox, so counts are relative). */
  const jobsCreatedSince = async (before: Set<string>) =>
    (await sandboxJobs())
      .map((j) => j.id)
      .filter((id) => !before.has(id))
      .sort();
  const routeCounts = async () =>
    (await sandbox.admin.get<{ routes: Record<string, number> }>('/counters')).routes;
  /** Calls to a sandbox route from now on (the counters are cumulative over the suite). */
  const callCounter = async () => {
    const before = await routeCounts();
    return async (route: string) => ((await routeCounts())[route] ?? 0) - (before[route] ?? 0);
  };

  /** The stored file and its manifest describe exactly the file the sandbox served for the job. */
  async function expectStoredFileMatches(manifest: Manifest, jobId: string): Promise<void> {
    const job = await sandboxJob(jobId);
    expect(job.status).toBe('SUCCEEDED');
    expect(job.files).toHaveLength(1);
    const [file] = job.files!;
    expect(manifest.sha256).toBe(file.sha256);
    expect(manifest.bytes).toBe(file.bytes);
    expect(sha256File(manifest.path)).toBe(file.sha256);
    const onDisk = JSON.parse(fs.readFileSync(`${manifest.path}.manifest.json`, 'utf8')) as Manifest;
    expect(onDisk).toEqual(manifest);
  }

  beforeAll(async () => {
    webhook = await startWebhookReceiver();
    // A job that stays RUNNING for a minute, twice the wait's heartbeat timeout, started first so it
    // overlaps the rest of the file. It uses the production wait: one attempt polling for the job's life.
    [stack, longStack] = await Promise.all([
      startStack({ name: 'e2e', worker: false, env: { ALERT_WEBHOOK_URL: webhook.url } }),
      startStack({
        name: 'e2e-long',
        sandboxConfig: { jobTiming: { pendingMs: 500, runningMs: 60_000 } },
      }),
    ]);
    longJob = await longStack.client.workflow.start(adhocExportWorkflow, {
      taskQueue: longStack.taskQueue,
      workflowId: `e2e-long-${randomUUID()}`,
      args: [{ request: operationalRequest, name: 'long' }],
    });
    ({ temporal, sandbox, exportDir, taskQueue } = stack);
    // A shorter request timeout shortens the lost trigger response's owner bound with it.
    env = { ...stack.env, M3TER_REQUEST_TIMEOUT: '8s' };
    await sandbox.admin.post('/config', { jobTiming: { pendingMs: 200, runningMs: 600 } });
    await sandbox.admin.post('/measurements/seed', {
      count: 2000,
      from: new Date(today() - 3 * DAY).toISOString(),
      to: new Date().toISOString(),
    });
    worker = await spawnWorkerProcess(env);
  });

  afterAll(async () => {
    await worker?.stop();
    if (worker) workerOutputs.push(worker.output());
    await Promise.allSettled([stack?.close(), longStack?.close(), webhook?.close()]);
  });

  it('a usage export triggers one ExportJob and stores its file byte for byte (sha256) with a manifest', async () => {
    const calls = await callCounter();
    const request = usageRequest();
    const h = await startAdhoc({ request, name: 'usage', poll: fastPoll });
    const result = await h.result();
    const manifest = storedManifest(result);
    expect(manifest).toMatchObject({
      workflowId: h.workflowId,
      jobId: result.jobId,
      kind: 'usage',
      sourceType: 'USAGE',
      window: { start: request.startDate, end: request.endDate },
    });
    expect(manifest.rows).toBeGreaterThan(0);
    await expectStoredFileMatches(manifest, result.jobId);
    expect(await calls(ADHOC_ROUTE)).toBe(1);
    // Nothing half-written is left behind.
    expect(fs.readdirSync(exportDir).filter((f) => /\.(partial|tmp)/.test(f))).toEqual([]);

    const status = await h.query(statusQuery);
    expect(status).toMatchObject({
      phase: 'done',
      jobId: result.jobId,
      jobStatus: 'SUCCEEDED',
      bytesWritten: manifest.bytes,
    });
    expect(status.polls).toBeGreaterThan(0);
    expect((await h.describe()).typedSearchAttributes.get(M3terExportJobId)).toBe(result.jobId);
    expect((await h.fetchHistory()).events?.length).toBeLessThan(60);
  });

  it('an operational export stores the file the sandbox served for its job, with a manifest', async () => {
    const h = await startAdhoc({
      request: { sourceType: 'OPERATIONAL', operationalDataTypes: ['ACCOUNTS', 'PLANS'] },
      poll: fastPoll,
    });
    const result = await h.result();
    const manifest = storedManifest(result);
    expect(manifest).toMatchObject({ kind: 'operational', sourceType: 'OPERATIONAL', jobId: result.jobId });
    await expectStoredFileMatches(manifest, result.jobId);
  });

  it('a Data Explorer bill CSV export requests the CSV once and stores it with a matching checksum', async () => {
    const calls = await callCounter();
    const h = await start(billsCsvExportWorkflow, {
      request: {
        startDate: new Date(today() - 60 * DAY).toISOString(),
        endDate: new Date(today() + DAY).toISOString(),
        lineItemTypes: ['STANDING_CHARGE', 'USAGE'],
      },
    });
    const manifest = await h.result();
    expect(manifest).toMatchObject({ kind: 'bills', sourceType: 'BILLS_CSV', workflowId: h.workflowId });
    expect(manifest.bytes).toBeGreaterThan(0);
    expect(sha256File(manifest.path)).toBe(manifest.sha256);
    expect(fs.readFileSync(manifest.path, 'utf8').split('\n')[0]).toContain('billId'); // the CSV header
    expect(await calls(BILLS_ROUTE)).toBe(1);
    expect(await h.query(statusQuery)).toMatchObject({ phase: 'done', bytesWritten: manifest.bytes });
  });

  it('a FAILED job fails the workflow with ExportJobFailed carrying the job id, and alerts the webhook', async () => {
    await sandbox.admin.post('/config', { nextJobOutcome: 'FAILED' });
    try {
      const h = await startAdhoc({ request: operationalRequest, poll: fastPoll });
      const cause = await workflowFailure(h);
      expect(cause.type).toBe(FailureType.ExportJobFailed);
      expect(cause.nonRetryable).toBe(true);
      const { jobId } = cause.details?.[0] as { jobId: string };
      expect(cause.message).toBe(`export job ${jobId} FAILED`);
      expect((await sandboxJob(jobId)).status).toBe('FAILED');
      const alert = await waitFor(
        async () =>
          webhook.received.find((a) => (a as { jobId?: string }).jobId === jobId) as
            Record<string, unknown> | undefined,
        'alert at the webhook',
      );
      expect(alert).toMatchObject({ kind: FailureType.ExportJobFailed, jobId, workflowId: h.workflowId });
      expect(await h.query(statusQuery)).toMatchObject({
        phase: 'failed',
        jobId,
        jobStatus: 'FAILED',
        error: { type: FailureType.ExportJobFailed, message: cause.message },
      });
    } finally {
      await sandbox.admin.post('/config', { nextJobOutcome: 'SUCCEEDED' });
    }
  });

  it('with 20% of responses 5xx or 429, every export completes with exactly one job each and its file', async () => {
    const jobsBefore = await sandboxJobIds();
    await sandbox.admin.post('/faults', { route: '*', errorRate: 0.2, errorStatuses: [500, 502, 503, 429] });
    try {
      const inputs: AdhocExportInput[] = [
        { request: usageRequest(), poll: fastPoll },
        { request: { ...usageRequest(), meterIds: ['m-a'] }, poll: fastPoll },
        { request: operationalRequest, poll: fastPoll },
        { request: { sourceType: 'OPERATIONAL', operationalDataTypes: ['PRODUCTS'] }, poll: fastPoll },
        { request: usageRequest(), poll: fastPoll },
        { request: { sourceType: 'OPERATIONAL', operationalDataTypes: ['PLANS'] }, poll: fastPoll },
      ];
      const handles = await Promise.all(inputs.map((input) => startAdhoc(input)));
      const results = await Promise.all(handles.map((h) => h.result()));
      const jobIds = results.map((r) => r.jobId);
      expect(new Set(jobIds).size).toBe(inputs.length);
      // A 5xx on the trigger is ambiguous; the recovery must never create a second job for one request.
      expect(await jobsCreatedSince(jobsBefore)).toEqual([...jobIds].sort());
      for (const r of results) await expectStoredFileMatches(storedManifest(r), r.jobId);
    } finally {
      await sandbox.admin.del('/faults');
    }
  });

  it('a trigger whose response is lost after the job was created adopts that job instead of creating another', async () => {
    const jobsBefore = await sandboxJobIds();
    await sandbox.admin.post('/faults', { route: ADHOC_ROUTE, loseResponseAfterCommit: 1 });
    try {
      const h = await startAdhoc({ request: operationalRequest, poll: fastPoll });
      const result = await h.result();
      expect(result.recovered).toBe(true);
      expect(await jobsCreatedSince(jobsBefore)).toEqual([result.jobId]);
      await expectStoredFileMatches(storedManifest(result), result.jobId);
    } finally {
      await sandbox.admin.del('/faults');
    }
  });

  it('a worker killed with SIGKILL mid-wait is replaced and the export finishes with one job and one file', async () => {
    const jobsBefore = await sandboxJobIds();
    await sandbox.admin.post('/config', { jobTiming: { pendingMs: 500, runningMs: 15_000 } });
    let h: WorkflowHandle<typeof adhocExportWorkflow>;
    let jobId: string;
    try {
      h = await startAdhoc({ request: operationalRequest, name: 'killed', poll: fastPoll });
      jobId = await waitFor(async () => {
        const s = await h.query(statusQuery);
        return s.phase === 'waiting' ? s.jobId : undefined;
      }, 'waiting phase');
    } finally {
      await sandbox.admin.post('/config', { jobTiming: { pendingMs: 200, runningMs: 600 } });
    }
    await worker.kill('SIGKILL');
    workerOutputs.push(worker.output());
    worker = await spawnWorkerProcess(env);
    const result = await h.result();
    expect(result.jobId).toBe(jobId);
    expect(await jobsCreatedSince(jobsBefore)).toEqual([jobId]);
    const files = fs.readdirSync(exportDir).filter((f) => f.includes(jobId) && !f.endsWith('.manifest.json'));
    expect(files).toHaveLength(1);
    expect(sha256File(path.join(exportDir, files[0]))).toBe(storedManifest(result).sha256);
  });

  it('a job RUNNING for a minute leaves fewer than 60 history events, however many polls it took', async () => {
    const result = await longJob.result();
    const sandboxJob = (id: string) => longStack.sandbox.admin.get<SandboxJob>(`/jobs/${id}`);
    expect((await sandboxJob(result.jobId)).status).toBe('SUCCEEDED');
    const history = await longJob.fetchHistory();
    const events = history.events ?? [];
    expect(events.length).toBeLessThan(60);
    // However many polls and attempts the wait took, it is ONE scheduled activity: retries add no history
    // events.
    const waits = events.filter(
      (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'waitForExportJob',
    );
    expect(waits).toHaveLength(1);
    // Enough polls that, were each an activity of its own, the history would pass 60 events.
    expect(result.polls).toBeGreaterThanOrEqual(20);
    const job = await sandboxJob(result.jobId);
    expect(Date.parse(job.completedAt!) - Date.parse(job.dateCreated!)).toBeGreaterThanOrEqual(60_000);
  });

  it('a download cut mid-file after its URL expired re-fetches the URL once and resumes: one file, matching checksum', async () => {
    // The fault jumps the sandbox clock 16 minutes, past the URL's 15-minute lifetime, at the moment it
    // cuts the stream.
    await sandbox.admin.post('/config', { usageFileSizeBytes: 20_000_000 });
    await sandbox.admin.post('/faults', {
      route: FILE_ROUTE,
      cutNextStream: { count: 1, afterBytes: 5_000_000, advanceClockMs: 16 * 60_000 },
    });
    const calls = await callCounter();
    try {
      const h = await startAdhoc({ request: usageRequest(), name: 'cut', poll: fastPoll });
      const result = await h.result();
      const manifest = storedManifest(result);
      expect(manifest.bytes).toBe(20_000_000);
      await expectStoredFileMatches(manifest, result.jobId);
      // The first URL expired during the cut; exactly one re-fetch.
      expect(await calls(URL_ROUTE)).toBe(2);
      // 200 (cut), 403 (expired URL), 206 (resumed with Range).
      expect(await calls(FILE_ROUTE)).toBeGreaterThanOrEqual(3);
      const files = fs.readdirSync(exportDir).filter((f) => f.includes(result.jobId));
      expect(files.sort()).toEqual([manifest.file, `${manifest.file}.manifest.json`]);
    } finally {
      await sandbox.admin.post('/config', { usageFileSizeBytes: null });
      await sandbox.admin.del('/faults');
    }
  });

  it("an export finishes when the worker's bearer token expires mid-run", async () => {
    // The worker holds a token with the default 5 h lifetime: jump the sandbox clock past it, and make new
    // tokens last the shortest lifetime the client accepts; jump past that one too once the job runs.
    await sandbox.admin.post('/config', {
      tokenLifetimeSeconds: 60,
      jobTiming: { pendingMs: 500, runningMs: 6000 },
    });
    await sandbox.admin.post('/clock', { advanceMs: 18_001_000 });
    const calls = await callCounter();
    try {
      const h = await startAdhoc({ request: operationalRequest, poll: fastPoll });
      await waitFor(
        async () => ((await h.query(statusQuery)).phase === 'waiting' ? true : undefined),
        'job running',
      );
      await sandbox.admin.post('/clock', { advanceMs: 61_000 });
      const result = await h.result();
      await expectStoredFileMatches(storedManifest(result), result.jobId);
      // Each expired token was replaced (401 -> refresh -> retry).
      expect(await calls(TOKEN_ROUTE)).toBeGreaterThanOrEqual(2);
    } finally {
      await sandbox.admin.post('/config', {
        tokenLifetimeSeconds: 18000,
        jobTiming: { pendingMs: 200, runningMs: 600 },
      });
    }
  });

  it('no API secret, bearer token or presigned URL in any workflow history or worker log', async () => {
    // An export of its own (token, download URL, file), and whatever the other tests ran so far, closed.
    const own = await startAdhoc({ request: usageRequest(), name: 'secrets', poll: fastPoll });
    await own.result();
    await Promise.allSettled(started.map((h) => h.result()));
    const histories = await Promise.all(
      [...started, longJob].map((h) => h.fetchHistory().then((x) => JSON.stringify(x))),
    );
    const logs = [...workerOutputs, worker.output(), ...longStack.logLines].join('\n');
    const haystacks = { history: histories.join('\n'), logs };
    expect(haystacks.history.length).toBeGreaterThan(1000);
    expect(haystacks.logs.length).toBeGreaterThan(1000);
    // A real token, for its shape: the sandbox issues JWTs (eyJ...).
    const tokenRes = await fetch(`${sandbox.baseUrl}/oauth/token`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${sandbox.accessKeyId}:${sandbox.apiSecret}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: 'grant_type=client_credentials',
    });
    const token = ((await tokenRes.json()) as { access_token: string }).access_token;
    expect(token).toMatch(/^eyJ[A-Za-z0-9_-]{10,}\./);
    for (const [where, text] of Object.entries(haystacks)) {
      expect({ where, secret: text.includes(sandbox.apiSecret) }).toEqual({ where, secret: false });
      expect({ where, jwt: /eyJ[A-Za-z0-9_-]{10,}\./.test(text) }).toEqual({ where, jwt: false });
      expect({ where, bearer: /Bearer\s+[A-Za-z0-9._-]{8,}/.test(text) }).toEqual({ where, bearer: false });
      expect({
        where,
        signedUrl: /[?&](sig|expires|X-Amz-Signature)=|sig=[0-9a-f]{8}/.test(text),
      }).toEqual({ where, signedUrl: false });
    }
  });
});
