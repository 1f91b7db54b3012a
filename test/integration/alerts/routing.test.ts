// One source of truth for routing, end to end on the dev server with a real sandbox process and local
// receivers: a backfill prepared from a definitions file carries the file's channels (`${VAR}` references
// unresolved) and the worker, which has no definitions file of its own, resolves them from its own
// environment; a channel it cannot resolve reaches the default channel with a note naming what is missing;
// and a job whose trigger response was lost and which failed within seconds is held by the monitor until its
// owner adopts it, so its alert names the export and window on the export's own channel.
import fs from 'node:fs';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { prepareBackfill } from '../../../src/cli/backfill-prepare';
import {
  ensureFailureMonitor,
  failureMonitorStatus,
  FAILURE_MONITOR_WORKFLOW_ID,
} from '../../../src/alerts/monitor-start';
import { pollNowSignal } from '../../../src/contract/monitor';
import { windowWorkflowId } from '../../../src/contract/window-ids';
import type { AlertReceiver, ReceivedRequest } from '../../support/alert-receiver';
import {
  hourRange,
  monitorFirstPoll,
  pastHourBase,
  startAlertStack,
  startPreparedBackfill,
  whileJobsFail,
  HOUR,
  type AlertStack,
} from '../../support/alert-stack';
import { waitFor } from '../../support/wait-for';

const HOOK_SECRET = 'whsec-routing-7c1e0b3a55-0123456789abcdef';
const ADHOC_ROUTE = 'POST /organizations/:orgId/dataexports/adhoc';

const FILE = [
  'alerts:',
  '  - name: barhook',
  '    type: webhook',
  '    url: ${ROUTING_TEST_BARHOOK_URL}',
  '    secret: ${ROUTING_TEST_BARHOOK_SECRET}',
  '  - name: elsewhere',
  '    type: webhook',
  '    url: ${ROUTING_TEST_NOT_ON_WORKER}',
  '    secret: ${ROUTING_TEST_BARHOOK_SECRET}',
  'exports:',
  ...['bar', 'lost', 'unresolved'].flatMap((name) => [
    `  - name: routing-${name}`,
    '    kind: operational',
    '    request: { operationalDataTypes: [ACCOUNTS] }',
    '    window: hour',
    `    alerts: [${name === 'unresolved' ? 'elsewhere' : 'barhook'}]`,
  ]),
].join('\n');

