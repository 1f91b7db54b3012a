/** Records the sandbox keeps. Times are epoch milliseconds on the sandbox clock. */

export type JobStatus = 'PENDING' | 'RUNNING' | 'SUCCEEDED' | 'FAILED';
export type JobOutcome = 'SUCCEEDED' | 'FAILED';
export type SourceType = 'USAGE' | 'OPERATIONAL';

export interface Measurement {
  uid?: string;
  meter: string;
  account: string;
  ts: string;
  tsMs: number;
  ets?: string;
  who?: Record<string, string>;
  where?: Record<string, string>;
  what?: Record<string, string>;
  other?: Record<string, string>;
  metadata?: Record<string, string>;
  measure?: Record<string, number>;
  cost?: Record<string, number>;
  income?: Record<string, number>;
}

export interface JobRecord {
  id: string;
  seq: number;
  sourceType: SourceType;
  scheduleId: string | null;
  dateCreated: number;
  /** When the job leaves PENDING (startedAt). */
  startAt: number;
  /** When the job reaches its outcome. m3ter exposes no completion time; the sandbox needs one for the 24 h window. */
  endAt: number;
  outcome: JobOutcome;
  errorMessage: string;
  /** The validated ad-hoc request, kept to build the file when the job completes. */
  request: Record<string, unknown>;
  /** Generated-file size captured at creation from the `usageFileSizeBytes` knob. */
  usageFileSizeBytes?: number;
  /** True once files or the failure event have been produced. */
  settled: boolean;
  fileIds: string[];
}

export interface EventRecord {
  id: string;
  seq: number;
  eventName: string;
  /** The `eventType` filter value (category), e.g. DataExportJobFailure. */
  category: string;
  eventTime: number;
  dtActioned: number | null;
  m3terEvent: Record<string, unknown>;
  accountId?: string;
  resourceId?: string;
  notificationId?: string;
  notificationCode?: string;
}

interface FileBase {
  fileId: string;
  name: string;
  contentType: string;
  createdAt: number;
  /** m3ter deletes export files 24 h after the job completes (docs/m3ter-api.md, Retention). */
  deleteAt?: number;
  jobId?: string;
}
export interface BufferFile extends FileBase {
  kind: 'buffer';
  data: Buffer;
  sha256: string;
}
export interface GeneratedFile extends FileBase {
  kind: 'generated';
  size: number;
  seed: number;
}
export type FileEntry = BufferFile | GeneratedFile;

export interface RateLimitSpec {
  ratePerSec: number;
  burst: number;
}
export type RateClass = 'config' | 'dataExplorer' | 'ingest';

/** How long a new job stays PENDING, then RUNNING. */
export interface JobTiming {
  pendingMs: number;
  runningMs: number;
  /**
   * Spreads RUNNING times evenly over `runningMs` to `runningMs + runningSpreadMs`, by the job's sequence
   * number (so a run is repeatable). Default 0: every job RUNNING exactly `runningMs`.
   */
  runningSpreadMs?: number;
}

export interface RuntimeConfig {
  tokenLifetimeSeconds: number;
  downloadUrlTtlSeconds: number;
  jobTiming: JobTiming;
  nextJobOutcome: JobOutcome;
  usageFileSizeBytes?: number;
  rateLimits: Record<RateClass, RateLimitSpec>;
  /**
   * Hostile mode: every download URL handed out (getdownloadurl, the bill CSV) is this one instead of a
   * presigned URL of the sandbox's own (docs/security.md: the worker must refuse to fetch it).
   */
  hostileDownloadUrl?: string;
  /**
   * The meters ingest validates against, each with the fields its measurements must carry
   * (`measure.quantity`, `who.user`, ...). Unset: every meter is known and nothing is required.
   */
  ingestMeters?: Record<string, { required: string[] }>;
  /**
   * The next `remaining` new jobs (of `sourceType`, when given) fail with `errorMessage`; after them the
   * outcome is `nextJobOutcome` again: an export that keeps failing, then recovers.
   */
  failJobs?: { remaining: number; sourceType?: string; errorMessage?: string };
}

/** Per-route metadata read by the server's hooks (counters, faults, rate limits, auth). */
export interface RouteMeta {
  /** Token bucket class, or null for routes m3ter does not throttle per org (token, file downloads). */
  rateClass: RateClass | null;
  /** Whether a Bearer token is required (all `/organizations/...` routes). */
  auth: boolean;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    m3ter?: RouteMeta;
  }
}
