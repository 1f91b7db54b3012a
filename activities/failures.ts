// Turns whatever an activity caught into an ApplicationFailure with a stable `type`, the right
// `nonRetryable` flag and `nextRetryDelay` from Retry-After. Messages are redacted: activity failures are
// stored in workflow history, which must never hold a secret, a token or a presigned URL.
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { M3terError } from '../src/m3ter/errors';
import { redact } from '../src/log/redact';

/** Failure types the workflows and ops rely on (names are a contract). */
export const FailureTypes = {
  InvalidExportRequest: 'InvalidExportRequest',
  ExportRequestRejected: 'ExportRequestRejected',
  ExportTriggerAmbiguous: 'ExportTriggerAmbiguous',
  ExportTriggerUnavailable: 'ExportTriggerUnavailable',
  ExportJobStillRunning: 'ExportJobStillRunning',
  ExportJobNotFound: 'ExportJobNotFound',
  ExportJobFailed: 'ExportJobFailed',
  ExportJobDeadlineExceeded: 'ExportJobDeadlineExceeded',
  ExportDownloadWindowExpired: 'ExportDownloadWindowExpired',
  ExportDownloadFailed: 'ExportDownloadFailed',
  ExportDownloadUrlUnavailable: 'ExportDownloadUrlUnavailable',
  M3terAccessDenied: 'M3terAccessDenied',
} as const;

export function isTemporalFailure(err: unknown): boolean {
  return err instanceof ApplicationFailure || err instanceof CancelledFailure;
}

export function errorMessage(err: unknown): string {
  return redact(err instanceof Error ? err.message : String(err));
}

/**
 * M3terError -> ApplicationFailure of type `err.name` (e.g. `M3terServerError`), retryable as the client
 * classified it. Authentication/permission problems are configuration errors: retrying cannot fix them.
 */
export function toApplicationFailure(err: unknown, context: string): Error {
  if (isTemporalFailure(err)) return err as Error;
  if (err instanceof M3terError) {
    return ApplicationFailure.create({
      type: err.name,
      message: `${context}: ${err.message}`,
      nonRetryable: !err.retryable,
      nextRetryDelay: err.retryAfterMs,
      details: [{ status: err.status, requestId: err.requestId }],
    });
  }
  return ApplicationFailure.create({
    type: err instanceof Error ? err.name : 'Error',
    message: `${context}: ${errorMessage(err)}`,
  });
}
