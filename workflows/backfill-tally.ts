// The backfill's bookkeeping: totals, the failed windows it lists, the planning cursor, and the progress
// the `progress` query and the summary show. Pure and synchronous, so it adds nothing to history; what
// must survive continue-as-new is `carry()`.
import type { PlannedWindow } from '../activities/backfill-plan';
import { FailureType, type FailureDescription } from '../src/contract/failures';
import {
  doneCount,
  emptyTotals,
  MAX_LISTED_FAILURES,
  type BackfillCarry,
  type BackfillInput,
  type BackfillProgress,
  type BackfillState,
  type FailedWindow,
  type Reprocess,
} from '../src/contract/backfill';
import { WindowOutcome, type WindowRunResult } from '../src/contract/window-run';

export function createBackfillTally(
  input: Pick<BackfillInput, 'definition' | 'from' | 'to'> & { carried?: unknown },
  opts: { reprocess: Reprocess; concurrency: number; startedAt: string },
) {
  const carried = input.carried as BackfillCarry | undefined;
  const totals = carried ? { ...carried.totals } : emptyTotals();
  const failedWindows: FailedWindow[] = carried ? [...carried.failedWindows] : [];
  const cancelledWindows: string[] = [];
  let failedUnlisted = carried?.failedUnlisted ?? 0;
  let ran = carried?.ran ?? 0;
  let total: number | undefined = carried?.total;
  const startedAt = carried?.startedAt ?? opts.startedAt;
  const run = (carried?.runs ?? 0) + 1;

  function listFailure(w: PlannedWindow, failure: FailureDescription) {
    totals.failed++;
    if (failedWindows.length < MAX_LISTED_FAILURES)
      failedWindows.push({ workflowId: w.workflowId, windowStart: w.window.start, ...failure });
    else failedUnlisted++;
  }

  const tally = {
    state: 'running' as BackfillState,
    /** The start of the last planned window: the next page starts after it. */
    cursor: carried?.cursor as string | undefined,

    planned(page: { total?: number; windows: PlannedWindow[] }) {
      if (total === undefined) total = page.total ?? page.windows.length;
      const last = page.windows[page.windows.length - 1];
      if (last) tally.cursor = last.window.start;
    },

    skipped() {
      totals.skipped++;
    },

    record(w: PlannedWindow, r: WindowRunResult) {
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
          listFailure(w, r.failure ?? { type: FailureType.UnexpectedError, message: 'failed' });
      }
    },

    failed(w: PlannedWindow, failure: FailureDescription) {
      ran++;
      listFailure(w, failure);
    },

    cancelled(w: PlannedWindow) {
      totals.cancelled++;
      cancelledWindows.push(w.workflowId);
    },

    carry(): BackfillCarry {
      return {
        cursor: tally.cursor!,
        total: total ?? 0,
        totals,
        failedWindows,
        failedUnlisted,
        ran,
        startedAt,
        runs: run,
      };
    },

    progress(inFlight: string[]): BackfillProgress {
      const now = Date.now();
      const done = doneCount(totals);
      const minutes = (now - Date.parse(startedAt)) / 60_000;
      const rate = minutes > 0 && ran > 0 ? ran / minutes : undefined;
      return {
        name: input.definition.name,
        from: input.from,
        to: input.to,
        reprocess: opts.reprocess,
        concurrency: opts.concurrency,
        state: tally.state,
        ...(total !== undefined ? { total } : {}),
        done,
        totals: { ...totals },
        inFlight,
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
    },
  };
  return tally;
}
