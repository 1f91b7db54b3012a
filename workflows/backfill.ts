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
  setWorkflowOptions,
  workflowInfo,
} from '@temporalio/workflow';
import { KEPT_ALIVE_HEARTBEAT_TIMEOUT } from './common';
import { versioned } from './versioning';
import type { BackfillPlanActivities, PlannedWindow } from '../activities/backfill-plan';
import { describeFailure, FailureType } from '../src/contract/failures';
import {
  backfillProgressQuery,
  createBackfillInputSchema,
  DEFAULT_BACKFILL_CONCURRENCY,
  DEFAULT_CONTINUE_AS_NEW_AFTER,
  DEFAULT_PAGE_SIZE,
  Reprocess,
  type BackfillInput,
  type BackfillSummary,
} from '../src/contract/backfill';
import { parseWorkflowInput } from '../src/contract/inputs';
import { createBackfillTally } from './backfill-tally';
import { runWindow } from './window-run';

const { planBackfillPage } = proxyActivities<BackfillPlanActivities>({
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout: KEPT_ALIVE_HEARTBEAT_TIMEOUT,
  retry: { maximumInterval: '30 seconds', nonRetryableErrorTypes: [FailureType.InvalidExportRequest] },
});

// Auto-upgrade: a backfill runs for hours, continuing as new; pinning it would keep an old build alive until
// it ends. Its code moves to the current build at its next task (and at continue-as-new), so a change to it
// must replay its recorded histories or be guarded by patched() (docs/deploying.md#versioning-behaviours).
setWorkflowOptions(versioned('AUTO_UPGRADE'), backfillWorkflow);

export async function backfillWorkflow(rawInput: BackfillInput): Promise<BackfillSummary> {
  const input = parseWorkflowInput(createBackfillInputSchema(), rawInput);
  const concurrency = input.concurrency ?? DEFAULT_BACKFILL_CONCURRENCY;
  const reprocess = input.reprocess ?? Reprocess.failed;
  const perRun = input.continueAsNewAfter ?? DEFAULT_CONTINUE_AS_NEW_AFTER;
  const pageSize = input.pageSize ?? DEFAULT_PAGE_SIZE;
  const tally = createBackfillTally(input, {
    reprocess,
    concurrency,
    startedAt: new Date(workflowInfo().startTime).toISOString(),
  });
  const inFlight = new Map<string, Promise<void>>();
  setHandler(backfillProgressQuery, () => tally.progress([...inFlight.keys()]));

  async function exportWindow(w: PlannedWindow): Promise<void> {
    try {
      if (!w.plan) throw new Error(`window ${w.window.start} has no plan`);
      tally.record(w, await runWindow(w.plan, { rerunSucceeded: reprocess === Reprocess.all }));
    } catch (err) {
      if (isCancellation(err)) tally.cancelled(w);
      else tally.failed(w, describeFailure(err));
    }
  }

  let handled = 0;
  let exhausted = false;
  try {
    while (!exhausted && handled < perRun && (handled === 0 || !workflowInfo().continueAsNewSuggested)) {
      const page = await planBackfillPage({
        definition: input.definition,
        from: input.from,
        to: input.to,
        reprocess,
        newestFirst: input.newestFirst ?? false,
        ...(tally.cursor !== undefined ? { after: tally.cursor } : {}),
        limit: Math.min(pageSize, perRun - handled),
        ...(input.poll ? { poll: input.poll } : {}),
      });
      tally.planned(page);
      for (const w of page.windows) {
        if (w.action === 'skip') {
          tally.skipped();
          continue;
        }
        await condition(() => inFlight.size < concurrency);
        const p = exportWindow(w).finally(() => inFlight.delete(w.workflowId));
        inFlight.set(w.workflowId, p);
      }
      handled += page.windows.length;
      exhausted = page.next === undefined;
    }
    await condition(() => inFlight.size === 0);
  } catch (err) {
    if (!isCancellation(err)) throw err;
    // The scope's cancellation reaches every child started in it; wait until they have all settled so
    // the list of cancelled windows is complete.
    await CancellationScope.nonCancellable(() => Promise.all(inFlight.values()));
    tally.state = 'cancelled';
    throw err;
  }

  if (!exhausted && tally.cursor !== undefined) {
    await continueAsNew<typeof backfillWorkflow>({ ...rawInput, carried: tally.carry() });
  }
  tally.state = 'completed';
  return tally.progress([]);
}
