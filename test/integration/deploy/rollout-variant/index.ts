// Build B of the rollout test: today's workflows with a step added to two of them. The export's new step
// is NOT replay-compatible (its runs started on build A must stay there: pinned); the monitor's is guarded
// by patched(), as an auto-upgrade workflow's change must be, so runs started on A continue on B.
import { patched, setWorkflowOptions, sleep } from '@temporalio/workflow';
import { versioned } from '../../../../workflows/versioning';
import type { AdhocExportInput } from '../../../../src/contract/inputs';
import type { FailureMonitorInput } from '../../../../src/contract/monitor';
import {
  adhocExportWorkflow as adhocExportOnA,
  exportFailureMonitorWorkflow as monitorOnA,
} from '../../../../workflows';

export {
  alertDeliveryWorkflow,
  backfillWorkflow,
  billsCsvExportWorkflow,
  exportJobClaimWorkflow,
  scheduledExportWorkflow,
} from '../../../../workflows';

/** The step build B adds: a timer, which no history of build A has at that point. */
export const ADDED_STEP_MS = 5;

setWorkflowOptions(versioned('PINNED'), adhocExportWorkflow);
export async function adhocExportWorkflow(input: AdhocExportInput) {
  await sleep(ADDED_STEP_MS);
  return adhocExportOnA(input);
}

setWorkflowOptions(versioned('AUTO_UPGRADE'), exportFailureMonitorWorkflow);
export async function exportFailureMonitorWorkflow(input: FailureMonitorInput): Promise<never> {
  if (patched('rollout-test-added-step')) await sleep(ADDED_STEP_MS);
  return monitorOnA(input);
}
