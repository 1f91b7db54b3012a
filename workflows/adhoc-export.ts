// adhocExportWorkflow: validate -> trigger the export once -> wait for the ExportJob -> download the file
// to storage (or resolve its URL) -> manifest. On FAILED: alert, then fail with `ExportJobFailed`.
//
// History stays small whatever the job's duration (about 25 events for a successful export): the wait is a
// single heartbeating activity, and heartbeats and retries add no events.
import {
  isCancellation,
  log,
  patched,
  proxyActivities,
  setHandler,
  setWorkflowOptions,
  type ActivityOptions,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { versioned } from './versioning';
import type { ExportActivities } from '../activities/export-activities';
import type { IncidentActivities } from '../activities/incident-activities';
import type { WaitForExportJobResult } from '../activities/wait';
import type { Manifest } from '../src/storage/types';
import type { Alert } from '../src/alerts/webhook';
import { FailureType, NON_RETRYABLE_FAILURE_TYPES } from '../src/contract/failures';
import {
  failWith,
  isScheduleToCloseTimeout,
  KEPT_ALIVE_HEARTBEAT_TIMEOUT,
  NOTIFY_ACTIVITY_OPTIONS,
  rootApplicationFailure,
  statusQuery,
  STREAMING_ACTIVITY_OPTIONS,
  workflowFailure,
  type ExportStatus,
} from './common';
import {
  createAdhocExportInputSchema,
  DEFAULT_DEADLINE_MS,
  parseWorkflowInput,
  StorageMode,
  type AdhocExportInput,
} from '../src/contract/inputs';
import { M3terExportJobId, M3terExportKind } from '../src/contract/search-attributes';
import { M3TER_QUEUE_HEARTBEAT, m3terTaskQueue } from '../src/contract/task-queues';

export { statusQuery, type ExportPhase, type ExportStatus } from './common';
export type { AdhocExportInput, PollOptions } from '../src/contract/inputs';

export type AdhocExportResult =
  | { storage: 'local' | 's3'; jobId: string; recovered: boolean; polls: number; manifest: Manifest }
  | {
      storage: 'none';
      jobId: string;
      recovered: boolean;
      polls: number;
      sourceType: string;
      expirationTime?: string;
      /** The presigned URL WITHOUT its query string (the signature is a credential; never in history). */
      urlWithoutQuery: string;
    };

// Trigger: the activity is idempotent across its retries (it looks for an already committed job before
// every re-send; see activities/trigger.ts), so an ordinary bounded retry policy is safe. startToClose is
// far above one attempt's worst case (2 POSTs x 30 s client timeout + 2 recoveries, each waiting at most
// 36 s past a candidate's creation for its owner's claim): a slow attempt must never be timed out while
// still running, or its POST could race the next attempt's lookup.
// The trigger and the download URL call the m3ter Config API: they run on the m3ter task queue, whose
// server-side dispatch rate is the deployment's budget (src/m3ter/budget.ts). Proxies are built per run
// (beginRun), from the run's own task queue (workflowInfo() only exists inside a run).
// The attempt heartbeats while it runs (activities/keep-alive.ts), so the heartbeat timeout catches a task
// no worker is running (a lost poll response, a dead worker) in seconds, not 5 minutes.
const TRIGGER_OPTIONS: ActivityOptions = {
  startToCloseTimeout: '5 minutes',
  heartbeatTimeout: M3TER_QUEUE_HEARTBEAT.timeoutMs,
  retry: {
    initialInterval: '5 seconds',
    backoffCoefficient: 2,
    maximumInterval: '1 minute',
    maximumAttempts: 8,
    nonRetryableErrorTypes: NON_RETRYABLE_FAILURE_TYPES,
  },
};

const alerts = proxyActivities<ExportActivities>(NOTIFY_ACTIVITY_OPTIONS);

const incidents = proxyActivities<IncidentActivities>(NOTIFY_ACTIVITY_OPTIONS);

// Pinned: an export finishes on the build that started it (minutes; at most its deadline), so its code never
// changes under it and no patch is ever needed; the old build drains (docs/deploying.md#versioning-behaviours).
setWorkflowOptions(versioned('PINNED'), adhocExportWorkflow);

/** What every step of one run shares: its input, its status (the `status` query), and how it alerts. */
interface ExportRun {
  input: AdhocExportInput;
  status: ExportStatus;
  workflowId: string;
  kind: 'usage' | 'operational';
  window?: { start?: string; end?: string };
  alert(a: Omit<Alert, 'workflowId'>): Promise<void>;
  /** Activities on the m3ter queue, with the trigger's options. */
  trigger: ExportActivities;
  /** Activities on the m3ter queue, with the download's options. */
  download: ExportActivities;
}

interface TriggeredJob {
  jobId: string;
  recovered: boolean;
}

export async function adhocExportWorkflow(rawInput: AdhocExportInput): Promise<AdhocExportResult> {
  const run = beginRun(rawInput);
  const job = await triggerJob(run);
  const finished = await waitForTerminalJob(run, job);
  const result = await deliver(run, job, finished);
  if (patched('report-success-to-incident')) {
    if (result.storage !== 'none' && run.input.alerting?.onSuccess?.length) await announceLanded(run, result);
    if (run.input.name) await reportSuccess(run, run.input.name);
  }
  return result;
}

/** The landed event for the onSuccess channels, claimed once per job like an alert (src/alerts/landed.ts). */
async function announceLanded(run: ExportRun, result: Extract<AdhocExportResult, { manifest: Manifest }>) {
  const m = result.manifest;
  await run.alert({
    kind: 'ExportLanded',
    jobId: result.jobId,
    message: `export job ${result.jobId} landed: ${m.bytes} bytes`,
    ...(m.window ? { window: m.window } : {}),
    landed: {
      location: m.location ?? m.path,
      bytes: m.bytes,
      ...(m.rows !== undefined ? { rows: m.rows } : {}),
      sha256: m.sha256,
      ...(m.contentType ? { contentType: m.contentType } : {}),
      completedAt: m.completedAt,
    },
  });
}

/** Resolves the export's open incident, if any (workflows/export-incident.ts). */
async function reportSuccess(run: ExportRun, exportName: string): Promise<void> {
  try {
    await incidents.reportExportSucceeded({
      exportName,
      workflowId: run.workflowId,
      ...(run.window ? { window: run.window } : {}),
    });
  } catch (err) {
    // The export succeeded; its incident's resolution is worth a log line, not a failed export.
    log.warn('reporting the success to the incident failed', { error: (err as Error).message });
  }
}

/** Validates the input (failing the run with InvalidExportRequest) and sets up the run's shared parts. */
function beginRun(rawInput: AdhocExportInput): ExportRun {
  const status: ExportStatus = { phase: 'triggering', polls: 0, bytesWritten: 0 };
  setHandler(statusQuery, () => status);
  let input: AdhocExportInput;
  try {
    // Built here, not at module load, so that no cached run keeps a schema (src/contract/inputs.ts). Its clock
    // is read at parse time, inside the run, where Date.now() is workflow time.
    input = parseWorkflowInput(
      createAdhocExportInputSchema(() => Date.now()),
      rawInput,
    );
  } catch (err) {
    failWith(status, err);
  }
  const { workflowId, taskQueue } = workflowInfo();
  const request = input.request;
  const kind = request.sourceType === 'USAGE' ? 'usage' : 'operational';
  const window =
    request.sourceType === 'USAGE'
      ? { start: request.startDate, end: request.endDate }
      : request.startDate
        ? { start: request.startDate }
        : undefined;
  const m3terQueue = m3terTaskQueue(taskQueue);
  const trigger = proxyActivities<ExportActivities>({ ...TRIGGER_OPTIONS, taskQueue: m3terQueue });
  const download = proxyActivities<ExportActivities>({
    ...STREAMING_ACTIVITY_OPTIONS,
    heartbeatTimeout: M3TER_QUEUE_HEARTBEAT.timeoutMs,
    taskQueue: m3terQueue,
  });
  const alert = async (a: Omit<Alert, 'workflowId'>) => {
    try {
      // What the channels show and route by: the export's name (its definition's alert channels), kind, window.
      await alerts.sendAlert({
        ...a,
        workflowId,
        exportKind: kind,
        ...(input.name ? { exportName: input.name } : {}),
        ...(window ? { window } : {}),
        ...(input.alerting ? { routing: input.alerting } : {}),
      });
    } catch (err) {
      // The failure being reported matters more than its notification: log and carry on failing.
      log.warn('alert delivery failed', { kind: a.kind, error: (err as Error).message });
    }
  };
  return { input, status, workflowId, kind, window, alert, trigger, download };
}

/** Triggers the ExportJob exactly once (activities/trigger.ts) and records it as this run's job. */
async function triggerJob(run: ExportRun): Promise<TriggeredJob> {
  const { status } = run;
  let job: TriggeredJob;
  try {
    job = await run.trigger.triggerAdhocExport({ request: run.input.request, workflowId: run.workflowId });
  } catch (err) {
    const root = rootApplicationFailure(err);
    if (root?.type === FailureType.ExportTriggerAmbiguous) {
      await run.alert({ kind: FailureType.ExportTriggerAmbiguous, message: root.message });
    }
    failWith(status, err);
  }
  // The job id is ours from now on (the trigger activity claimed it: activities/claims.ts): in state
  // (status query) and, for operators and the failure monitor, as a search attribute.
  status.jobId = job.jobId;
  status.jobStatus = 'PENDING';
  status.recovered = job.recovered;
  upsertSearchAttributes([
    { key: M3terExportJobId, value: job.jobId },
    { key: M3terExportKind, value: run.kind },
  ]);
  return job;
}

/** Waits for SUCCEEDED (returned) or FAILED / the deadline (alerted, then the run fails). */
async function waitForTerminalJob(run: ExportRun, { jobId }: TriggeredJob): Promise<WaitForExportJobResult> {
  const { status, input } = run;
  status.phase = 'waiting';
  const deadlineMs = input.deadlineMs ?? DEFAULT_DEADLINE_MS;
  const poll = input.poll ?? {};
  const { waitForExportJob } = proxyActivities<ExportActivities>(waitOptions(poll, deadlineMs));
  let waited: WaitForExportJobResult;
  try {
    waited = await waitForExportJob({
      jobId,
      fastPollMs: poll.fastPollMs,
      fastPhaseMs: poll.fastPhaseMs,
      mediumMaxPollMs: poll.mediumMaxPollMs,
      inActivityPhaseMs: poll.inActivityPhaseMs,
    });
  } catch (err) {
    if (isScheduleToCloseTimeout(err)) {
      const message = `export job ${jobId} did not finish within the deadline of ${Math.round(deadlineMs / 1000)} s`;
      await run.alert({ kind: FailureType.ExportJobDeadlineExceeded, jobId, message });
      throw workflowFailure(status, FailureType.ExportJobDeadlineExceeded, message, { jobId });
    }
    failWith(status, err, { jobId });
  }
  status.polls = waited.polls;
  status.jobStatus = waited.status;
  if (waited.status === 'FAILED') {
    const message = `export job ${jobId} FAILED`;
    await run.alert({
      kind: FailureType.ExportJobFailed,
      jobId,
      message,
      details: {
        sourceType: waited.sourceType ?? input.request.sourceType,
        dateCreated: waited.dateCreated,
        startedAt: waited.startedAt,
      },
    });
    throw workflowFailure(status, FailureType.ExportJobFailed, message, { jobId });
  }
  return waited;
}

/**
 * The wait stays on the workflow's own queue, outside the m3ter budget queue: that queue's rate counts
 * activity starts, and a wait is one long start whose status reads go through the worker's batcher.
 * Counting the start would neither bound those reads nor reflect them, and would make triggers queue
 * behind waits. Unset `inActivityPhaseMs` (the default): one attempt polls for the job's whole life; set:
 * the tiered strategy, whose later attempts poll once each (activities/wait.ts).
 */
function waitOptions(poll: NonNullable<AdhocExportInput['poll']>, deadlineMs: number): ActivityOptions {
  const inActivityPhaseMs = poll.inActivityPhaseMs;
  return {
    // The wait heartbeats after every poll and at least every 5 s while its read is queued.
    heartbeatTimeout: KEPT_ALIVE_HEARTBEAT_TIMEOUT,
    // An attempt that polls for the job's whole life is bounded by the deadline alone.
    ...(inActivityPhaseMs === undefined ? {} : { startToCloseTimeout: inActivityPhaseMs + 60_000 }),
    scheduleToCloseTimeout: deadlineMs,
    retry: {
      // After a lost worker or a run of failed polls; in the tiered strategy also the slow poller. Fixed
      // interval, unlimited attempts, bounded by the deadline.
      initialInterval: poll.slowPollMs ?? (inActivityPhaseMs === undefined ? 10_000 : 60_000),
      backoffCoefficient: 1,
      // maximumAttempts omitted = unlimited (0 is rejected by the SDK's validation).
      nonRetryableErrorTypes: NON_RETRYABLE_FAILURE_TYPES,
    },
  };
}

/** Streams the file to storage with its manifest, or, for `storage: none`, resolves its URL's expiry. */
async function deliver(
  run: ExportRun,
  { jobId, recovered }: TriggeredJob,
  waited: WaitForExportJobResult,
): Promise<AdhocExportResult> {
  const { status, input } = run;
  status.phase = 'downloading';
  const sourceType = waited.sourceType ?? input.request.sourceType;
  const outcome = { jobId, recovered, polls: waited.polls };
  if (input.storage === StorageMode.none) {
    try {
      const url = await run.download.resolveDownloadUrl({ jobId });
      status.phase = 'done';
      return {
        storage: 'none',
        ...outcome,
        sourceType,
        expirationTime: url.expirationTime,
        urlWithoutQuery: url.urlWithoutQuery,
      };
    } catch (err) {
      failWith(status, err, { jobId });
    }
  }
  const storage = input.storage === StorageMode.s3 ? 's3' : 'local';
  let manifest: Manifest;
  try {
    manifest = await run.download.downloadExportFile({
      jobId,
      workflowId: run.workflowId,
      kind: run.kind,
      sourceType,
      window: run.window,
      request: input.request,
      job: { dateCreated: waited.dateCreated, startedAt: waited.startedAt },
      storage,
      name: input.name,
    });
  } catch (err) {
    if (!isCancellation(err)) {
      await run.alert({
        kind: FailureType.ExportDownloadFailed,
        jobId,
        message: `download of export job ${jobId} failed: ${rootApplicationFailure(err)?.type ?? 'error'}`,
      });
    }
    failWith(status, err, { jobId });
  }
  status.bytesWritten = manifest.bytes;
  status.phase = 'done';
  return { storage, ...outcome, manifest };
}