describe('routing travels with the export: the applied file decides where alerts go', () => {
  let stack: AlertStack;
  let client: Client;
  let rx: AlertReceiver;
  let file: string;
  // A range of its own per run, so windows of an earlier run on the same server are never found.
  const base = pastHourBase(48);
  const monitor = () => client.workflow.getHandle(FAILURE_MONITOR_WORKFLOW_ID);

  beforeAll(async () => {
    stack = await startAlertStack((url) => ({
      name: 'routing',
      // The worker runs in this process: these are the worker's environment. The operator's file names a
      // variable the worker does not have (ROUTING_TEST_NOT_ON_WORKER) for the `elsewhere` channel.
      channelEnv: { ROUTING_TEST_BARHOOK_URL: `${url}/barhook`, ROUTING_TEST_BARHOOK_SECRET: HOOK_SECRET },
      // No definitions file for the worker: only what travels with the backfill can route.
      // One message per failed job (incidents are test/integration/alerts/incidents.test.ts).
      // A shorter request timeout shortens the lost trigger response's owner bound with it.
      env: { INCIDENTS: 'off', M3TER_REQUEST_TIMEOUT: '8s' },
      overrides: () => ({
        deps: {
          trigger: { recoveryGraceMs: 200, clockSkewMs: 500, claimWriteMarginMs: 500, claimPollMs: 200 },
        },
      }),
    }));
    ({ client, rx } = stack);
    file = path.join(stack.dir, 'operator.yaml');
    fs.writeFileSync(file, FILE);
    await monitor()
      .terminate('test setup')
      .catch(() => undefined);
    await ensureFailureMonitor(client, stack.taskQueue, {
      intervalMs: 3_600_000,
      lookbackMs: HOUR,
      pageSize: 100,
    });
    // A first poll still running when a test's job fails would decide that job's alert itself.
    await monitorFirstPoll(client);
  });

  afterAll(async () => {
    await monitor()
      ?.terminate('test done')
      .catch(() => undefined);
    await stack?.close();
  });

  /** Backfills `hours` windows of `name` from the operator's file (prepared as the CLI does), to its end. */
  async function backfill(name: string, fromHour: number, hours: number): Promise<void> {
    // The operator's machine has the variables too (the CLI checks the file with them).
    const prepared = prepareBackfill(
      name,
      { file, ...hourRange(base, fromHour, hours), concurrency: '3' },
      {
        ...process.env,
        ROUTING_TEST_NOT_ON_WORKER: 'https://hooks.example.com/operator-only',
      },
    );
    expect(JSON.stringify(prepared.input)).not.toContain(HOOK_SECRET);
    await (await startPreparedBackfill(stack, prepared)).result();
  }

  /** Signals the monitor to poll until it holds `count` failure events for an owner. */
  const heldEvents = (count: number, what: string) =>
    waitFor(
      async () => {
        await monitor().signal(pollNowSignal);
        return (await failureMonitorStatus(client)).status.heldEvents === count;
      },
      what,
      { intervalMs: 500 },
    );

  const byExport = (rs: ReceivedRequest[], name: string) =>
    rs.filter((r) => (r.json as { exportName?: string }).exportName === name);

  it("sends a backfill's failures to the channel its file names, resolved from the worker's environment, and none to the default", async () => {
    await whileJobsFail(stack.sandbox, () => backfill('routing-bar', 0, 3));
    const hook = await waitFor(
      () =>
        byExport(rx.on('/barhook'), 'routing-bar').length === 3
          ? byExport(rx.on('/barhook'), 'routing-bar')
          : undefined,
      'three alerts on barhook',
    );
    expect(hook.every((r) => typeof r.headers['x-m3ter-exports-signature'] === 'string')).toBe(true);
    expect(hook.map((r) => (r.json as { kind: string }).kind)).toEqual(Array(3).fill('ExportJobFailed'));
    expect(byExport(rx.on('/default'), 'routing-bar')).toEqual([]);
  });

  it('alerts the default channel, naming the channel and the variable the worker lacks, when it cannot resolve a channel', async () => {
    await whileJobsFail(stack.sandbox, () => backfill('routing-unresolved', 10, 1));
    const got = await waitFor(
      () => byExport(rx.on('/default'), 'routing-unresolved')[0],
      'the default alert',
    );
    const body = got.json as { message: string; details: { routingProblems: string[] } };
    expect(body.message).toContain('channel elsewhere');
    expect(body.message).toContain("${ROUTING_TEST_NOT_ON_WORKER} is not set in the worker's environment");
    expect(body.details.routingProblems).toHaveLength(1);
    expect(got.body).not.toContain('operator-only');
    expect(stack.logLines.join('')).toContain('alert channel could not be used');
  });

  it('holds the failure of a job whose trigger response was lost until its owner adopts it, so the owner alerts it on its channel with name and window', async () => {
    await stack.sandbox.admin.post('/config', { nextJobOutcome: 'FAILED' });
    await stack.sandbox.admin.post('/faults', { route: ADHOC_ROUTE, loseResponseAfterCommit: 1 });
    const windowStart = new Date(base + 20 * HOUR).toISOString();
    try {
      const done = backfill('routing-lost', 20, 1);
      // The job fails within a second of its creation; its trigger waits for the owner bound before it
      // adopts the job. Meanwhile the monitor sees the failure event and holds it.
      await heldEvents(1, 'the monitor to hold the unowned failure');
      await done;
    } finally {
      await stack.sandbox.admin.del('/faults');
      await stack.sandbox.admin.post('/config', { nextJobOutcome: 'SUCCEEDED' });
    }
    const owned = await waitFor(() => byExport(rx.on('/barhook'), 'routing-lost')[0], 'the owned alert');
    const body = owned.json as { kind: string; workflowId: string; window: { start: string } };
    expect(body).toMatchObject({
      kind: 'ExportJobFailed',
      exportName: 'routing-lost',
      workflowId: windowWorkflowId('operational', 'routing-lost', windowStart),
    });
    expect(Date.parse(body.window.start)).toBe(Date.parse(windowStart));
    const jobId = (owned.json as { jobId: string }).jobId;
    // The monitor's next polls find the job owned and already alerted: nothing unowned, nothing held.
    await heldEvents(0, 'the held failure to be settled');
    expect(rx.received.filter((r) => (r.json as { jobId?: string }).jobId === jobId)).toHaveLength(1);
    expect(rx.on('/default').filter((r) => (r.json as { jobId?: string }).jobId === jobId)).toEqual([]);
  });
});
