// The paths the replay corpus covers: each scenario drives real workflows on a real worker against the
// sandbox (its admin API sets job outcomes, timings and faults) and captures the histories it produced.
// Add a scenario here when a workflow gains a path, then re-run `node bin/run-ts.js
// scripts/record-histories.ts` (docs/deploying.md#adding-a-replay-fixture).
import type { WorkflowHandle } from '@temporalio/client';
import type { SandboxProcess } from '../sandbox-process';
import { backfillProgressQuery } from '../../src/contract/backfill';
import { FAILURE_MONITOR_WORKFLOW_ID } from '../../src/contract/monitor';
import type { AdhocExportInput, BillsCsvExportInput } from '../../src/contract/inputs';
import type { WindowedExportDefinition } from '../../src/contract/window-run';
import { jobClaimWorkflowId } from '../../activities/claims';
import {
  EXPORT_INCIDENT_WORKFLOW,
  exportIncidentWorkflowId,
  incidentFailureSignal,
  incidentStateQuery,
  incidentSuccessSignal,
  type IncidentFailure,
} from '../../src/contract/incidents';
import { settle, type Recorder } from './recorder';
import fs from 'node:fs';
import path from 'node:path';
import { checkFile } from '../../src/ingest/check-file';
import { ingestInput } from '../../src/cli/ingest-command';

export interface ScenarioContext {
  rec: Recorder;
  sandbox: SandboxProcess;
  /** A folder for input files (ingest); its path is scrubbed from the histories. */
  dir: string;
}

export type Scenario = (ctx: ScenarioContext) => Promise<void>;

const DAY = 86_400_000;
const fastPoll = { fastPollMs: 200, slowPollMs: 1_000 };
const today = () => Math.floor(Date.now() / DAY) * DAY;
const usageRequest = (): AdhocExportInput['request'] => ({
  sourceType: 'USAGE',
  startDate: new Date(today() - 2 * DAY).toISOString(),
  endDate: new Date(today() + DAY).toISOString(),
});

let seq = 0;
const newId = (what: string) => `replay-${what}-${Date.now().toString(36)}-${seq++}`;

/** Polls until `fn` yields a value; errors count as not yet. */
export async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function start<T extends unknown[]>(rec: Recorder, type: string, args: T, id = newId(type)) {
  return rec.client.workflow.start(type, { taskQueue: rec.taskQueue, workflowId: id, args });
}

async function reset(sandbox: SandboxProcess, config: Record<string, unknown> = {}) {
  await sandbox.admin.del('/faults');
  await sandbox.admin.post('/config', {
    jobTiming: { pendingMs: 100, runningMs: 300 },
    nextJobOutcome: 'SUCCEEDED',
    ...config,
  });
}

async function captured(rec: Recorder, h: WorkflowHandle, name: string, covers: string) {
  await settle(h);
  await rec.capture(name, covers, h.workflowId);
}

const adhocSuccess: Scenario = async ({ rec, sandbox }) => {
  await reset(sandbox);
  const input: AdhocExportInput = { request: usageRequest(), poll: fastPoll, name: 'replay-usage' };
  const h = await start(rec, 'adhocExportWorkflow', [input]);
  const result = (await h.result()) as { jobId: string };
  await rec.capture(
    'success-local',
    'a usage export: trigger, wait, download to local storage',
    h.workflowId,
  );
  await rec.capture(
    'claimed',
    'the claim the trigger starts for the job it created',
    jobClaimWorkflowId(result.jobId),
  );
  const none: AdhocExportInput = {
    request: { sourceType: 'OPERATIONAL', operationalDataTypes: ['ACCOUNTS'] },
    storage: 'none',
    poll: fastPoll,
  };
  const h2 = await start(rec, 'adhocExportWorkflow', [none]);
  await captured(rec, h2, 'success-url-only', 'an operational export with storage none: the URL resolved');
};

