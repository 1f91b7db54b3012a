// scheduledExportWorkflow: started by a Temporal Schedule (`schedules apply`). Exports exactly the window
// its NOMINAL time stands for, so a late, caught-up or re-run action exports the same data as an on-time
// one: the nominal time is the `TemporalScheduledStartTime` search attribute the server sets on every
// scheduled start (for "trigger now" it is the trigger instant), never the wall clock.
import { ApplicationFailure, proxyLocalActivities, workflowInfo } from '@temporalio/workflow';
import type { WindowPlanActivities, WindowedExportDefinition } from '../activities/window-plan';
import { failure, FailureType } from '../src/failures';
import type { PollOptions } from './inputs';
import { TemporalScheduledStartTime } from './search-attributes';
import { runWindow, WindowOutcome, type WindowRunResult } from './window-run';

export interface ScheduledExportInput {
  definition: WindowedExportDefinition;
  /** Hash of the whole definition (schedule included) when the schedule was applied; shown by `describe`. */
  definitionHash: string;
  /** Only when started without a schedule (tests, manual runs): the nominal time to export for. */
  nominalTime?: string;
  poll?: PollOptions;
}

export interface ScheduledExportResult extends WindowRunResult {
  nominalTime: string;
  window?: { start: string; end: string };
}

// Local: the plan is pure computation, recorded once in history, so replay never redoes the time-zone
// arithmetic (see activities/window-plan.ts).
const { planWindowRun } = proxyLocalActivities<WindowPlanActivities>({
  startToCloseTimeout: '10 seconds',
  retry: { maximumAttempts: 3 },
});

export async function scheduledExportWorkflow(input: ScheduledExportInput): Promise<ScheduledExportResult> {
  const scheduled = workflowInfo().typedSearchAttributes.get(TemporalScheduledStartTime);
  const nominalTime = scheduled?.toISOString() ?? input.nominalTime;
  if (!nominalTime) {
    throw failure(
      FailureType.InvalidExportRequest,
      'no nominal time: scheduledExportWorkflow is started by a schedule, or with input.nominalTime',
    );
  }
  const plan = await planWindowRun({ definition: input.definition, nominalTime, poll: input.poll });
  const result = await runWindow(plan);
  if (result.outcome === WindowOutcome.failed) {
    // The schedule's "last result" shows the window's failure, with its type.
    throw ApplicationFailure.create({
      type: result.failure?.type ?? FailureType.UnexpectedError,
      message: `window ${plan.windowStart} of ${plan.name}: ${result.failure?.message ?? 'failed'}`,
      nonRetryable: true,
      details: [{ workflowId: plan.workflowId }],
    });
  }
  return { ...result, nominalTime, ...(plan.window ? { window: plan.window } : {}) };
}
