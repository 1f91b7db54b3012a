// "Claim once by workflow id": start a workflow under an id with id reuse REJECT_DUPLICATE and conflict
// policy FAIL. The Temporal server creates it at most once per id for as long as the namespace keeps the
// closed run (its retention), so of two callers exactly one wins: an atomic create-if-absent with no store
// of our own. Job claims (activities/claims.ts) and the alert ledger (src/alerts/ledger.ts) are both this.
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import { WorkflowIdConflictPolicy, WorkflowIdReusePolicy } from '@temporalio/common';

export interface StartOnceOptions {
  workflowType: string;
  workflowId: string;
  taskQueue: string;
  args: unknown[];
  memo?: Record<string, unknown>;
  /**
   * Whether a closed run that did not complete (failed, cancelled, terminated, timed out) frees the id for
   * a new run. Default false: the id is taken for good.
   */
  againAfterFailure?: boolean;
}

/** True when this call created the workflow (a run); false when the id was already taken (nothing started). */
export async function startOnce(client: Client, opts: StartOnceOptions): Promise<boolean> {
  try {
    await client.workflow.start(opts.workflowType, {
      workflowId: opts.workflowId,
      taskQueue: opts.taskQueue,
      args: opts.args,
      ...(opts.memo ? { memo: opts.memo } : {}),
      workflowIdReusePolicy: opts.againAfterFailure
        ? WorkflowIdReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY
        : WorkflowIdReusePolicy.REJECT_DUPLICATE,
      workflowIdConflictPolicy: WorkflowIdConflictPolicy.FAIL,
    });
    return true;
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) return false;
    throw err;
  }
}