const adhocFailures: Scenario = async ({ rec, sandbox }) => {
  await reset(sandbox, { nextJobOutcome: 'FAILED' });
  const failed = await start(rec, 'adhocExportWorkflow', [{ request: usageRequest(), poll: fastPoll }]);
  await captured(rec, failed, 'job-failed', 'the ExportJob ends FAILED: alert sent, ExportJobFailed');
  const alert = await until('the alert delivery', async () => {
    for await (const w of rec.client.workflow.list({ query: `WorkflowType = 'alertDeliveryWorkflow'` }))
      return w.workflowId;
  });
  await captured(
    rec,
    rec.client.workflow.getHandle(alert),
    'delivered',
    'the alert of a FAILED job delivered to the webhook channel',
  );

  await reset(sandbox);
  await sandbox.admin.post('/faults', {
    route: 'POST /organizations/:orgId/dataexports/adhoc',
    failNext: { count: 1, status: 400 },
  });
  const rejected = await start(rec, 'adhocExportWorkflow', [{ request: usageRequest(), poll: fastPoll }]);
  await captured(rec, rejected, 'trigger-rejected', 'm3ter rejects the trigger (400): the workflow fails');

  // Every m3ter route fails a third of the time (seeded dice): retries inside the client and of the
  // activities carry the export through.
  await reset(sandbox);
  await sandbox.admin.post('/faults', { route: '*', errorRate: 0.35, errorStatuses: [503, 429] });
  const flaky = await start(rec, 'adhocExportWorkflow', [{ request: usageRequest(), poll: fastPoll }]);
  await captured(
    rec,
    flaky,
    'faults-retried',
    'a third of m3ter calls fail with 503/429; retried to success',
  );
  await sandbox.admin.del('/faults');
};

const adhocCancelled: Scenario = async ({ rec, sandbox }) => {
  await reset(sandbox, { jobTiming: { pendingMs: 100, runningMs: 600_000 } });
  const h = await start(rec, 'adhocExportWorkflow', [{ request: usageRequest(), poll: fastPoll }]);
  await until('the export waiting on its job', async () => {
    const s = (await h.query('status')) as { phase: string };
    return s.phase === 'waiting' ? s : undefined;
  });
  await h.cancel();
  await captured(rec, h, 'cancelled', 'cancelled while waiting on its job: ExportCancelled');
};

const bills: Scenario = async ({ rec, sandbox }) => {
  await reset(sandbox);
  const input: BillsCsvExportInput = {
    request: {
      startDate: new Date(today() - 60 * DAY).toISOString(),
      endDate: new Date(today() + DAY).toISOString(),
      lineItemTypes: ['STANDING_CHARGE', 'USAGE'],
    },
  };
  const h = await start(rec, 'billsCsvExportWorkflow', [input]);
  await captured(rec, h, 'success', 'a bill line item CSV streamed to local storage');
  await sandbox.admin.post('/faults', { route: '*', failNext: { count: 1, status: 403 } });
  const denied = await start(rec, 'billsCsvExportWorkflow', [input]);
  await captured(rec, denied, 'access-denied', 'm3ter refuses the credentials: M3terAccessDenied');
  await sandbox.admin.del('/faults');
};

const definition = (name: string): WindowedExportDefinition => ({
  name,
  kind: 'usage',
  request: {},
  window: 'day',
  timezone: 'Europe/London',
  storage: 'local',
});

const scheduled: Scenario = async ({ rec, sandbox }) => {
  await reset(sandbox, { jobTiming: { pendingMs: 100, runningMs: 3_000 } });
  const input = {
    definition: definition(`replay-sched-${Date.now().toString(36)}`),
    definitionHash: 'replay',
    nominalTime: new Date(today() + 3_600_000).toISOString(),
    poll: fastPoll,
  };
  const first = await start(rec, 'scheduledExportWorkflow', [input]);
  // The window's export now runs under its window id: a second run for the same window awaits it.
  await until('the window export', async () => {
    for await (const w of rec.client.workflow.list({
      query: `WorkflowType = 'adhocExportWorkflow' AND ExecutionStatus = 'Running'`,
    }))
      return w;
  });
  const second = await start(rec, 'scheduledExportWorkflow', [input]);
  await captured(rec, first, 'window-exported', 'a scheduled run exports its window as a child export');
  await captured(rec, second, 'window-awaited', 'a run finds its window being exported and awaits it');
  const third = await start(rec, 'scheduledExportWorkflow', [input]);
  await captured(rec, third, 'window-already-exported', 'a run finds its window exported: nothing started');
};

const backfill: Scenario = async ({ rec, sandbox }) => {
  await reset(sandbox);
  const from = new Date(Date.UTC(2026, 0, 1)).toISOString();
  const to = new Date(Date.UTC(2026, 0, 4)).toISOString();
  const h = await start(rec, 'backfillWorkflow', [
    {
      definition: definition(`replay-bf-${Date.now().toString(36)}`),
      from,
      to,
      continueAsNewAfter: 2,
      poll: fastPoll,
    },
  ]);
  await h.result();
  const covers = 'a backfill of 3 windows, 2 per run:';
  await rec.capture(
    'continued-as-new',
    `${covers} the first run continues as new`,
    h.workflowId,
    h.firstExecutionRunId,
  );
  await rec.capture(
    'continued-run',
    `${covers} the second run completes with the carried totals`,
    h.workflowId,
  );

  await reset(sandbox, { jobTiming: { pendingMs: 100, runningMs: 600_000 } });
  const c = await start(rec, 'backfillWorkflow', [
    {
      definition: definition(`replay-bfc-${Date.now().toString(36)}`),
      from,
      to,
      concurrency: 2,
      poll: fastPoll,
    },
  ]);
  await until('two windows in flight', async () => {
    const p = await c.query(backfillProgressQuery);
    return p.inFlight.length >= 2 ? p : undefined;
  });
  await c.cancel();
  await captured(rec, c, 'cancelled', 'a backfill cancelled with two windows in flight');
};

