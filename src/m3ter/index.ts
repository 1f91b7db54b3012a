export { createM3terClient, M3terClient, deriveIngestUrl, type M3terClientOptions } from './client';
export { DEFAULT_CLIENT_RATE_LIMITS, TokenBucket, type RateClass, type RateLimitSpec } from './rate-limit';
export {
  createExportJobBatcher,
  type ExportJobReader,
  type ExportJobBatcherOptions,
} from './export-job-batcher';
export * from './errors';
export * from './schemas';
export { computeBackoffMs, parseRetryAfterMs, type BackoffOptions, type Jitter } from './retry';
export type { M3terLogger, RetryMode } from './http';
export { formatPath } from './validation';
export { redact, redactUrl, Redactor, REDACTED } from './redact';
