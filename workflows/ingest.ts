// ingestWorkflow: one file of measurements into m3ter, exactly once, resumable. Started by `ingest` under
// an id derived from the file's content (src/contract/ingest.ts), so the same file twice is one ingest.
//
// - Plan: an activity lays out the next page of batches from a byte offset (offsets and counts, no rows).
//   The next page is planned while this one is sent.
// - Send: one activity per batch on the Ingest queue, whose server-side rate is the deployment's Ingest
//   budget; at most `concurrency` in flight. Each reads its rows back from the file and sends them; every
//   row has a uid (the file's or derived from the file and line), so a retried batch is ingested once.
// - Bounded history: after `continueAsNewAfterBatches` batches (or when the server suggests it) the run
//   drains its in-flight batches and continues as new from the next offset with the running totals.
// - Settle: after the last batch one activity waits the settle period, reads m3ter's
//   IngestValidationFailure events and joins them to the file's lines; its summary is the result.
import {
  condition,
  continueAsNew,
  proxyActivities,
  setHandler,
  setWorkflowOptions,
  workflowInfo,
} from '@temporalio/workflow';
import type { RetryPolicy } from '@temporalio/common';
import { KEPT_ALIVE_HEARTBEAT_TIMEOUT, NOTIFY_ACTIVITY_OPTIONS } from './common';
import { versioned } from './versioning';
import type { IngestActivities, IngestFileRef } from '../activities/ingest-activities';
import type { IngestTraceActivities } from '../activities/ingest-trace';
import type { ExportActivities } from '../activities/export-activities';
import type { PlannedBatch, BatchPlan } from '../src/ingest/slices';
import {
  createIngestInputSchema,
  DEFAULT_CONTINUE_AS_NEW_AFTER_BATCHES,
  DEFAULT_INGEST_CONCURRENCY,
  DEFAULT_MAX_LISTED_REJECTIONS,
  DEFAULT_PAGE_BATCHES,
  DEFAULT_SETTLE_MS,
  describeSource,
  IngestPhase,
  ingestProgressQuery,
  type IngestInput,
  type IngestProgress,
  type IngestRejections,
} from '../src/contract/ingest';
import type { AlertRouting } from '../src/contract/alert-routing';
import { describeFailure, failure, NON_RETRYABLE_FAILURE_TYPES } from '../src/contract/failures';
import { parseWorkflowInput } from '../src/contract/inputs';
import { m3terIngestTaskQueue } from '../src/contract/task-queues';

const RETRY: RetryPolicy = {
  maximumInterval: '30 seconds',
  nonRetryableErrorTypes: NON_RETRYABLE_FAILURE_TYPES,
};

const { sendAlert } = proxyActivities<ExportActivities>(NOTIFY_ACTIVITY_OPTIONS);

const { planIngestBatches } = proxyActivities<IngestActivities>({
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: KEPT_ALIVE_HEARTBEAT_TIMEOUT,
  retry: RETRY,
});

// Auto-upgrade: an ingest of a large file runs for a long while, continuing as new (see backfill.ts).
setWorkflowOptions(versioned('AUTO_UPGRADE'), ingestWorkflow);

