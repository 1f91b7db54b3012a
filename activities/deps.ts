// Dependencies the activity factories receive. Structural types, so tests pass small fakes and the worker
// passes the real M3terClient, pino logger and storage.
import type { M3terClient } from '../src/m3ter';
import type { ExportJobReader } from '../src/m3ter/export-job-batcher';
import type { Alerter } from '../src/alerts/webhook';
import type { ExportStorage } from '../src/storage/types';

/** The slice of the m3ter client the export activities use. */
export type M3terExportsApi = Pick<
  M3terClient,
  'createAdhocExport' | 'getExportJob' | 'listExportJobs' | 'getExportDownloadUrl' | 'downloadBillsCsv'
>;

/** pino-compatible: `log.info({ jobId }, 'message')`. */
export interface ActivityLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/**
 * Which of `ids` are already owned by some workflow (its `M3terExportJobId` search attribute). The worker
 * wires this with a Temporal visibility query (see `createVisibilityClaimChecker`); tests pass a fake.
 */
export type ClaimedJobIds = (ids: string[]) => Promise<Set<string>>;

export interface ExportActivityDeps {
  m3ter: M3terExportsApi;
  storage: ExportStorage;
  /** S3 storage, for exports whose input says `storage: 's3'` (absent when the worker has no bucket). */
  s3Storage?: ExportStorage;
  log: ActivityLogger;
  clock?: Clock;
  alerter?: Alerter;
  claimedJobIds?: ClaimedJobIds;
  /**
   * How the wait reads a job's status. The worker passes one `createExportJobBatcher` shared by every wait
   * in the process; the default reads each job on its own.
   */
  readExportJob?: ExportJobReader;
  /** Replaces the activities' cancellation-aware sleep (tests with a fake clock). */
  sleep?: (ms: number) => Promise<void>;
  /** Tuning of the trigger's recovery; defaults suit production. */
  trigger?: TriggerTuning;
}

export interface TriggerTuning {
  /** Slack for clock differences between Temporal, this worker and m3ter when searching by creation time. */
  clockSkewMs?: number;
  /** Pause after an ambiguous failure before looking for the job (the server may still be committing it). */
  recoveryGraceMs?: number;
  /** Claim re-checks (and the pause between them) before adopting or declaring ambiguity: other workflows' claims may be in flight. */
  claimSettleRounds?: number;
  claimSettleMs?: number;
  /** POSTs per activity attempt before handing the pacing over to the activity's retry policy. */
  maxSendsPerAttempt?: number;
  /** Interval of the attempt's keep-alive heartbeats. Default 10 s (heartbeat timeout 30 s). */
  keepAliveMs?: number;
}
