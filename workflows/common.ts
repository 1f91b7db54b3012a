// Shared by the export workflows: the `status` query, failure helpers and input checks.
// Deterministic code only (runs inside the workflow sandbox).
import {
  ActivityFailure,
  ApplicationFailure,
  defineQuery,
  isCancellation,
  TimeoutFailure,
} from '@temporalio/workflow';

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
  error?: { type?: string; message: string };
}

export const statusQuery = defineQuery<ExportStatus>('status');

export const INVALID_EXPORT_REQUEST = 'InvalidExportRequest';

export function invalid(field: string, rule: string): ApplicationFailure {
  return ApplicationFailure.create({
    type: INVALID_EXPORT_REQUEST,
    nonRetryable: true,
    message: `${field}: ${rule}`,
  });
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

export function checkDateTime(
  obj: Record<string, unknown>,
  field: string,
  prefix: string,
  required: boolean,
): number | undefined {
  const v = obj[field];
  if (v === undefined) {
    if (required) throw invalid(`${prefix}${field}`, 'is required');
    return undefined;
  }
  if (typeof v !== 'string' || !/^\d{4}-\d{2}-\d{2}T/.test(v) || Number.isNaN(Date.parse(v))) {
    throw invalid(`${prefix}${field}`, 'must be an ISO 8601 date-time (e.g. 2025-05-20T00:00:00Z)');
  }
  return Date.parse(v);
}

export function checkNonEmptyStringArray(obj: Record<string, unknown>, field: string, prefix: string): void {
  const v = obj[field];
  if (!Array.isArray(v) || v.length === 0) throw invalid(`${prefix}${field}`, 'must contain at least 1 item');
  v.forEach((item, i) => {
    if (typeof item !== 'string' || item.length === 0)
      throw invalid(`${prefix}${field}[${i}]`, 'must be a non-empty string');
  });
}

/** The ApplicationFailure at the root of an activity failure, if any. */
export function rootApplicationFailure(err: unknown): ApplicationFailure | undefined {
  let e: unknown = err;
  for (let i = 0; i < 5 && e; i++) {
    if (e instanceof ApplicationFailure) return e;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
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
    status.error = { type: 'Cancelled', message: 'export cancelled' };
    throw err;
  }
  const root = rootApplicationFailure(err);
  const type = root?.type ?? (err instanceof Error ? err.name : 'Error');
  const message = root?.message ?? (err instanceof Error ? err.message : String(err));
  status.error = { type, message };
  throw ApplicationFailure.create({
    type,
    message,
    nonRetryable: true,
    details: [{ ...extraDetails, ...(isObject(root?.details?.[0]) ? root.details[0] : {}) }],
    cause: err instanceof Error ? err : undefined,
  });
}
