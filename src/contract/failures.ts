// The one failure taxonomy: every `ApplicationFailure` type this project throws, whether Temporal may retry
// it, and the one HTTP status classifier every caller that looks at a status code uses (the m3ter client,
// the trigger, the bill CSV request, presigned-URL downloads and alert webhooks).
//
// Pure and deterministic (no Node built-ins, no I/O): workflows import it like any other workflow code.

import { ApplicationFailure, ApplicationFailureCategory } from '@temporalio/common';

/** What a failure is about: the export, its workflow and job, who noticed it. Shared by alerts and incidents. */
export interface FailureSubject {
  /** The workflow owning the failure; absent for an ExportJob no workflow of ours started. */
  workflowId?: string;
  runId?: string;
  jobId?: string;
  /** The export definition's name (or an ad-hoc export's --name), when known. */
  exportName?: string;
  exportKind?: string;
  window?: { start?: string; end?: string };
  /** The m3ter export schedule that ran the job (failures of jobs no workflow owns). */
  scheduleId?: string;
  /** The DataExportJobFailure event the monitor saw. */
  eventId?: string;
  /** Who noticed first: the export workflow or the failure monitor. */
  noticedBy?: 'workflow' | 'monitor';
}

/** Failure types (names are a contract: ops scripts, alerts and `failed list` show them). */
export const FailureType = {
  /** The request or workflow input breaks a rule (workflow input check, the client's schema). */
  InvalidExportRequest: 'InvalidExportRequest',
  /** m3ter refused the request with a 4xx that retrying cannot change (trigger, bill CSV). */
  ExportRequestRejected: 'ExportRequestRejected',
  /** The trigger may have been committed and several unclaimed jobs could be ours (trigger). */
  ExportTriggerAmbiguous: 'ExportTriggerAmbiguous',
  /** The trigger could not be sent, or was sent and provably created no job (trigger). */
  ExportTriggerUnavailable: 'ExportTriggerUnavailable',
  /** The ExportJob is not terminal yet: the wait activity's retry policy polls again (wait). */
  ExportJobStillRunning: 'ExportJobStillRunning',
  /** m3ter does not know the job id (wait). */
  ExportJobNotFound: 'ExportJobNotFound',
  /** The ExportJob ended FAILED (export workflows). */
  ExportJobFailed: 'ExportJobFailed',
  /** The ExportJob did not finish within the export's deadline (export workflows). */
  ExportJobDeadlineExceeded: 'ExportJobDeadlineExceeded',
  /** The job finished more than 24 h ago: m3ter deleted its file; re-export needed (download). */
  ExportDownloadWindowExpired: 'ExportDownloadWindowExpired',
  /** getdownloadurl has no URL for the job yet (download). */
  ExportDownloadUrlUnavailable: 'ExportDownloadUrlUnavailable',
  /** The file transfer failed after in-attempt resumes; the next attempt resumes again (download). */
  ExportDownloadFailed: 'ExportDownloadFailed',
  /**
   * The URL m3ter handed over for the file breaks a rule of docs/security.md (not https, a private or
   * metadata address, too many redirects): fetching it could reach inside the worker's network (download).
   */
  DownloadUrlRefused: 'DownloadUrlRefused',
  /** Writing to the export's storage failed (disk full, bucket unreachable) (download). */
  StorageFailed: 'StorageFailed',
  /** The export directory has not enough free space for the file (checked before and while writing) (download). */
  StorageInsufficientSpace: 'StorageInsufficientSpace',
  /** The file is larger than the worker's EXPORT_MAX_BYTES (announced or received) (download). */
  ExportTooLarge: 'ExportTooLarge',
  /** The export asks for storage this worker is not configured for (storage 's3' without a bucket) (download). */
  StorageNotConfigured: 'StorageNotConfigured',
  /** m3ter refused the credentials (401/403): configuration, not something a retry fixes (any m3ter call). */
  M3terAccessDenied: 'M3terAccessDenied',
  /** m3ter throttled, timed out, dropped the connection or answered 5xx after the client's retries (any m3ter call). */
  M3terUnavailable: 'M3terUnavailable',
  /** m3ter answered 2xx with a body that does not match its schema (any m3ter call). */
  M3terResponseInvalid: 'M3terResponseInvalid',
  /** An alert channel did not accept the alert after its own retries (alert delivery). */
  AlertDeliveryFailed: 'AlertDeliveryFailed',
  /** The export was cancelled (recorded in the status query; cancellation itself is Temporal's). */
  ExportCancelled: 'ExportCancelled',
  /** An ingest file no longer reads as it did when it was checked: it changed (ingest). */
  IngestSourceChanged: 'IngestSourceChanged',
  /** An ingest file is missing or unreadable where the worker looks for it (ingest). */
  IngestSourceUnavailable: 'IngestSourceUnavailable',
  /** m3ter refused a batch of measurements with a 4xx that retrying or splitting cannot change (ingest). */
  IngestBatchRejected: 'IngestBatchRejected',
  /** Anything not classified above: a bug or an unexpected local error; retried (any activity). */
  UnexpectedError: 'UnexpectedError',
} as const;
export type FailureType = (typeof FailureType)[keyof typeof FailureType];

