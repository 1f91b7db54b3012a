// Starting the failure monitor: the worker at start (unless MONITOR=off) and `monitor start` both call
// this. The fixed id and conflict policy USE_EXISTING make it one per namespace: a second start attaches.
import { WorkflowIdConflictPolicy, WorkflowIdReusePolicy } from '@temporalio/common';
import type { Client } from '@temporalio/client';
import {
  FAILURE_MONITOR_WORKFLOW_ID,
  monitorStatusQuery,
  type FailureMonitorInput,
  type FailureMonitorStatus,
} from '../contract/monitor';

export { FAILURE_MONITOR_WORKFLOW_ID };

export interface EnsureMonitorResult {
  workflowId: string;
  runId: string;
  /** False when a running monitor was found and attached to. */
  started: boolean;
}

export async function ensureFailureMonitor(
  client: Client,
  taskQueue: string,
  input: FailureMonitorInput,
  workflowId = FAILURE_MONITOR_WORKFLOW_ID,
): Promise<EnsureMonitorResult> {
  try {
    const d = await client.workflow.getHandle(workflowId).describe();
    if (d.status.name === 'RUNNING') return { workflowId, runId: d.runId, started: false };
  } catch {
    /* none yet: start it */
  }
  const handle = await client.workflow.start('exportFailureMonitorWorkflow', {
    workflowId,
    taskQueue,
    args: [input],
    workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
    // A monitor that was terminated or failed may be started again.
    workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
  });
  // Between the describe and the start another process may have started it; USE_EXISTING attaches then.
  return { workflowId, runId: handle.firstExecutionRunId, started: true };
}

export async function failureMonitorStatus(
  client: Client,
  workflowId = FAILURE_MONITOR_WORKFLOW_ID,
): Promise<{ status: FailureMonitorStatus; runId: string; state: string }> {
  const handle = client.workflow.getHandle(workflowId);
  const d = await handle.describe();
  const status = await handle.query(monitorStatusQuery);
  return { status, runId: d.runId, state: d.status.name };
}