const monitor: Scenario = async ({ rec, sandbox }) => {
  await reset(sandbox);
  // A failure event of a job no workflow owns: the monitor claims and sends its alert.
  await sandbox.admin.post('/events/job-failures', { scheduleId: 'replay-schedule' });
  const h = await start(
    rec,
    'exportFailureMonitorWorkflow',
    [{ intervalMs: 500, lookbackMs: 3_600_000, pollsPerRun: 3 }],
    FAILURE_MONITOR_WORKFLOW_ID,
  );
  const latest = await until('the monitor to continue as new', async () => {
    const d = await h.describe();
    return d.runId !== h.firstExecutionRunId ? d.runId : undefined;
  });
  await rec.client.workflow.getHandle(h.workflowId, latest).terminate('replay corpus recorded');
  await rec.capture(
    'continued-as-new',
    'three polls (one unowned failure event alerted), freshness checks, then continue-as-new',
    h.workflowId,
    h.firstExecutionRunId,
  );
};

const ingest: Scenario = async ({ rec, sandbox, dir }) => {
  await reset(sandbox, { ingestMeters: { 'api-calls': { required: ['measure.quantity'] } } });
  const rows = ['meter,account,ts,measure.quantity'];
  for (let i = 0; i < 30; i++)
    rows.push(`${i === 7 ? 'no-such-meter' : 'api-calls'},acct-001,2026-01-02T00:00:00Z,${i}`);
  const file = path.join(dir, 'replay-usage.csv');
  fs.writeFileSync(file, rows.join('\n') + '\n');
  const checked = await checkFile({ kind: 'local', path: file });
  if (!checked.file) throw new Error(`replay ingest file refused: ${JSON.stringify(checked.issues)}`);
  const input = {
    ...ingestInput(checked.file, { files: [], settleMs: 500 }),
    batch: { maxCount: 10 },
    pageBatches: 1,
    continueAsNewAfterBatches: 2,
  };
  const h = await start(rec, 'ingestWorkflow', [input]);
  await captured(rec, h, 'rejected-row', 'three batches over two runs (continue-as-new), one row rejected');
  await rec.capture(
    'first-run',
    'the first run of an ingest: plan, two batches, continue-as-new',
    h.workflowId,
    h.firstExecutionRunId,
  );
};

const incident: Scenario = async ({ rec }) => {
  // Two failures (opened, then one update after the interval), then a success resolves it.
  const workflowId = exportIncidentWorkflowId(newId('incident'));
  const failure = (n: number): IncidentFailure => ({
    key: `alert:replay-job-${n}`,
    kind: 'ExportJobFailed',
    message: `export job replay-job-${n} FAILED`,
    at: new Date().toISOString(),
    jobId: `replay-job-${n}`,
    exportName: 'replay-incident',
    workflowId: `export:usage:replay-incident:window-${n}`,
  });
  const signalFailure = (n: number) =>
    rec.client.workflow.signalWithStart(EXPORT_INCIDENT_WORKFLOW, {
      workflowId,
      taskQueue: rec.taskQueue,
      args: [
        {
          subject: 'export replay-incident',
          settings: { updateIntervalMs: 500, digestIntervalMs: 86_400_000 },
        },
      ],
      signal: incidentFailureSignal,
      signalArgs: [failure(n)],
    });
  const h = await signalFailure(1);
  await until('the incident to open', async () =>
    (await h.query(incidentStateQuery))?.failures === 1 ? true : undefined,
  );
  await signalFailure(2);
  await until('an update', async () =>
    (await h.query(incidentStateQuery))?.updatesSent === 1 ? true : undefined,
  );
  await h.signal(incidentSuccessSignal, {
    workflowId: 'export:usage:replay-incident:window-3',
    at: new Date().toISOString(),
  });
  await captured(rec, h, 'resolved', 'an incident opened, updated once, then resolved by a success');
};

export const SCENARIOS: Record<string, Scenario> = {
  incident,
  adhocSuccess,
  adhocFailures,
  adhocCancelled,
  bills,
  scheduled,
  backfill,
  monitor,
  ingest,
};
