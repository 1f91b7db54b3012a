// What an S3 error means: not found (a normal answer for heads, deletes and resumes), worth re-sending the
// same request, or a StorageFailed failure whose message carries the code but never a credential.
import { failure, FailureType } from '../../contract/failures';
import { redact } from '../../log/redact';

interface S3ErrorShape {
  name?: string;
  Code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
}

export function errorCode(err: unknown): string {
  const e = err as S3ErrorShape;
  return e?.Code ?? e?.name ?? 'Error';
}

export function httpStatus(err: unknown): number | undefined {
  return (err as S3ErrorShape)?.$metadata?.httpStatusCode;
}

export function isNotFound(err: unknown): boolean {
  const code = errorCode(err);
  return httpStatus(err) === 404 || code === 'NotFound' || code === 'NoSuchKey' || code === 'NoSuchUpload';
}

/** Worth re-sending the same part: corrupted or cut in transit, throttled, or a server-side hiccup. */
const RESEND_CODES = new Set([
  'XAmzContentChecksumMismatch',
  'BadDigest',
  'InvalidDigest',
  'IncompleteBody',
  'RequestTimeout',
  'SlowDown',
  'InternalError',
]);

export function worthResending(err: unknown): boolean {
  const status = httpStatus(err);
  return status === undefined || status >= 500 || status === 429 || RESEND_CODES.has(errorCode(err));
}

export function storageFailure(context: string, err: unknown) {
  const message = err instanceof Error ? err.message : String(err);
  return failure(FailureType.StorageFailed, redact(`${context}: ${errorCode(err)}: ${message}`), {
    details: { code: errorCode(err), status: httpStatus(err) },
  });
}
