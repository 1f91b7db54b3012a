// Reads and awaits other workflow runs through Temporal's client: a window's export may already be running
// under its id (started by the schedule, a backfill, or an earlier run of a backfill that continued as new,
// whose children are no longer its own). Waiting is a heartbeating activity so it survives worker restarts
// and adds no history while it waits.
import { heartbeat, sleep } from '@temporalio/activity';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { describeFailure, FailureType, failure, type FailureDescription } from '../src/contract/failures';

/** The state of the latest run of a workflow id, as a backfill plans and a re-run checks it. */
export const RunState = {
  missing: 'missing',
  running: 'running',
  succeeded: 'succeeded',
  failed: 'failed',
} as const;
export type RunState = (typeof RunState)[keyof typeof RunState];

export interface RunOutcome {
  workflowId: string;
  runId?: string;
  state: RunState;
  failure?: FailureDescription;
  /** The workflow's result when it succeeded. */
  result?: unknown;
}

export function runStateOf(statusName: string | undefined): RunState {
  switch (statusName) {
    case undefined:
      return RunState.missing;
    case 'RUNNING':
      return RunState.running;
    case 'COMPLETED':
      return RunState.succeeded;
    case 'CONTINUED_AS_NEW':
      return RunState.running;
    default:
      return RunState.failed; // FAILED, TIMED_OUT, TERMINATED, CANCELLED
  }
}

export interface WindowRunActivityDeps {
  client: Client;
  /** Pause between checks of a running workflow. Default 5 s. */
  pollMs?: number;
}

export function createWindowRunActivities(deps: WindowRunActivityDeps) {
  const pollMs = deps.pollMs ?? 5_000;

  async function describeRun(workflowId: string): Promise<RunOutcome> {
    try {
      const d = await deps.client.workflow.getHandle(workflowId).describe();
      return { workflowId, runId: d.runId, state: runStateOf(d.status.name) };
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return { workflowId, state: RunState.missing };
      throw err;
    }
  }

  /** Waits until the latest run of `workflowId` closes; its outcome with result or failure. */
  async function awaitWorkflowRun(input: { workflowId: string }): Promise<RunOutcome> {
    const handle = deps.client.workflow.getHandle(input.workflowId);
    for (;;) {
      const now = await describeRun(input.workflowId);
      if (now.state === RunState.missing) {
        throw failure(FailureType.UnexpectedError, `workflow ${input.workflowId} does not exist`);
      }
      if (now.state !== RunState.running) {
        try {
          return { ...now, state: RunState.succeeded, result: await handle.result() };
        } catch (err) {
          return { ...now, state: RunState.failed, failure: describeFailure(err) };
        }
      }
      heartbeat({ runId: now.runId });
      await sleep(pollMs);
    }
  }

  return { describeRun, awaitWorkflowRun };
}

export type WindowRunActivities = ReturnType<typeof createWindowRunActivities>;
