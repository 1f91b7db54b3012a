// Failure alerts end to end on the dev server, against a real sandbox process and local HTTP receivers
// standing in for Slack, a signed-webhook receiver, PagerDuty and the default ALERT_WEBHOOK_URL: one
// alert per failed ExportJob whichever of the export workflow and the failure monitor notices first,
// across a monitor restart and a forced continue-as-new.
import { createHmac, timingSafeEqual } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { WorkflowFailedError, type Client, type WorkflowHandle } from '@temporalio/client';
import { loadConfig, m3terEnv } from '../../../src/config/config';
import { createLogger } from '../../../src/log/logger';
import {
  ensureFailureMonitor,
  failureMonitorStatus,
  FAILURE_MONITOR_WORKFLOW_ID,
} from '../../../src/alerts/monitor-start';
import { windowWorkflowId } from '../../../src/contract/window-ids';
import { createExportWorker, type ExportWorker } from '../../../src/worker';
import { M3terExportKind, M3terExportName, M3terWindowStart } from '../../../src/contract/search-attributes';
import type { adhocExportWorkflow } from '../../../workflows';
import { continueAsNewSignal, pollNowSignal } from '../../../src/contract/monitor';
import { startAlertReceiver, type AlertReceiver, type ReceivedRequest } from '../../support/alert-receiver';
import { spawnSandboxProcess, type SandboxProcess } from '../../../tooling/sandbox-process';
import { connectTestTemporal, type TestTemporal } from '../../support/temporal-harness';

const HOOK_SECRET = 'whsec-test-5f1d2c7a9e';
const SLACK_TOKEN_PATH = '/services/T000/B000/slackTOKENx9q';
const PD_KEY = 'pd-routing-key-0c4e8b';
const DEFAULT_TOKEN = 'defaultHOOKtoken77';
const fastPoll = { fastPollMs: 200, slowPollMs: 2_000 };

