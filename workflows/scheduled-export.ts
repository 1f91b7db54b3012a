// scheduledExportWorkflow: started by a Temporal Schedule (`schedules apply`). Exports exactly the window
// its NOMINAL time stands for, so a late, caught-up or re-run action exports the same data as an on-time
// one: the nominal time is the `TemporalScheduledStartTime` search attribute the server sets on every
// scheduled start (for "trigger now" it is the trigger instant), never the wall clock.
import {
  ApplicationFailure,
  log,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setWorkflowOptions,
  workflowInfo,
} from '@temporalio/workflow';
import { KEPT_ALIVE_HEARTBEAT_TIMEOUT } from './common';
import { versioned } from './versioning';
import type { WindowPlanActivities } from '../activities/window-plan';
import type { AutoPauseActivities } from '../activities/auto-pause';
import { failure, FailureType } from '../src/contract/failures';
import { TemporalScheduledStartTime } from '../src/contract/search-attributes';
import { runWindow } from './window-run';
import {
  WindowOutcome,
  type ScheduledExportInput,
  type ScheduledExportResult,
} from '../src/contract/window-run';

export type { ScheduledExportInput, ScheduledExportResult };

// Local: the plan is pure computation, recorded once in history, so replay never redoes the time-zone
// arithmetic (see activities/window-plan.ts).
const { planWindowRun } = proxyLocalActivities<WindowPlanActivities>({
  startToCloseTimeout: '10 seconds',
  retry: { maximumAttempts: 3 },
});

const { checkAutoPause } = proxyActivities<AutoPauseActivities>({
  startToCloseTimeout: '1 minute',
  heartbeatTimeout: KEPT_ALIVE_HEARTBEAT_TIMEOUT,
  retry: { initialInterval: '2 seconds', maximumAttempts: 4 },
});

// Auto-upgrade: a window run may await another run's export for as long as that export lives; pinning it would
// keep an old build alive for it. Its code moves to the current build at its next task, so a change to it
// must replay its recorded histories or be guarded by patched() (docs/deploying.md#versioning-behaviours).
setWorkflowOptions(versioned('AUTO_UPGRADE'), scheduledExportWorkflow);

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
  const rule = input.definition.pauseAfter;
  if (result.outcome === WindowOutcome.failed && rule && patched('auto-pause')) {
    try {
      await checkAutoPause({
        exportName: plan.name,
        rule,
        failedWorkflowId: plan.workflowId,
        failedWindowStart: plan.windowStart,
        ...(input.definition.alerting ? { routing: input.definition.alerting } : {}),
      });
    } catch (err) {
      // The window's failure is what this run reports; the check runs again at the next failure.
      log.warn('auto-pause check failed', { error: (err as Error).message });
    }
  }
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
