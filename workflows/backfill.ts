// backfillWorkflow: exports every window of a range, window by window, through the same child path the
// schedule uses (runWindow), so a window is never exported twice at once whoever else is exporting it.
//
// - Plan: one activity per page of windows (the window arithmetic and the visibility lookup are I/O or
//   Intl, never workflow code); each window comes with its latest run's state and the action to take.
// - Run: a sliding window of at most `concurrency` runWindow calls, started in window order.
// - Bounded history: after `continueAsNewAfter` windows (or when the server suggests it) the run drains
//   its in-flight windows and continues as new with a cursor and the running totals. Children are
//   ABANDONed on parent close anyway; draining first keeps the totals exact and the cursor simple (every
//   window before it is finished).
// - Cancel: cancelling the backfill cancels the in-flight children (their ExportJobs stay with m3ter), waits
//   for them to settle, records which windows were cancelled, and ends the backfill as cancelled.
import {
  CancellationScope,
  condition,
  continueAsNew,
  isCancellation,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { BackfillPlanActivities, PlannedWindow } from '../activities/backfill-plan';
import { FailureType, isFailureType } from '../src/contract/failures';
import {
  backfillProgressQuery,
  createBackfillInputSchema,
  DEFAULT_BACKFILL_CONCURRENCY,
  DEFAULT_CONTINUE_AS_NEW_AFTER,
  DEFAULT_PAGE_SIZE,
  doneCount,
  emptyTotals,
  MAX_LISTED_FAILURES,
  Reprocess,
  type BackfillCarry,
  type BackfillInput,
  type BackfillProgress,
  type BackfillState,
  type BackfillSummary,
  type FailedWindow,
} from '../src/contract/backfill';
import { parseWorkflowInput } from '../src/contract/inputs';
import { runWindow, WindowOutcome } from './window-run';

const { planBackfillPage } = proxyActivities<BackfillPlanActivities>({
  startToCloseTimeout: '2 minutes',
  retry: { maximumInterval: '30 seconds', nonRetryableErrorTypes: [FailureType.InvalidExportRequest] },
});

export async function backfillWorkflow(rawInput: BackfillInput): Promise<BackfillSummary> {
  const input = parseWorkflowInput(createBackfillInputSchema(), rawInput);
  const { definition } = input;
  const concurrency = input.concurrency ?? DEFAULT_BACKFILL_CONCURRENCY;
  const reprocess = input.reprocess ?? Reprocess.failed;
  const perRun = input.continueAsNewAfter ?? DEFAULT_CONTINUE_AS_NEW_AFTER;
  const pageSize = input.pageSize ?? DEFAULT_PAGE_SIZE;
  const carried = input.carried as BackfillCarry | undefined;

  const totals = carried ? { ...carried.totals } : emptyTotals();
  const failedWindows: FailedWindow[] = carried ? [...carried.failedWindows] : [];
  let failedUnlisted = carried?.failedUnlisted ?? 0;
  let ran = carried?.ran ?? 0;
  let total: number | undefined = carried?.total;
  const startedAt = carried?.startedAt ?? new Date(workflowInfo().startTime).toISOString();
  const run = (carried?.runs ?? 0) + 1;
  let cursor: string | undefined = carried?.cursor;
  let state: BackfillState = 'running';
  const inFlight = new Map<string, Promise<void>>();
  const cancelledWindows: string[] = [];

  function progress(): BackfillProgress {
    const now = Date.now();
    const done = doneCount(totals);
    const minutes = (now - Date.parse(startedAt)) / 60_000;
    const rate = minutes > 0 && ran > 0 ? ran / minutes : undefined;
    return {
      name: definition.name,
      from: input.from,
      to: input.to,
      reprocess,
      concurrency,
      state,
      ...(total !== undefined ? { total } : {}),
      done,
      totals: { ...totals },
      inFlight: [...inFlight.keys()],
      ...(rate !== undefined ? { ratePerMinute: Math.round(rate * 100) / 100 } : {}),
      ...(rate !== undefined && total !== undefined
        ? { etaSeconds: Math.round(((total - done) / rate) * 60) }
        : {}),
      startedAt,
      asOf: new Date(now).toISOString(),
      run,
      failedWindows: [...failedWindows],
      failedUnlisted,
      cancelledWindows: [...cancelledWindows],
    };
  }
  setHandler(backfillProgressQuery, progress);

  function recordFailure(workflowId: string, windowStart: string, type: FailureType, message: string) {
    totals.failed++;
    if (failedWindows.length < MAX_LISTED_FAILURES)
      failedWindows.push({ workflowId, windowStart, type, message });
    else failedUnlisted++;
  }

  async function exportWindow(w: PlannedWindow): Promise<void> {
    try {
      if (!w.plan) throw new Error(`window ${w.window.start} has no plan`);
      const r = await runWindow(w.plan, { rerunSucceeded: reprocess === Reprocess.all });
      switch (r.outcome) {
        case WindowOutcome.exported:
          totals.succeeded++;
          ran++;
          break;
        case WindowOutcome.awaited:
          totals.awaited++;
          ran++;
          break;
        case WindowOutcome.alreadyExported:
          // The plan was older than another exporter's success: nothing was started.
          totals.skipped++;
          break;
        default:
          ran++;
          recordFailure(
            w.workflowId,
            w.window.start,
            r.failure?.type ?? FailureType.UnexpectedError,
            r.failure?.message ?? 'failed',
          );
      }
    } catch (err) {
      if (isCancellation(err)) {
        totals.cancelled++;
        cancelledWindows.push(w.workflowId);
        return;
      }
      ran++;
      const e = err as { type?: unknown; message?: string };
      recordFailure(
        w.workflowId,
        w.window.start,
        isFailureType(e.type) ? e.type : FailureType.UnexpectedError,
        e.message ?? String(err),
      );
    }
  }

  let handled = 0;
  let exhausted = false;
  try {
    while (!exhausted && handled < perRun && (handled === 0 || !workflowInfo().continueAsNewSuggested)) {
      const page = await planBackfillPage({
        definition,
        from: input.from,
        to: input.to,
        reprocess,
        newestFirst: input.newestFirst ?? false,
        ...(cursor !== undefined ? { after: cursor } : {}),
        limit: Math.min(pageSize, perRun - handled),
        ...(input.poll ? { poll: input.poll } : {}),
      });
      if (total === undefined) total = page.total ?? page.windows.length;
      for (const w of page.windows) {
        if (w.action === 'skip') {
          totals.skipped++;
          continue;
        }
        await condition(() => inFlight.size < concurrency);
        const p = exportWindow(w).finally(() => inFlight.delete(w.workflowId));
        inFlight.set(w.workflowId, p);
      }
      handled += page.windows.length;
      const last = page.windows[page.windows.length - 1];
      if (last) cursor = last.window.start;
      exhausted = page.next === undefined;
    }
    await condition(() => inFlight.size === 0);
  } catch (err) {
    if (!isCancellation(err)) throw err;
    // The scope's cancellation reaches every child started in it; wait until they have all settled so
    // the list of cancelled windows is complete.
    await CancellationScope.nonCancellable(() => Promise.all(inFlight.values()));
    state = 'cancelled';
    throw err;
  }

  if (!exhausted && cursor !== undefined) {
    const next: BackfillCarry = {
      cursor,
      total: total ?? 0,
      totals,
      failedWindows,
      failedUnlisted,
      ran,
      startedAt,
      runs: run,
    };
    await continueAsNew<typeof backfillWorkflow>({ ...rawInput, carried: next });
  }
  state = 'completed';
  return progress();
}