/** Whether Temporal may retry an activity that failed with this type. */
export const FAILURE_RETRYABLE: Readonly<Record<FailureType, boolean>> = {
  InvalidExportRequest: false,
  ExportRequestRejected: false,
  ExportTriggerAmbiguous: false,
  ExportTriggerUnavailable: true,
  ExportJobStillRunning: true,
  ExportJobNotFound: false,
  ExportJobFailed: false,
  ExportJobDeadlineExceeded: false,
  ExportDownloadWindowExpired: false,
  ExportDownloadUrlUnavailable: true,
  ExportDownloadFailed: true,
  DownloadUrlRefused: false,
  StorageFailed: true,
  StorageInsufficientSpace: false,
  ExportTooLarge: false,
  StorageNotConfigured: false,
  M3terAccessDenied: false,
  M3terUnavailable: true,
  M3terResponseInvalid: true,
  AlertDeliveryFailed: true,
  ExportCancelled: false,
  IngestSourceChanged: false,
  IngestSourceUnavailable: false,
  IngestBatchRejected: false,
  UnexpectedError: true,
};

/**
 * Every non-retryable type: the `nonRetryableErrorTypes` of every activity proxy. Activities also set
 * `nonRetryable` on the failures they create, so the two cannot disagree.
 */
export const NON_RETRYABLE_FAILURE_TYPES: FailureType[] = (
  Object.keys(FAILURE_RETRYABLE) as FailureType[]
).filter((t) => !FAILURE_RETRYABLE[t]);

export function isFailureType(value: unknown): value is FailureType {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(FAILURE_RETRYABLE, value);
}

/** How a failure is shown and stored everywhere: its taxonomy type and a message. */
export interface FailureDescription {
  type: FailureType;
  message: string;
}

const MAX_CAUSE_DEPTH = 8;

/** The ApplicationFailure at the root of a failure chain (workflow, child, activity), if any. */
export function rootApplicationFailure(err: unknown): ApplicationFailure | undefined {
  let e: unknown = err;
  for (let i = 0; i < MAX_CAUSE_DEPTH && e; i++) {
    if (e instanceof ApplicationFailure) return e;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/**
 * The one way to turn a caught failure into a FailureDescription: the root ApplicationFailure's type when
 * it is one of ours, else UnexpectedError with the root's own type or name kept in the message (a
 * timeout, a termination, a bug), so nothing about the cause is lost.
 */
export function describeFailure(err: unknown): FailureDescription {
  const root = rootApplicationFailure(err);
  if (root && isFailureType(root.type)) return { type: root.type, message: root.message };
  const deepest = root ?? deepestCause(err);
  const name = root?.type || (deepest instanceof Error ? deepest.name : undefined);
  const message = deepest instanceof Error ? deepest.message : String(deepest);
  return {
    type: FailureType.UnexpectedError,
    message: name && name !== 'Error' ? `${name}: ${message}` : message,
  };
}

function deepestCause(err: unknown): unknown {
  let e: unknown = err;
  for (let i = 0; i < MAX_CAUSE_DEPTH; i++) {
    const next = (e as { cause?: unknown } | undefined)?.cause;
    if (!next) break;
    e = next;
  }
  return e;
}

export interface FailureOptions {
  details?: Record<string, unknown>;
  /** Server-requested delay before the next attempt (Retry-After). */
  nextRetryDelayMs?: number;
  /** Expected outcomes (a poll that finds the job still running) are BENIGN: no WARN, no failure metric. */
  benign?: boolean;
  cause?: Error;
}

/** The one way to create an ApplicationFailure: its retryability comes from the taxonomy. */
export function failure(type: FailureType, message: string, opts: FailureOptions = {}): ApplicationFailure {
  return ApplicationFailure.create({
    type,
    message,
    nonRetryable: !FAILURE_RETRYABLE[type],
    ...(opts.details ? { details: [opts.details] } : {}),
    ...(opts.nextRetryDelayMs !== undefined ? { nextRetryDelay: opts.nextRetryDelayMs } : {}),
    ...(opts.benign ? { category: ApplicationFailureCategory.BENIGN } : {}),
    ...(opts.cause ? { cause: opts.cause } : {}),
  });
}

/** What an HTTP status means for the caller. */
export const HttpOutcome = {
  Ok: 'ok',
  /** 4xx that retrying cannot change: the request itself is wrong. */
  Rejected: 'rejected',
  /** 401/403: credentials or permissions (for a presigned URL: the signature expired). */
  Denied: 'denied',
  /** 429: the server did not process the request; retry after its Retry-After. */
  Throttled: 'throttled',
  /** 408, 409, 5xx: transient; the request may have been acted on before the failure. */
  Unavailable: 'unavailable',
} as const;
export type HttpOutcome = (typeof HttpOutcome)[keyof typeof HttpOutcome];

export interface HttpStatusClass {
  outcome: HttpOutcome;
  retryable: boolean;
  /** True when a non-idempotent request may have been committed despite the error status. */
  mayHaveBeenProcessed: boolean;
}

/**
 * The one HTTP status classifier. Retryable: 408, 409, 429 and 5xx, as m3ter's official SDKs retry them
 * (docs/m3ter-api.md, "Official SDK transport behaviour"). 409 is a conflict of concurrent writes on
 * m3ter's side, so it may succeed on a retry.
 */
export function classifyHttpStatus(status: number): HttpStatusClass {
  if (status >= 200 && status < 300)
    return { outcome: HttpOutcome.Ok, retryable: false, mayHaveBeenProcessed: true };
  if (status === 429) return { outcome: HttpOutcome.Throttled, retryable: true, mayHaveBeenProcessed: false };
  if (status === 408 || status === 409 || status >= 500)
    return { outcome: HttpOutcome.Unavailable, retryable: true, mayHaveBeenProcessed: true };
  if (status === 401 || status === 403)
    return { outcome: HttpOutcome.Denied, retryable: false, mayHaveBeenProcessed: false };
  return { outcome: HttpOutcome.Rejected, retryable: false, mayHaveBeenProcessed: false };
}
