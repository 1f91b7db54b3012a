// Failure alerts end to end on the dev server, against a real sandbox process and local HTTP receivers
// standing in for Slack, a signed-webhook receiver, PagerDuty and the default ALERT_WEBHOOK_URL: one
// alert per failed ExportJob whichever of the export workflow and the failure monitor notices first,
// across a monitor restart and a forced continue-as-new. The monitor runs for the whole file with a long
// interval and polls when a test signals it, so every test waits for a poll it caused, never for a time.
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Client } from '@temporalio/client';
import {
  ensureFailureMonitor,
  failureMonitorStatus,
  FAILURE_MONITOR_WORKFLOW_ID,
} from '../../../src/alerts/monitor-start';
import { windowWorkflowId } from '../../../src/contract/window-ids';
import { M3terExportKind, M3terExportName, M3terWindowStart } from '../../../src/contract/search-attributes';
import type { adhocExportWorkflow } from '../../../workflows';
import { continueAsNewSignal, pollNowSignal, type FailureMonitorStatus } from '../../../src/contract/monitor';
import { FailureType } from '../../../src/contract/failures';
import type { AlertReceiver, ReceivedRequest } from '../../support/alert-receiver';
import {
  alertDeliveriesSettled,
  fastPoll,
  monitorFirstPoll,
  startAlertStack,
  whileJobsFail,
  type AlertStack,
} from '../../support/alert-stack';
import { waitFor } from '../../support/wait-for';
import { workflowFailure } from '../../support/workflow-failure';

const HOOK_SECRET = 'whsec-test-5f1d2c7a9e-0123456789abcdef';
const SLACK_TOKEN_PATH = '/services/T000/B000/slackTOKENx9q';
const PD_KEY = 'pd-routing-key-0c4e8b';
const DEFAULT_TOKEN = 'defaultHOOKtoken77';

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

const DEFINITIONS = (rxUrl: string) =>
  [
    'alerts:',
    '  - name: ops',
    '    type: slack',
    '    url: ${TEST_SLACK_URL}',
    '  - name: hook',
    '    type: webhook',
    `    url: ${rxUrl}/hook`,
    '    secret: ${TEST_HOOK_SECRET}',
    '  - name: fresh',
    '    type: webhook',
    `    url: ${rxUrl}/fresh`,
    '    secret: ${TEST_HOOK_SECRET}',
    '  - name: pd',
    '    type: pagerduty',
    `    url: ${rxUrl}/pd`,
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
  ].join('\n');

