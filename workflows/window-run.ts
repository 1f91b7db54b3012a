// The one path that exports a window, shared by the scheduled-export and backfill workflows: start the
// export as a child under the window's id, or, when that id already has a run, use it: a successful run is
// not exported again, a running one is awaited. The id reuse policy makes Temporal the arbiter, so two
// parents racing for the same window can never start two exports.
import {
  isCancellation,
  ParentClosePolicy,
  proxyActivities,
  startChild,
  WorkflowIdReusePolicy,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { WindowRunActivities, RunOutcome } from '../activities/window-runs';
import type { WindowRunPlan } from '../activities/window-plan';
import { FailureType, isFailureType } from '../src/contract/failures';
import { adhocExportWorkflow } from './adhoc-export';
import { billsCsvExportWorkflow } from './bills-csv-export';
import { rootApplicationFailure } from './common';
import type { AdhocExportInput, BillsCsvExportInput } from '../src/contract/inputs';
import { M3terExportKind, M3terExportName, M3terWindowStart } from '../src/contract/search-attributes';
import { WindowOutcome, type WindowRunResult } from '../src/contract/window-run';
import { ALERT_ROUTING_MEMO } from '../src/contract/alert-routing';

export { WindowOutcome, type WindowRunResult };

const runs = proxyActivities<WindowRunActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { maximumInterval: '30 seconds' },
});
const awaiting = proxyActivities<WindowRunActivities>({
  // Waits as long as the export runs (its own deadline bounds it); heartbeats every poll.
  startToCloseTimeout: '26 hours',
  heartbeatTimeout: '1 minute',
  retry: { maximumInterval: '30 seconds' },
});

function childInput(plan: WindowRunPlan): AdhocExportInput | BillsCsvExportInput {
  if (plan.kind === 'bills')
    return {
      request: plan.request as BillsCsvExportInput['request'],
      // The definitions refuse `none` for bills; the child's own validation would too.
      storage: plan.storage as BillsCsvExportInput['storage'],
      name: plan.name,
    };
  return {
    request: plan.request as AdhocExportInput['request'],
    storage: plan.storage,
    name: plan.name,
    ...(plan.poll ? { poll: plan.poll } : {}),
    ...(plan.alerting ? { alerting: plan.alerting } : {}),
  };
}

function fromOutcome(plan: WindowRunPlan, o: RunOutcome, found: WindowOutcome): WindowRunResult {
  const base = { workflowId: plan.workflowId, windowStart: plan.windowStart };
  if (o.state === 'succeeded') return { ...base, outcome: found, result: o.result };
  return {
    ...base,
    outcome: WindowOutcome.failed,
    failure: o.failure ?? { type: FailureType.UnexpectedError, message: `run ended ${o.state}` },
  };
}

/**
 * Exports one window (or joins the export already under its id). The child is ABANDONed on parent close:
 * a backfill that continues as new, or a schedule run that is terminated, must not take in-flight exports
 * with it.
 */
export interface RunWindowOptions {
  /**
   * Export the window again even if its latest run succeeded (a backfill with `reprocess: all`). A running
   * export still owns the id and is awaited, never doubled.
   */
  rerunSucceeded?: boolean;
}

/**
 * Cancelling the caller's scope cancels the child it started (its ExportJob is left to m3ter) and rethrows
 * the cancellation, so the caller can tell a cancelled window from a failed one.
 */
export async function runWindow(plan: WindowRunPlan, opts: RunWindowOptions = {}): Promise<WindowRunResult> {
  const base = { workflowId: plan.workflowId, windowStart: plan.windowStart };
  const options = {
    workflowId: plan.workflowId,
    // A window whose latest run failed may run again; one that succeeded or is running may not (unless a
    // re-run of succeeded windows is asked for: then only a running one may not).
    workflowIdReusePolicy: opts.rerunSucceeded
      ? WorkflowIdReusePolicy.ALLOW_DUPLICATE
      : WorkflowIdReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
    parentClosePolicy: ParentClosePolicy.ABANDON,
    typedSearchAttributes: [
      { key: M3terExportKind, value: plan.kind },
      { key: M3terExportName, value: plan.name },
      { key: M3terWindowStart, value: new Date(plan.windowStart) },
    ],
    // The failure monitor routes a failure it notices first by the export's own channels.
    ...(plan.alerting ? { memo: { [ALERT_ROUTING_MEMO]: plan.alerting } } : {}),
  };
  let child;
  try {
    const input = childInput(plan);
    child =
      plan.kind === 'bills'
        ? await startChild(billsCsvExportWorkflow, { ...options, args: [input as BillsCsvExportInput] })
        : await startChild(adhocExportWorkflow, { ...options, args: [input as AdhocExportInput] });
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    // Someone else's run owns the id: succeeded (not exported again) or running (awaited).
    const seen = await runs.describeRun(plan.workflowId);
    if (seen.state === 'succeeded') return { ...base, outcome: WindowOutcome.alreadyExported };
    return fromOutcome(
      plan,
      await awaiting.awaitWorkflowRun({ workflowId: plan.workflowId }),
      WindowOutcome.awaited,
    );
  }
  try {
    return { ...base, outcome: WindowOutcome.exported, result: await child.result() };
  } catch (err) {
    if (isCancellation(err)) throw err;
    const root = rootApplicationFailure(err);
    return {
      ...base,
      outcome: WindowOutcome.failed,
      failure: {
        type: isFailureType(root?.type) ? root.type : FailureType.UnexpectedError,
        message: root?.message ?? (err as Error).message,
      },
    };
  }
}