export async function ingestWorkflow(rawInput: IngestInput): Promise<IngestProgress> {
  const input = parseWorkflowInput(createIngestInputSchema(), rawInput);
  const { taskQueue, startTime } = workflowInfo();
  const carried = input.carried;
  const concurrency = input.concurrency ?? DEFAULT_INGEST_CONCURRENCY;
  const pageBatches = input.pageBatches ?? DEFAULT_PAGE_BATCHES;
  const perRun = input.continueAsNewAfterBatches ?? DEFAULT_CONTINUE_AS_NEW_AFTER_BATCHES;
  const settleMs = input.settleMs ?? DEFAULT_SETTLE_MS;

  const progress: IngestProgress = {
    file: input.name,
    phase: IngestPhase.sending,
    rowsTotal: input.rows,
    rowsSent: carried?.rowsSent ?? 0,
    batchesSent: carried?.batchesSent ?? 0,
    requests: carried?.requests ?? 0,
    bytesSent: carried?.bytesSent ?? 0,
    offset: carried?.offset ?? input.dataOffset,
    sizeBytes: input.sizeBytes,
    ownUids: carried?.ownUids ?? 0,
    startedAt: carried?.startedAt ?? new Date(startTime).toISOString(),
    ...(carried?.firstSentAt ? { firstSentAt: carried.firstSentAt } : {}),
  };
  setHandler(ingestProgressQuery, () => progress);

  const file: IngestFileRef = {
    source: input.source,
    format: input.format,
    ...(input.header !== undefined ? { header: input.header } : {}),
    sha256: input.sha256,
    ...(input.salt ? { salt: input.salt } : {}),
    ...(input.batch ? { batch: input.batch } : {}),
  };
  const { sendIngestBatch } = proxyActivities<IngestActivities>({
    taskQueue: m3terIngestTaskQueue(taskQueue),
    startToCloseTimeout: '5 minutes',
    // The send heartbeats while it runs: a batch on a killed worker is retried after this, not after 5 min.
    heartbeatTimeout: '20 seconds',
    retry: RETRY,
  });

  // Batches in send order; the offset shown is the end of the longest finished prefix.
  const pending: Array<{ batch: PlannedBatch; done: boolean }> = [];
  let inFlight = 0;
  let failed: unknown;

  const sendOne = async (entry: { batch: PlannedBatch; done: boolean }) => {
    inFlight += 1;
    try {
      const r = await sendIngestBatch({ file, batch: entry.batch });
      entry.done = true;
      progress.rowsSent += entry.batch.rows;
      progress.batchesSent += 1;
      progress.requests += r.requests;
      progress.bytesSent += entry.batch.bytes;
      progress.ownUids += entry.batch.ownUids;
      progress.lastBatchAt = new Date().toISOString();
      while (pending.length > 0 && pending[0].done) progress.offset = pending.shift()!.batch.end;
    } catch (err) {
      failed ??= err;
    } finally {
      inFlight -= 1;
    }
  };

  const plan = (from: { offset: number; line: number }): Promise<BatchPlan> =>
    planIngestBatches({ file, offset: from.offset, line: from.line, maxBatches: pageBatches });

  let next: { offset: number; line: number } | undefined = {
    offset: carried?.offset ?? input.dataOffset,
    line: carried?.line ?? input.dataLine,
  };
  let planned = 0;
  let page: Promise<BatchPlan> | undefined = plan(next);
  while (page && failed === undefined) {
    const current: BatchPlan = await page;
    next = current.next;
    planned += current.batches.length;
    page = next && planned < perRun && !workflowInfo().continueAsNewSuggested ? plan(next) : undefined;
    for (const batch of current.batches) {
      await condition(() => inFlight < concurrency || failed !== undefined);
      if (failed !== undefined) break;
      progress.firstSentAt ??= new Date().toISOString();
      const entry = { batch, done: false };
      pending.push(entry);
      void sendOne(entry);
    }
  }
  await condition(() => inFlight === 0);
  if (failed !== undefined) {
    const f = describeFailure(failed);
    throw failure(f.type, f.message);
  }

  if (next) {
    await continueAsNew<typeof ingestWorkflow>({
      ...rawInput,
      carried: {
        offset: next.offset,
        line: next.line,
        rowsSent: progress.rowsSent,
        batchesSent: progress.batchesSent,
        requests: progress.requests,
        bytesSent: progress.bytesSent,
        ownUids: progress.ownUids,
        startedAt: progress.startedAt,
        ...(progress.firstSentAt ? { firstSentAt: progress.firstSentAt } : {}),
      },
    });
  }

  progress.phase = IngestPhase.settling;
  const lastBatchAt = progress.lastBatchAt ?? new Date().toISOString();
  const { traceIngestRejections } = proxyActivities<IngestTraceActivities>({
    startToCloseTimeout: settleMs + 30 * 60_000,
    heartbeatTimeout: '1 minute',
    retry: RETRY,
  });
  progress.rejections = await traceIngestRejections({
    file,
    dataOffset: input.dataOffset,
    dataLine: input.dataLine,
    rowsSent: progress.rowsSent,
    ownUids: progress.ownUids,
    firstSentAt: progress.firstSentAt ?? lastBatchAt,
    settleUntil: new Date(Date.parse(lastBatchAt) + settleMs).toISOString(),
    maxListed: input.maxListedRejections ?? DEFAULT_MAX_LISTED_REJECTIONS,
  });
  if (input.alerting && progress.rejections.rejected > 0)
    progress.alert = await alertRejections(
      describeSource(input.source),
      progress.rowsSent,
      progress.rejections,
      input.alerting,
    );
  progress.phase = IngestPhase.completed;
  return progress;
}

/** One alert per ingest (claimed by its run in the ledger): how many rows, of which types, the first lines. */
async function alertRejections(
  file: string,
  rowsSent: number,
  rejections: IngestRejections,
  routing: AlertRouting,
): Promise<'delivered' | 'not delivered'> {
  const { workflowId, runId } = workflowInfo();
  const types = Object.entries(rejections.byType)
    .map(([type, n]) => `${type} ${n}`)
    .join(', ');
  const firstRejected = rejections.firstRejected.slice(0, 5);
  const first = firstRejected.map((r) => `line ${r.line} ${r.type}: ${r.reason}`).join('; ');
  try {
    const r = await sendAlert({
      kind: 'IngestRejected',
      workflowId,
      runId,
      message:
        `m3ter rejected ${rejections.rejected} of ${rowsSent} rows of ${file} (${types}). ` +
        `First: ${first}.${rejections.reportFile ? ` Every rejected line: ${rejections.reportFile}` : ''}`,
      details: {
        file,
        rowsSent,
        rejected: rejections.rejected,
        byType: rejections.byType,
        firstRejected,
      },
      routing,
    });
    return r.delivered ? 'delivered' : 'not delivered';
  } catch {
    // The report is the ingest's result; its notification failing does not fail the ingest.
    return 'not delivered';
  }
}