describe('failure alerts: channels, ledger and the DataExportJobFailure monitor', () => {
  let stack: AlertStack;
  let client: Client;
  let rx: AlertReceiver;
  const monitor = () => client.workflow.getHandle(FAILURE_MONITOR_WORKFLOW_ID);
  // Polls only at its start and when signalled (the interval outlasts any test).
  const startMonitor = () =>
    ensureFailureMonitor(client, stack.taskQueue, {
      intervalMs: 3_600_000,
      lookbackMs: 24 * 3600_000,
      pageSize: 100,
      // Unowned events are alerted at once here; holding them for an owner is test/integration/alerts/routing.test.ts.
      ownerWaitMs: 0,
    });

  beforeAll(async () => {
    stack = await startAlertStack((url) => ({
      name: 'alerts',
      logLevel: 'info',
      channelEnv: {
        TEST_SLACK_URL: `${url}${SLACK_TOKEN_PATH}`,
        TEST_HOOK_SECRET: HOOK_SECRET,
        TEST_PD_KEY: PD_KEY,
      },
      definitions: DEFINITIONS(url),
      env: {
        ALERT_WEBHOOK_URL: `${url}/default/${DEFAULT_TOKEN}`,
        TEMPORAL_UI_URL: 'http://localhost:8233',
        // One message per failed job: incidents are test/integration/alerts/incidents.test.ts.
        INCIDENTS: 'off',
      },
    }));
    ({ client, rx } = stack);
    // A monitor left by an earlier run would poll a sandbox that no longer exists.
    await monitor()
      .terminate('test setup')
      .catch(() => undefined);
    await startMonitor();
    // Its first poll must be over before a test fails a job: a late one would claim that job's alert
    // itself, routed without the export's name (the test's workflows carry no search attributes).
    await monitorFirstPoll(client);
  });

  afterAll(async () => {
    await monitor()
      ?.terminate('test done')
      .catch(() => undefined);
    await stack?.close();
  });

  /**
   * Signals the monitor until a poll that STARTED after this call has finished (its freshness check too),
   * and returns the status after it. A signal that arrives mid-poll may be folded into that poll, so it
   * is sent again until such a poll shows.
   */
  async function monitorPass(): Promise<FailureMonitorStatus> {
    const since = Date.now();
    let polled: number | undefined;
    return waitFor(
      async () => {
        const { status } = await failureMonitorStatus(client);
        if (polled === undefined && status.lastPoll && Date.parse(status.lastPoll) >= since)
          polled = status.polls;
        if (polled !== undefined && status.polls > polled) return status;
        await monitor().signal(pollNowSignal);
        return undefined;
      },
      'a monitor poll started after the signal',
      { intervalMs: 300 },
    );
  }

  /** Runs the nightly-usage export into a FAILED ExportJob; its workflow id and job id. */
  function failedExport(): Promise<{ workflowId: string; jobId: string }> {
    return whileJobsFail(stack.sandbox, async () => {
      const h = await client.workflow.start<typeof adhocExportWorkflow>('adhocExportWorkflow', {
        workflowId: `export:operational:nightly-usage:alert-test-${Date.now()}`,
        taskQueue: stack.taskQueue,
        args: [
          {
            request: { sourceType: 'OPERATIONAL', operationalDataTypes: ['ACCOUNTS'] },
            name: 'nightly-usage',
            poll: fastPoll,
          },
        ],
      });
      const cause = await workflowFailure(h);
      expect(cause.type).toBe(FailureType.ExportJobFailed);
      const { jobId } = cause.details?.[0] as { jobId: string };
      return { workflowId: h.workflowId, jobId };
    });
  }

  /** What each channel received about one job. */
  const alertsOf = (jobId: string) => ({
    slack: rx.on(SLACK_TOKEN_PATH).filter((r) => r.body.includes(jobId)),
    hook: rx.on('/hook').filter((r) => jobIdOf(r) === jobId),
    pd: rx.on('/pd').filter((r) => jobIdOf(r) === jobId),
    default: rx.received.filter((r) => r.path.startsWith('/default') && jobIdOf(r) === jobId),
  });

  it('alerts a FAILED export once on each of its channels, with the rerun command, and the monitor adds none', async () => {
    const before = (await failureMonitorStatus(client)).status;
    const { workflowId, jobId } = await failedExport();
    const slack = await waitFor(() => alertsOf(jobId).slack[0], 'the Slack alert');
    const hook = await waitFor(() => alertsOf(jobId).hook[0], 'the webhook alert');
    const pd = await waitFor(() => alertsOf(jobId).pd[0], 'the PagerDuty alert');

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
    expect(blocks).toContain(`m3ter-exports rerun ${workflowId}`);
    expect(blocks).toContain(jobId);
    expect(blocks).toContain('ExportJobFailed');
    expect(blocks).toContain('nightly-usage');
    expect(blocks).toContain(`http://localhost:8233/namespaces/${stack.temporal.namespace}/workflows/`);

    // Webhook: verifies with the documented recipe, not with a wrong secret.
    expect(verify(HOOK_SECRET, hook)).toBe(true);
    expect(verify('not-the-secret', hook)).toBe(false);
    expect(hook.json).toMatchObject({ kind: 'ExportJobFailed', jobId, workflowId });

    // PagerDuty: Events API v2 with dedup_key = job id.
    expect(pd.json).toMatchObject({ routing_key: PD_KEY, event_action: 'trigger', dedup_key: jobId });

    // The monitor's next poll has seen the job's failure event (found alerted, or alerted first), and
    // each channel still has one alert.
    const after = await monitorPass();
    const accounted = (st: FailureMonitorStatus) => st.alreadyAlerted + st.alertsSent;
    expect(accounted(after) - accounted(before)).toBeGreaterThanOrEqual(1);
    await alertDeliveriesSettled(stack);
    const got = alertsOf(jobId);
    expect([got.slack, got.hook, got.pd, got.default].map((a) => a.length)).toEqual([1, 1, 1, 0]);
  });

  it('alerts a failure event of a job no workflow owns once on the default channel, with its scheduleId', async () => {
    const { data } = await stack.sandbox.admin.post<{
      data: Array<{ id: string; m3terEvent: { eventData: { jobId: string } } }>;
    }>('/events/job-failures', {
      scheduleId: 'sched-console-42',
      errorMessage: 'destination bucket denied access',
    });
    const jobId = data[0].m3terEvent.eventData.jobId;
    await monitorPass();
    const got = await waitFor(() => alertsOf(jobId).default[0], 'the unowned alert');
    expect(got.json).toMatchObject({
      kind: 'ExportJobFailed',
      jobId,
      scheduleId: 'sched-console-42',
      noticedBy: 'monitor',
    });
    expect((got.json as Record<string, unknown>).workflowId).toBeUndefined();
    // Another poll over the same event sends nothing more.
    const before = (await failureMonitorStatus(client)).status;
    const after = await monitorPass();
    expect(after.alertsSent).toBe(before.alertsSent);
    await alertDeliveriesSettled(stack);
    expect(rx.received.filter((r) => jobIdOf(r) === jobId)).toHaveLength(1);
  });

  it('claims 250 failure events across pages once each and reports them in digests, across a monitor restart and a forced continue-as-new', async () => {
    const { data } = await stack.sandbox.admin.post<{
      data: Array<{ m3terEvent: { eventData: { jobId: string } } }>;
    }>('/events/job-failures', { count: 250, scheduleId: 'sched-bulk' });
    const ids = new Set(data.map((e) => e.m3terEvent.eventData.jobId));
    expect(ids.size).toBe(250);
    // Above the digest threshold a poll claims each failure silently and sends one digest per poll.
    const single = () => rx.received.filter((r) => ids.has(jobIdOf(r) ?? ''));
    const defaults = () => rx.received.filter((r) => r.path.startsWith('/default'));
    const digested = () =>
      defaults()
        .map((r) => (r.json as { details?: { failures?: number } }).details?.failures ?? 0)
        .reduce((a, b) => a + b, 0);
    await monitor().signal(pollNowSignal);
    await waitFor(() => digested() >= 1, 'the first digest');

    // Restart: the monitor is terminated mid-stream and started afresh (no state: it looks back 24 h).
    await monitor().terminate('restart in test');
    expect((await startMonitor()).started).toBe(true);
    await monitorFirstPoll(client);
    // Forced continue-as-new, then a poll of the continued run that started after it.
    await monitor().signal(continueAsNewSignal);
    await waitFor(async () => (await failureMonitorStatus(client)).status.runs >= 2, 'the continued run');
    const status = await monitorPass();
    expect(status.runs).toBeGreaterThanOrEqual(2);
    expect(status.pollsThisRun).toBeGreaterThanOrEqual(1);

    await waitFor(() => digested() >= 250, '250 failures in digests', { timeoutMs: 120_000 });
    await monitorPass();
    await alertDeliveriesSettled(stack);
    // Every failure counted once in the digests, none alerted on its own, whatever the restarts.
    expect(digested()).toBe(250);
    expect(single()).toEqual([]);
    const digestText = defaults()
      .map((r) => JSON.stringify(r.json))
      .join('\n');
    expect([...ids].some((id) => digestText.includes(id))).toBe(true);
    const last = (await failureMonitorStatus(client)).status;
    expect(last.lastError).toBeUndefined();
    expect(last.highWaterMark).toBeDefined();
  });

  it('alerts a stale export once, then its recovery once when a newer window succeeds', async () => {
    const kinds = () => rx.on('/fresh').map((r) => (r.json as { kind: string }).kind);
    // No window of fresh-ops ever succeeded: stale since the monitor's first check.
    await monitorPass();
    await waitFor(() => kinds().includes('ExportStale'), 'the stale alert');
    const stale = rx.on('/fresh')[0].json as Record<string, unknown>;
    expect(stale).toMatchObject({ kind: 'ExportStale', exportName: 'fresh-ops', noticedBy: 'monitor' });
    expect(verify(HOOK_SECRET, rx.on('/fresh')[0])).toBe(true);

    // The previous hour's window succeeds: its end is the start of this hour, well within 2 h.
    const hour = 3_600_000;
    const prevStart = new Date(Math.floor(Date.now() / hour) * hour - hour);
    const h = await client.workflow.start<typeof adhocExportWorkflow>('adhocExportWorkflow', {
      workflowId: windowWorkflowId('operational', 'fresh-ops', prevStart),
      taskQueue: stack.taskQueue,
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
    await monitorPass();
    await waitFor(() => kinds().includes('ExportRecovered'), 'the recovered message');
    // Further polls of a fresh export send nothing.
    await monitorPass();
    const status = await monitorPass();
    await alertDeliveriesSettled(stack);
    expect(kinds()).toEqual(['ExportStale', 'ExportRecovered']);
    expect(status.freshness?.['fresh-ops']).toMatchObject({
      stale: false,
      newestWindowStart: prevStart.toISOString(),
    });
  });

  it('puts no secret, token, webhook URL or routing key in alerts, logs or histories', async () => {
    const { workflowId, jobId } = await failedExport();
    await waitFor(() => alertsOf(jobId).pd.length === 1, 'the PagerDuty alert');
    await monitorPass();
    await alertDeliveriesSettled(stack);
    const secrets = [HOOK_SECRET, SLACK_TOKEN_PATH, 'slackTOKENx9q', DEFAULT_TOKEN, stack.sandbox.apiSecret];
    const alertBodies = rx.received.map((r) => r.body).join('\n');
    const logs = stack.logLines.join('');
    expect(logs).toContain('alert');
    const histories: string[] = [];
    for (const id of [FAILURE_MONITOR_WORKFLOW_ID, workflowId, `alert:${jobId}`]) {
      histories.push(JSON.stringify(await client.workflow.getHandle(id).fetchHistory()));
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
