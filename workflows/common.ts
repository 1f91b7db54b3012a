// Shared by the export workflows: the `status` query, failure helpers and the streaming activities' options.
// Deterministic code only (runs inside the workflow sandbox).
import {
  type ActivityOptions,
  ActivityFailure,
  ApplicationFailure,
  defineQuery,
  isCancellation,
  TimeoutFailure,
} from '@temporalio/workflow';
import {
  describeFailure,
  FailureType,
  NON_RETRYABLE_FAILURE_TYPES,
  rootApplicationFailure,
  type FailureDescription,
} from '../src/contract/failures';

export { rootApplicationFailure };

/**
 * The heartbeat timeout of activities the worker wraps with `keptAlive` (activities/keep-alive.ts), which
 * heartbeat every 5 s while they run: a task lost with a dead worker or an unanswered poll is retried after
 * this instead of after its start-to-close timeout.
 */
export const KEPT_ALIVE_HEARTBEAT_TIMEOUT = '20 seconds';

/**
 * Options of the short kept-alive calls that report to people or other workflows (an alert, an incident's
 * success): a few quick attempts; the caller decides what a last failure means.
 */
export const NOTIFY_ACTIVITY_OPTIONS: ActivityOptions = {
  startToCloseTimeout: '1 minute',
  heartbeatTimeout: KEPT_ALIVE_HEARTBEAT_TIMEOUT,
  retry: { initialInterval: '2 seconds', maximumAttempts: 4 },
};

/** Options of the activities that stream a file into storage (a download, the bill CSV). */
export const STREAMING_ACTIVITY_OPTIONS: ActivityOptions = {
  // The attempt heartbeats every second, waiting or streaming (the SDK sends at most one per 80 % of this
  // timeout, or per its queue's throttle: downloads on the m3ter queue use M3TER_QUEUE_HEARTBEAT). 20 s
  // without one means no worker runs it (a dead worker, or a poll response the server recorded as started
  // that never reached one): retry elsewhere, resuming from the partial data. A stall with the worker alive
  // is the throughput floor's to catch (activities/download.ts).
  heartbeatTimeout: '20 seconds',
  startToCloseTimeout: '2 hours',
  retry: {
    initialInterval: '5 seconds',
    backoffCoefficient: 2,
    maximumInterval: '2 minutes',
    maximumAttempts: 10,
    nonRetryableErrorTypes: NON_RETRYABLE_FAILURE_TYPES,
  },
};

export type ExportPhase = 'triggering' | 'waiting' | 'downloading' | 'done' | 'failed';

export interface ExportStatus {
  phase: ExportPhase;
  jobId?: string;
  /** Last ExportJob status the workflow knows (PENDING after the trigger, then the terminal one). */
  jobStatus?: 'PENDING' | 'RUNNING' | 'SUCCEEDED' | 'FAILED';
  /** True when the job was found by the trigger's recovery (its POST response had been lost). */
  recovered?: boolean;
  /**
   * Polls made so far, as reported by finished wait activities. While a wait activity runs, its live
   * count is in the pending activity's heartbeat details (`describe()`), not in workflow state: reporting
   * it here would need a signal per poll, i.e. history growth proportional to the job's duration.
   */
  polls: number;
  /** Bytes stored so far (final once `phase` is 'done'; the live count is in the download's heartbeats). */
  bytesWritten: number;
  error?: FailureDescription;
}

export const statusQuery = defineQuery<ExportStatus>('status');

export function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

export function isScheduleToCloseTimeout(err: unknown): boolean {
  return (
    err instanceof ActivityFailure &&
    err.cause instanceof TimeoutFailure &&
    err.cause.timeoutType === 'SCHEDULE_TO_CLOSE'
  );
}

/**
 * Re-throws an activity's failure as the workflow's own failure with the same `type` and message (so
 * callers see `ExportRequestRejected`, not a generic ActivityFailure), recording it in the status.
 * Cancellation passes through untouched.
 */
export function failWith(
  status: ExportStatus,
  err: unknown,
  extraDetails: Record<string, unknown> = {},
): never {
  status.phase = 'failed';
  if (isCancellation(err)) {
    status.error = { type: FailureType.ExportCancelled, message: 'export cancelled' };
    throw err;
  }
  const root = rootApplicationFailure(err);
  const { type, message } = describeFailure(err);
  status.error = { type, message };
  throw workflowFailure(
    status,
    type,
    message,
    {
      ...extraDetails,
      ...(isObject(root?.details?.[0]) ? root.details[0] : {}),
    },
    err instanceof Error ? err : undefined,
  );
}

/** Fails the workflow with a taxonomy type, recording it in the status query first. */
export function workflowFailure(
  status: ExportStatus,
  type: FailureType,
  message: string,
  details?: Record<string, unknown>,
  cause?: Error,
): ApplicationFailure {
  status.phase = 'failed';
  status.error = { type, message };
  // A workflow's own failure is final whatever the type: re-running it is an operator's decision.
  return ApplicationFailure.create({
    type,
    message,
    nonRetryable: true,
    ...(details ? { details: [details] } : {}),
    cause,
  });
}
