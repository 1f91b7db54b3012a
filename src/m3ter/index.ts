export { M3terClient, deriveIngestUrl, type M3terClientOptions } from './client';
export { createExportJobBatcher, type ExportJobReader, type ExportJobBatcherOptions } from './export-job-batcher';
export * from './errors';
export * from './schemas';
export { computeBackoffMs, parseRetryAfterMs, type BackoffOptions, type Jitter } from './backoff';
export type { M3terLogger, RetryMode } from './http';
export { formatPath } from './validation';
export { redact, redactUrl, Redactor, REDACTED } from './redact';
