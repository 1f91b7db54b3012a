// The export workflows on the REAL Temporal dev server (jest global setup) against a REAL sandbox process,
// with an in-process worker running the real activities (real m3ter client, local storage, webhook
// alerter, visibility claim checker).
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import type { WorkflowHandle } from '@temporalio/client';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { createActivities, createVisibilityClaimChecker, type ActivityLogger } from '../../../activities';
import { createWebhookAlerter } from '../../../src/alerts/webhook';
import { M3terClient } from '../../../src/m3ter';
import { createLocalStorage } from '../../../src/storage/local';
import type { ExportStorage, StorageWriter } from '../../../src/storage/types';
import { connectTestTemporal, type TestTemporal } from '../../support/temporal-harness';
import { spawnSandboxProcess, type SandboxProcess } from '../../support/sandbox-process';
import { startWebhookReceiver } from '../../support/worker-process';
import { workflowFailure } from '../../support/workflow-failure';
import type { AdhocExportInput, AdhocExportResult, BillsCsvExportInput, ExportStatus } from '../../../workflows';
import type { Manifest } from '../../../src/storage/types';
import { M3terExportJobId } from '../../../workflows/search-attributes';

const ADHOC_ROUTE = 'POST /organizations/:orgId/dataexports/adhoc';
const URL_ROUTE = 'GET /organizations/:orgId/dataexports/jobs/:jobId/getdownloadurl';
const FILE_ROUTE = 'GET /files/:fileId';

try {
  Runtime.install({ logger: new DefaultLogger('WARN') });
} catch {
  /* another test file in this jest worker installed it already */
}

const workflowSource = process.env.M3TER_WORKFLOW_BUNDLE
  ? { workflowBundle: { codePath: process.env.M3TER_WORKFLOW_BUNDLE } }
  : { workflowsPath: require.resolve('../../../workflows') };

interface SandboxJob {
  id: string;
  status: string;
  files: Array<{ fileId: string; name: string; bytes: number; sha256: string }>;
}

const fastPoll = { fastPollMs: 200, fastPhaseMs: 10_000, mediumMaxPollMs: 1_000, inActivityPhaseMs: 20_000, slowPollMs: 2_000 };

function usageRequest() {
  const end = new Date();
  end.setUTCHours(0, 0, 0, 0);
  end.setUTCDate(end.getUTCDate() + 1);
  const start = new Date(end.getTime() - 7 * 86_400_000);
  return { sourceType: 'USAGE' as const, startDate: start.toISOString(), endDate: end.toISOString() };
}

/** Collects log lines as JSON text, for the secret scan. */
function captureLog(lines: string[]): ActivityLogger {
  const push = (level: string) => (obj: object, msg?: string) => lines.push(JSON.stringify({ level, msg, ...obj }));
  return { debug: push('debug'), info: push('info'), warn: push('warn'), error: push('error') };
}

/**
 * Storage decorator: the first stream is cut after `cutAfter` bytes, as a dropped connection would cut it,
 * and `onCut` runs at that moment (the test expires the URL there).
 */
function cuttingStorage(inner: ExportStorage, cutAfter: number, onCut: () => Promise<void>): ExportStorage & { cuts: number } {
  const state = { cuts: 0 };
  const wrapWriter = (w: StorageWriter): StorageWriter => ({
    get name() {
      return w.name;
    },
    get bytesWritten() {
      return w.bytesWritten;
    },
    settle: () => w.settle(),
    truncate: () => w.truncate(),
    commit: (n) => w.commit(n),
    close: () => w.close(),
    discard: () => w.discard(),
    createStream() {
      const target = w.createStream();
      if (state.cuts > 0) return target;
      let seen = 0;
      return new Writable({
        write(chunk: Buffer, _enc, cb) {
          seen += chunk.length;
          target.write(chunk, (err) => {
            if (err) return cb(err);
            if (state.cuts === 0 && seen >= cutAfter) {
              state.cuts++;
              onCut().then(
                () => cb(new Error('socket hang up (injected mid-download)')),
                (e: Error) => cb(e),
              );
              return;
            }
            cb();
          });
        },
        final(cb) {
          target.end(cb);
        },
        destroy(err, cb) {
          target.destroy();
          cb(err);
        },
      });
    },
  });
  return {
    location: inner.location,
    openWriter: async (name: string, opts?: { resume?: boolean }) => wrapWriter(await inner.openWriter(name, opts)),
    exists: (n: string) => inner.exists(n),
    writeManifest: (f: string, m: Manifest) => inner.writeManifest(f, m),
    readManifest: (f: string) => inner.readManifest(f),
    findManifest: (b: string) => inner.findManifest(b),
    get cuts() {
      return state.cuts;
    },
  };
}

