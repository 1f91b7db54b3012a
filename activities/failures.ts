// Turns whatever an activity caught into an ApplicationFailure of the one taxonomy (src/contract/failures.ts), with
// `nextRetryDelay` from Retry-After. Messages are redacted: activity failures are stored in workflow
// history, which must never hold a secret, a token or a presigned URL.
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { M3terError, M3terRequestValidationError, M3terResponseValidationError } from '../src/m3ter/errors';
import { classifyHttpStatus, failure, FailureType, HttpOutcome } from '../src/contract/failures';
import { redact } from '../src/log/redact';

export { failure, FailureType } from '../src/contract/failures';

export function isTemporalFailure(err: unknown): boolean {
  return err instanceof ApplicationFailure || err instanceof CancelledFailure;
}

export function errorMessage(err: unknown): string {
  return redact(err instanceof Error ? err.message : String(err));
}

/**
 * The one mapping of the m3ter client's errors onto the taxonomy. Context-specific meanings (a 404 while
 * polling a job is `ExportJobNotFound`) are decided by the caller before falling back to this.
 */
export function failureTypeOfM3terError(err: M3terError): FailureType {
  if (err instanceof M3terRequestValidationError) return FailureType.InvalidExportRequest;
  if (err instanceof M3terResponseValidationError) return FailureType.M3terResponseInvalid;
  if (err.status === undefined)
    return err.retryable ? FailureType.M3terUnavailable : FailureType.UnexpectedError;
  switch (classifyHttpStatus(err.status).outcome) {
    case HttpOutcome.Denied:
      return FailureType.M3terAccessDenied;
    case HttpOutcome.Rejected:
      return FailureType.ExportRequestRejected;
    default:
      return FailureType.M3terUnavailable;
  }
}

/** Any caught error -> an ApplicationFailure of the taxonomy (Temporal failures pass through untouched). */
export function toApplicationFailure(err: unknown, context: string): Error {
  if (isTemporalFailure(err)) return err as Error;
  if (err instanceof M3terError) {
    const type = failureTypeOfM3terError(err);
    const message =
      type === FailureType.ExportRequestRejected
        ? `${context}: m3ter rejected the request (HTTP ${err.status}): ${err.m3terMessage ?? err.message}`
        : `${context}: ${err.message}`;
    return failure(type, message, {
      nextRetryDelayMs: err.retryAfterMs,
      details: { status: err.status, requestId: err.requestId },
    });
  }
  return failure(FailureType.UnexpectedError, `${context}: ${errorMessage(err)}`);
}