async function waitFor<T>(
  what: string,
  fn: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 90_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** The receiver-side verification recipe from the README, written out independently of src/alerts. */
function verify(secret: string, r: ReceivedRequest): boolean {
  const ts = r.headers['x-m3ter-exports-timestamp'];
  const sig = r.headers['x-m3ter-exports-signature'];
  if (typeof ts !== 'string' || typeof sig !== 'string') return false;
  if (Math.abs(Date.now() / 1000 - Number(ts)) > 300) return false;
  const expected = 'sha256=' + createHmac('sha256', secret).update(`${ts}.${r.body}`).digest('hex');
  return expected.length === sig.length && timingSafeEqual(Buffer.from(expected), Buffer.from(sig));
}

const jobIdOf = (r: ReceivedRequest): string | undefined => {
  const j = r.json as Record<string, unknown>;
  return (j.jobId as string) ?? (j.dedup_key as string) ?? undefined;
};

describe('failure alerts: channels, ledger and the DataExportJobFailure monitor', () => {
  let t: TestTemporal;
  let client: Client;
  let sandbox: SandboxProcess;
  let rx: AlertReceiver;
  let worker: ExportWorker;
  let running: Promise<void>;
  let taskQueue: string;
  let tmp: string;
  const logLines: string[] = [];

  beforeAll(async () => {
    t = await connectTestTemporal();
    client = t.client;
    // A monitor left by an earlier run of this file would poll a sandbox that no longer exists.
    await client.workflow
      .getHandle(FAILURE_MONITOR_WORKFLOW_ID)
      .terminate('test setup')
      .catch(() => undefined);
    sandbox = await spawnSandboxProcess();
    await sandbox.admin.post('/config', { jobTiming: { pendingMs: 100, runningMs: 200 } });
    rx = await startAlertReceiver();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'm3ter-alerts-'));
    const defsFile = path.join(tmp, 'm3ter-exports.yaml');
    fs.writeFileSync(
      defsFile,
      [
        'alerts:',
        '  - name: ops',
        '    type: slack',
        '    url: ${TEST_SLACK_URL}',
        '  - name: hook',
        '    type: webhook',
        `    url: ${rx.url}/hook`,
        '    secret: ${TEST_HOOK_SECRET}',
        '  - name: fresh',
        '    type: webhook',
        `    url: ${rx.url}/fresh`,
        '    secret: ${TEST_HOOK_SECRET}',
        '  - name: pd',
        '    type: pagerduty',
        `    url: ${rx.url}/pd`,
        '    routingKey: ${TEST_PD_KEY}',
        'exports:',
        '  - name: nightly-usage',
        '    kind: operational',
        '    request: { operationalDataTypes: [ACCOUNTS] }',
        '    window: none',
        '    alerts: [ops, hook, pd]',
        '  - name: fresh-ops',
        '    kind: operational',
        '    request: { operationalDataTypes: [ACCOUNTS] }',
        '    window: hour',
        '    timezone: UTC',
        '    freshness: 2h',
        '    alerts: [fresh]',
      ].join('\n'),
    );
    process.env.TEST_SLACK_URL = `${rx.url}${SLACK_TOKEN_PATH}`;
    process.env.TEST_HOOK_SECRET = HOOK_SECRET;
    process.env.TEST_PD_KEY = PD_KEY;
    taskQueue = `alerts-${Date.now()}`;
    const config = loadConfig({
      ...m3terEnv(sandbox.m3ter),
      TEMPORAL_ADDRESS: t.address,
      TEMPORAL_NAMESPACE: t.namespace,
      TEMPORAL_TASK_QUEUE: taskQueue,
      EXPORT_DIR: path.join(tmp, 'exports'),
      ALERT_WEBHOOK_URL: `${rx.url}/default/${DEFAULT_TOKEN}`,
      EXPORT_DEFINITIONS_FILE: defsFile,
      TEMPORAL_UI_URL: 'http://localhost:8233',
      LOG_LEVEL: 'info',
    });
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        logLines.push(chunk.toString());
        cb();
      },
    });
    const log = createLogger({ level: 'info', secrets: [config.m3ter.apiSecret], destination: sink });
    worker = await createExportWorker(config, log);
    running = worker.run();
  });

  afterAll(async () => {
    await client?.workflow
      .getHandle(FAILURE_MONITOR_WORKFLOW_ID)
      .terminate('test done')
      .catch(() => undefined);
    worker?.shutdown();
    await running?.catch(() => undefined);
    await rx?.close();
    await sandbox?.stop();
    await t?.close();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  const startMonitor = () =>
    ensureFailureMonitor(client, taskQueue, { intervalMs: 1_000, lookbackMs: 24 * 3600_000, pageSize: 100 });

  let failedJobId: string;
  let failedWorkflowId: string;

  it('a FAILED export alerts once on each of its channels, with the rerun command; the monitor adds none', async () => {
    await sandbox.admin.post('/config', { nextJobOutcome: 'FAILED' });
    let h: WorkflowHandle<typeof adhocExportWorkflow>;
    try {
      h = await client.workflow.start<typeof adhocExportWorkflow>('adhocExportWorkflow', {
        workflowId: `export:operational:nightly-usage:alert-test-${Date.now()}`,
        taskQueue,
        args: [
          {
            request: { sourceType: 'OPERATIONAL', operationalDataTypes: ['ACCOUNTS'] },
            name: 'nightly-usage',
            poll: fastPoll,
          },
        ],
      });
      const err = await h.result().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(WorkflowFailedError);
    } finally {
      await sandbox.admin.post('/config', { nextJobOutcome: 'SUCCEEDED' });
    }
    failedWorkflowId = h.workflowId;
    const slack = await waitFor('the Slack alert', () => rx.on(SLACK_TOKEN_PATH)[0]);
    await waitFor('the webhook alert', () => rx.on('/hook')[0]);
    const pd = await waitFor('the PagerDuty alert', () => rx.on('/pd')[0]);
    failedJobId = (pd.json as { dedup_key: string }).dedup_key;
    expect(failedJobId).toMatch(/\S/);

    // Slack: Block Kit shape, with everything ops need to act.
    const s = slack.json as { text: string; blocks: Array<Record<string, unknown>> };
    expect(typeof s.text).toBe('string');
    expect(Array.isArray(s.blocks)).toBe(true);
    expect(s.blocks[0]).toMatchObject({ type: 'header', text: { type: 'plain_text' } });
    for (const b of s.blocks) {
      expect(['header', 'section', 'context', 'actions', 'divider']).toContain(b.type);
      if (b.type === 'section') expect(b.text ?? b.fields).toBeDefined();
    }
    const blocks = JSON.stringify(s.blocks);
    expect(blocks).toContain(`m3ter-exports rerun ${failedWorkflowId}`);
    expect(blocks).toContain(failedJobId);
    expect(blocks).toContain('ExportJobFailed');
    expect(blocks).toContain('nightly-usage');
    expect(blocks).toContain(`http://localhost:8233/namespaces/${t.namespace}/workflows/`);

    // Webhook: verifies with the documented recipe, not with a wrong secret.
    const hook = rx.on('/hook')[0];
    expect(verify(HOOK_SECRET, hook)).toBe(true);
    expect(verify('not-the-secret', hook)).toBe(false);
    expect(hook.json).toMatchObject({
      kind: 'ExportJobFailed',
      jobId: failedJobId,
      workflowId: failedWorkflowId,
    });

    // PagerDuty: Events API v2 with dedup_key = job id.
    expect(pd.json).toMatchObject({ routing_key: PD_KEY, event_action: 'trigger', dedup_key: failedJobId });

    // The monitor sees the job's failure event later and adds nothing.
    await startMonitor();
    await waitFor('a monitor poll that saw the event', async () => {
      const { status } = await failureMonitorStatus(client);
      return status.alreadyAlerted >= 1 ? status : undefined;
    });
    await new Promise((r) => setTimeout(r, 1500));
    for (const p of [SLACK_TOKEN_PATH, '/hook', '/pd']) expect(rx.on(p)).toHaveLength(1);
    expect(rx.received.filter((r) => r.path.startsWith('/default'))).toHaveLength(0);
  });

  it('a failure event of a job no workflow owns alerts once on the default channel, with its scheduleId', async () => {
    const { data } = await sandbox.admin.post<{
      data: Array<{ id: string; m3terEvent: { eventData: { jobId: string } } }>;
    }>('/events/job-failures', {
      scheduleId: 'sched-console-42',
      errorMessage: 'destination bucket denied access',
    });
    const jobId = data[0].m3terEvent.eventData.jobId;
    await client.workflow.getHandle(FAILURE_MONITOR_WORKFLOW_ID).signal(pollNowSignal);
    const got = await waitFor('the unowned alert', () =>
      rx.received.find((r) => r.path.startsWith('/default') && jobIdOf(r) === jobId),
    );
    expect(got.json).toMatchObject({
      kind: 'ExportJobFailed',
      jobId,
      scheduleId: 'sched-console-42',
      noticedBy: 'monitor',
    });
    expect((got.json as Record<string, unknown>).workflowId).toBeUndefined();
    await client.workflow.getHandle(FAILURE_MONITOR_WORKFLOW_ID).signal(pollNowSignal);
    await new Promise((r) => setTimeout(r, 2000));
    expect(rx.received.filter((r) => jobIdOf(r) === jobId)).toHaveLength(1);
  });

  it('250 failure events across pages: 250 alerts, none twice, across a monitor restart and a forced continue-as-new', async () => {
    const before = (await failureMonitorStatus(client)).status;
    const { data } = await sandbox.admin.post<{
      data: Array<{ m3terEvent: { eventData: { jobId: string } } }>;
    }>('/events/job-failures', { count: 250, scheduleId: 'sched-bulk' });
    const ids = new Set(data.map((e) => e.m3terEvent.eventData.jobId));
    expect(ids.size).toBe(250);
    const bulk = () => rx.received.filter((r) => r.path.startsWith('/default') && ids.has(jobIdOf(r) ?? ''));
    await client.workflow.getHandle(FAILURE_MONITOR_WORKFLOW_ID).signal(pollNowSignal);
    await waitFor('the first bulk alerts', () => bulk().length >= 20 || undefined);

    // Restart: the monitor is terminated mid-stream and started afresh (no state: it looks back 24 h).
    await client.workflow.getHandle(FAILURE_MONITOR_WORKFLOW_ID).terminate('restart in test');
    const restarted = await startMonitor();
    expect(restarted.started).toBe(true);
    await waitFor('a poll of the restarted monitor', async () => {
      const { status } = await failureMonitorStatus(client);
      return status.polls >= 1 ? status : undefined;
    });
    // Forced continue-as-new, then more polls on the new run.
    await client.workflow.getHandle(FAILURE_MONITOR_WORKFLOW_ID).signal(continueAsNewSignal);
    await waitFor('the continued run polling', async () => {
      const { status } = await failureMonitorStatus(client);
      return status.runs >= 2 && status.pollsThisRun >= 2 ? status : undefined;
    });

    await waitFor('250 bulk alerts', () => bulk().length >= 250 || undefined, 120_000);
    await new Promise((r) => setTimeout(r, 3000));
    const seen = bulk().map((r) => jobIdOf(r));
    expect(seen).toHaveLength(250);
    expect(new Set(seen).size).toBe(250);
    // And nothing earlier was alerted again by the restarted monitor.
    expect(rx.on('/pd')).toHaveLength(1);
    expect(
      rx.received.filter((r) => jobIdOf(r) === failedJobId && r.path.startsWith('/default')),
    ).toHaveLength(0);
    const { status } = await failureMonitorStatus(client);
    expect(status.lastError).toBeUndefined();
    expect(status.highWaterMark).toBeDefined();
    expect(before.polls).toBeGreaterThan(0);
  });

  it('freshness: a stale export alerts once, then recovers once when a newer window succeeds', async () => {
    const kinds = () => rx.on('/fresh').map((r) => (r.json as { kind: string }).kind);
    // No window of fresh-ops ever succeeded: stale since the monitor's first check (restarts did not repeat it).
    await waitFor('the stale alert', () => kinds().includes('ExportStale') || undefined);
    const stale = rx.on('/fresh')[0].json as Record<string, unknown>;
    expect(stale).toMatchObject({ kind: 'ExportStale', exportName: 'fresh-ops', noticedBy: 'monitor' });
    expect(verify(HOOK_SECRET, rx.on('/fresh')[0])).toBe(true);

    // The previous hour's window succeeds: its end is the start of this hour, well within 2 h.
    const hour = 3_600_000;
    const prevStart = new Date(Math.floor(Date.now() / hour) * hour - hour);
    const h = await client.workflow.start<typeof adhocExportWorkflow>('adhocExportWorkflow', {
      workflowId: windowWorkflowId('operational', 'fresh-ops', prevStart),
      taskQueue,
      args: [
        {
          request: {
            sourceType: 'OPERATIONAL',
            operationalDataTypes: ['ACCOUNTS'],
            startDate: prevStart.toISOString(),
          },
          name: 'fresh-ops',
          poll: fastPoll,
        },
      ],
      typedSearchAttributes: [
        { key: M3terExportKind, value: 'operational' },
        { key: M3terExportName, value: 'fresh-ops' },
        { key: M3terWindowStart, value: prevStart },
      ],
    });
    await h.result();
    await client.workflow.getHandle(FAILURE_MONITOR_WORKFLOW_ID).signal(pollNowSignal);
    await waitFor('the recovered message', () => kinds().includes('ExportRecovered') || undefined);
    for (let i = 0; i < 3; i++) {
      await client.workflow.getHandle(FAILURE_MONITOR_WORKFLOW_ID).signal(pollNowSignal);
      await new Promise((r) => setTimeout(r, 700));
    }
    expect(kinds()).toEqual(['ExportStale', 'ExportRecovered']);
    const { status } = await failureMonitorStatus(client);
    expect(status.freshness?.['fresh-ops']).toMatchObject({
      stale: false,
      newestWindowStart: prevStart.toISOString(),
    });
  });

  it('no secret, token, webhook URL or routing key in alerts, logs or histories', async () => {
    const secrets = [HOOK_SECRET, SLACK_TOKEN_PATH, 'slackTOKENx9q', DEFAULT_TOKEN, sandbox.apiSecret];
    const alertBodies = rx.received.map((r) => r.body).join('\n');
    const logs = logLines.join('');
    expect(logs).toContain('alert');
    const histories: string[] = [];
    const ids = [FAILURE_MONITOR_WORKFLOW_ID, failedWorkflowId, `alert:${failedJobId}`];
    for (const id of ids) {
      const h = await client.workflow.getHandle(id).fetchHistory();
      histories.push(JSON.stringify(h));
    }
    for (const s of secrets) {
      expect(alertBodies).not.toContain(s);
      expect(logs).not.toContain(s);
      for (const h of histories) expect(h).not.toContain(s);
    }
    // The PagerDuty routing key travels only in PagerDuty's own request body.
    expect(logs).not.toContain(PD_KEY);
    for (const h of histories) expect(h).not.toContain(PD_KEY);
    expect(
      rx.received
        .filter((r) => r.path !== '/pd')
        .map((r) => r.body)
        .join('\n'),
    ).not.toContain(PD_KEY);
  });
});