describe('export workflows (dev server + sandbox process)', () => {
  let temporal: TestTemporal;
  let sandbox: SandboxProcess;
  let webhook: Awaited<ReturnType<typeof startWebhookReceiver>>;
  let dir: string;
  const logLines: string[] = [];
  const taskQueue = `exports-it-${process.pid}-${Date.now()}`;
  let worker: Worker;
  let running: Promise<void>;
  let storageOverride: ExportStorage | undefined;

  beforeAll(async () => {
    [temporal, sandbox, webhook] = await Promise.all([connectTestTemporal(), spawnSandboxProcess(), startWebhookReceiver()]);
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'm3ter-exports-it-'));
    const log = captureLog(logLines);
    const m3ter = new M3terClient({ ...sandbox.m3ter, logger: log });
    const realStorage = createLocalStorage({ dir });
    // Storage is looked up per call so one test can swap in the cutting decorator.
    const storage: ExportStorage = {
      get location() {
        return realStorage.location;
      },
      openWriter: (n, o) => (storageOverride ?? realStorage).openWriter(n, o),
      exists: (n) => realStorage.exists(n),
      writeManifest: (f, m) => realStorage.writeManifest(f, m),
      readManifest: (f) => realStorage.readManifest(f),
      findManifest: (b) => realStorage.findManifest(b),
    };
    const activities = createActivities({
      m3ter,
      storage,
      log,
      alerter: createWebhookAlerter({ url: webhook.url, log }),
      claimedJobIds: createVisibilityClaimChecker(temporal.client),
    });
    worker = await Worker.create({ connection: temporal.nativeConnection, namespace: temporal.namespace, taskQueue, activities, ...workflowSource });
    running = worker.run();
  }, 180_000);

  afterAll(async () => {
    worker?.shutdown();
    await running?.catch(() => undefined);
    await sandbox?.stop();
    await webhook?.close();
    await temporal?.close();
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  beforeEach(async () => {
    storageOverride = undefined;
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

  function startAdhoc(input: AdhocExportInput, id = wfId('adhoc')): Promise<WorkflowHandle> {
    return temporal.client.workflow.start('adhocExportWorkflow', { taskQueue, workflowId: id, args: [input] });
  }

  async function sandboxJobs(): Promise<SandboxJob[]> {
    const res = await sandbox.admin.get<{ data?: SandboxJob[] } | SandboxJob[]>('/jobs');
    return Array.isArray(res) ? res : (res.data ?? []);
  }

  async function sandboxJob(id: string): Promise<SandboxJob> {
    return sandbox.admin.get<SandboxJob>(`/jobs/${id}`);
  }

  async function counters(): Promise<Record<string, number>> {
    return (await sandbox.admin.get<{ routes: Record<string, number> }>('/counters')).routes;
  }

  async function historyText(handle: WorkflowHandle): Promise<{ events: number; text: string }> {
    const history = await handle.fetchHistory();
    return { events: history.events?.length ?? 0, text: JSON.stringify(history) };
  }

  function expectNoSecrets(text: string): void {
    expect(text).not.toContain(sandbox.apiSecret);
    expect(text).not.toMatch(/sig=[0-9a-f]{8}/);
    expect(text).not.toMatch(/Bearer\s+[A-Za-z0-9]/);
    expect(text).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}\./);
  }

  async function expectStoredFileMatches(manifest: Manifest, job: SandboxJob): Promise<void> {
    expect(job.files).toHaveLength(1);
    expect(manifest.sha256).toBe(job.files[0].sha256);
    expect(manifest.bytes).toBe(job.files[0].bytes);
    const bytes = await fs.readFile(manifest.path);
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(job.files[0].sha256);
    const onDisk = JSON.parse(await fs.readFile(`${manifest.path}.manifest.json`, 'utf8')) as Manifest;
    expect(onDisk).toEqual(manifest);
  }

  it('usage export: triggers once, waits, stores the file with a matching checksum and a manifest', async () => {
    const request = usageRequest();
    const handle = await startAdhoc({ request, poll: fastPoll });
    const result = (await handle.result()) as AdhocExportResult;
    if (result.storage !== 'local') throw new Error('expected a stored file');
    const { manifest } = result;
    expect(manifest).toMatchObject({ workflowId: handle.workflowId, jobId: result.jobId, kind: 'usage', sourceType: 'USAGE', window: { start: request.startDate, end: request.endDate } });
    expect(manifest.rows).toBeGreaterThan(0);
    await expectStoredFileMatches(manifest, await sandboxJob(result.jobId));
    expect((await counters())[ADHOC_ROUTE]).toBe(1);

    const status = await handle.query<ExportStatus>('status');
    expect(status).toMatchObject({ phase: 'done', jobId: result.jobId, jobStatus: 'SUCCEEDED', bytesWritten: manifest.bytes });
    expect(status.polls).toBeGreaterThan(0);
    const description = await handle.describe();
    expect(description.typedSearchAttributes.get(M3terExportJobId)).toBe(result.jobId);

    const history = await historyText(handle);
    expect(history.events).toBeLessThan(60);
    expectNoSecrets(history.text);
    expectNoSecrets(logLines.join('\n'));
  });

  it('operational export: stores the file', async () => {
    const handle = await startAdhoc({ request: { sourceType: 'OPERATIONAL', operationalDataTypes: ['ACCOUNTS'] }, poll: fastPoll });
    const result = (await handle.result()) as AdhocExportResult;
    if (result.storage !== 'local') throw new Error('expected a stored file');
    expect(result.manifest).toMatchObject({ kind: 'operational', sourceType: 'OPERATIONAL' });
    await expectStoredFileMatches(result.manifest, await sandboxJob(result.jobId));
  });

  it('bill CSV export: requests the URL and downloads it in one activity', async () => {
    const end = new Date();
    const start = new Date(end.getTime() - 90 * 86_400_000);
    const input: BillsCsvExportInput = { request: { startDate: start.toISOString(), endDate: end.toISOString(), lineItemTypes: ['STANDING_CHARGE', 'USAGE'] } };
    const handle = await temporal.client.workflow.start('billsCsvExportWorkflow', { taskQueue, workflowId: wfId('bills'), args: [input] });
    const manifest = (await handle.result()) as Manifest;
    expect(manifest).toMatchObject({ kind: 'bills', sourceType: 'BILLS_CSV', workflowId: handle.workflowId });
    const bytes = await fs.readFile(manifest.path);
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(manifest.sha256);
    expect(bytes.toString('utf8').split('\n')[0]).toContain('billId');
    expect((await counters())['POST /organizations/:orgId/dataexplorer/bills/download/csv']).toBe(1);
    expect(await handle.query<ExportStatus>('status')).toMatchObject({ phase: 'done', bytesWritten: manifest.bytes });
    expectNoSecrets((await historyText(handle)).text);
  });

  it('a FAILED job fails the workflow with ExportJobFailed carrying the job id, and alerts the webhook', async () => {
    await sandbox.admin.post('/config', { nextJobOutcome: 'FAILED' });
    webhook.received.length = 0;
    const handle = await startAdhoc({ request: usageRequest(), poll: fastPoll });
    const cause = await workflowFailure(handle);
    expect(cause.type).toBe('ExportJobFailed');
    expect(cause.nonRetryable).toBe(true);
    const [{ jobId }] = cause.details as Array<{ jobId: string }>;
    expect(cause.message).toBe(`export job ${jobId} FAILED`);
    expect((await sandboxJob(jobId)).status).toBe('FAILED');
    expect(webhook.received).toContainEqual(expect.objectContaining({ kind: 'ExportJobFailed', jobId, workflowId: handle.workflowId }));
    expect(await handle.query<ExportStatus>('status')).toMatchObject({ phase: 'failed', jobId, jobStatus: 'FAILED' });
  });

  it('response lost after commit: the job is adopted, exactly one ExportJob exists', async () => {
    await sandbox.admin.post('/faults', { route: ADHOC_ROUTE, loseResponseAfterCommit: 1 });
    const handle = await startAdhoc({ request: usageRequest(), poll: fastPoll });
    const result = (await handle.result()) as AdhocExportResult;
    expect(result.recovered).toBe(true);
    const jobs = await sandboxJobs();
    expect(jobs).toHaveLength(1);
    expect(jobs[0].id).toBe(result.jobId);
    if (result.storage !== 'local') throw new Error('expected a stored file');
    await expectStoredFileMatches(result.manifest, await sandboxJob(result.jobId));
  });

  it('URL expiring mid-download: re-fetched, resumed with Range, one file whose checksum matches', async () => {
    await sandbox.admin.post('/config', { usageFileSizeBytes: 8 * 1024 * 1024 });
    // At 3 MiB the stream breaks and the sandbox clock jumps past the URL's 15-minute lifetime.
    storageOverride = cuttingStorage(createLocalStorage({ dir }), 3 * 1024 * 1024, async () => {
      await sandbox.admin.post('/clock', { advanceMs: 16 * 60_000 });
    });
    const handle = await startAdhoc({ request: usageRequest(), poll: fastPoll });
    const result = (await handle.result()) as AdhocExportResult;
    if (result.storage !== 'local') throw new Error('expected a stored file');
    expect((storageOverride as ExportStorage & { cuts: number }).cuts).toBe(1);
    await expectStoredFileMatches(result.manifest, await sandboxJob(result.jobId));
    const c = await counters();
    expect(c[URL_ROUTE]).toBe(2); // the first URL expired; one re-fetch
    expect(c[FILE_ROUTE]).toBeGreaterThanOrEqual(3); // 200 (cut), 403 (expired), 206 (resumed)
    const files = (await fs.readdir(dir)).filter((f) => f.startsWith(result.manifest.file.split('__')[0]));
    expect(files.sort()).toEqual([result.manifest.file, `${result.manifest.file}.manifest.json`]);
    expectNoSecrets(logLines.join('\n'));
  });

  it('status query reports the phase and job id while waiting', async () => {
    await sandbox.admin.post('/config', { jobTiming: { pendingMs: 300, runningMs: 5_000 } });
    const handle = await startAdhoc({ request: usageRequest(), poll: fastPoll });
    let status: ExportStatus | undefined;
    for (let i = 0; i < 100; i++) {
      status = await handle.query<ExportStatus>('status');
      if (status.phase === 'waiting' && status.jobId) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(status).toMatchObject({ phase: 'waiting', jobStatus: 'PENDING' });
    expect(status?.jobId).toEqual(expect.any(String));
    await handle.result();
    expect(await handle.query<ExportStatus>('status')).toMatchObject({ phase: 'done', jobStatus: 'SUCCEEDED' });
  });

  it("storage 'none' returns the URL's location and expiry without its signed query", async () => {
    const handle = await startAdhoc({ request: usageRequest(), storage: 'none', poll: fastPoll });
    const result = (await handle.result()) as AdhocExportResult;
    if (result.storage !== 'none') throw new Error("expected storage 'none'");
    expect(result.urlWithoutQuery).toMatch(/^http:\/\/[^?#]+\/files\/[^?#]+$/);
    expect(result.urlWithoutQuery).not.toContain('?');
    expect(result.expirationTime).toEqual(expect.any(String));
    expectNoSecrets((await historyText(handle)).text);
    expect((await fs.readdir(dir)).filter((f) => f.includes(handle.workflowId.replace(/[^A-Za-z0-9._-]+/g, '_')))).toEqual([]);
  });

  it('with 20 % of sandbox responses 5xx or 429, concurrent exports all complete with one job each', async () => {
    await sandbox.admin.post('/faults', { route: '*', errorRate: 0.2, errorStatuses: [500, 502, 503, 429] });
    const inputs: AdhocExportInput[] = [
      { request: usageRequest(), poll: fastPoll },
      { request: { ...usageRequest(), meterIds: ['m-a'] }, poll: fastPoll },
      { request: { sourceType: 'OPERATIONAL', operationalDataTypes: ['ACCOUNTS'] }, poll: fastPoll },
      { request: { sourceType: 'OPERATIONAL', operationalDataTypes: ['PRODUCTS'] }, poll: fastPoll },
    ];
    const handles = await Promise.all(inputs.map((input, i) => startAdhoc(input, wfId(`faults-${i}`))));
    const results = (await Promise.all(handles.map((h) => h.result()))) as AdhocExportResult[];
    await sandbox.admin.post('/faults', { route: '*', errorRate: 0 });
    const jobIds = results.map((r) => r.jobId);
    expect(new Set(jobIds).size).toBe(inputs.length);
    const jobs = await sandboxJobs();
    expect(jobs.map((j) => j.id).sort()).toEqual([...jobIds].sort());
    for (const r of results) {
      if (r.storage !== 'local') throw new Error('expected a stored file');
      await expectStoredFileMatches(r.manifest, await sandboxJob(r.jobId));
    }
  });

  it('refuses a malformed request before any API call', async () => {
    const handle = await startAdhoc({ request: { sourceType: 'USAGE', startDate: 'yesterday' } as never });
    const cause = await workflowFailure(handle);
    expect(cause.type).toBe('InvalidExportRequest');
    expect(cause.message).toContain('request.startDate');
    expect((await sandbox.admin.get<{ total: number }>('/counters')).total).toBe(0);
  });
});
