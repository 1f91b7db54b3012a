// Dependencies the activity factories receive. Structural types, so tests pass small fakes and the worker
// passes the real M3terClient, pino logger and storage.
import type { M3terClient } from '../src/m3ter';
import type { ExportJobReader } from '../src/m3ter/export-job-batcher';
import type { Alerter } from '../src/alerts/webhook';
import type { ExportStorage } from '../src/storage/types';
import type { JobClaims } from './claims';
import type { DownloadSettings } from './download-attempt';

/** The slice of the m3ter client the export activities use. */
export type M3terExportsApi = Pick<
  M3terClient,
  | 'createAdhocExport'
  | 'getExportJob'
  | 'listExportJobs'
  | 'getExportDownloadUrl'
  | 'downloadBillsCsv'
  | 'requestTimeoutMs'
  | 'apiOrigin'
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

export interface ExportActivityDeps {
  m3ter: M3terExportsApi;
  storage: ExportStorage;
  /** S3 storage, for exports whose input says `storage: 's3'` (absent when the worker has no bucket). */
  s3Storage?: ExportStorage;
  /** Download limits: concurrent downloads, size, throughput (activities/download-attempt.ts). */
  downloads?: DownloadSettings;
  log: ActivityLogger;
  clock?: Clock;
  alerter?: Alerter;
  /**
   * Who owns which ExportJob (activities/claims.ts): the trigger writes a claim the moment it learns a job
   * id and its recovery reads them. The worker wires `createWorkflowJobClaims`; tests pass a fake.
   */
  jobClaims: JobClaims;
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
  /**
   * How long after a job's creation its owner may still be writing the claim, once its POST was answered
   * or timed out (the client's request timeout): the claim write itself. Recovery adopts a job only after
   * creation + clock skew + request timeout + this margin.
   */
  claimWriteMarginMs?: number;
  /** Pause between claim re-reads while recovery waits for candidates' owners to claim them. */
  claimPollMs?: number;
  /** POSTs per activity attempt before handing the pacing over to the activity's retry policy. */
  maxSendsPerAttempt?: number;
  /** Interval of the attempt's keep-alive heartbeats. Default M3TER_QUEUE_HEARTBEAT.everyMs. */
  keepAliveMs?: number;
}
