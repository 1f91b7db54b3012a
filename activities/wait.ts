// waitForExportJob: waits for an ExportJob to reach SUCCEEDED or FAILED while keeping workflow history tiny.
//
// One activity polls the job for its whole life, every `fastPollMs` (1 s, start to start), so a finished
// job is noticed within a second or two whether it ran for ten seconds or six hours. Polling that often
// costs m3ter little because reads go through the worker's batcher (src/m3ter/export-job-batcher.ts): a
// list call answers up to 100 waiting jobs, with as many calls a second as the waiting jobs need, within
// the worker's share of the Config API budget. The activity heartbeats `{ polls, errors }`
// after each poll and every `keepAliveMs` while a read is queued (with hundreds of jobs waiting, a read may
// queue for several seconds), so a lost worker is noticed by the heartbeat timeout and the retry, on
// another worker, continues the count. Heartbeats add no history events: the workflow records one
// ActivityTaskScheduled/Started/Completed triple for the wait whatever the job's duration.
//
// The older tiered strategy remains available through the options, for comparison (`npm run bench -- --only
// detection`) and for deployments that want fewer held activity slots: polls `fastPollMs` apart for
// `fastPhaseMs`, then growing x`growth` up to `mediumMaxPollMs`, until `inActivityPhaseMs`, when the attempt
// ends with the retryable, benign `ExportJobStillRunning`; each later attempt polls ONCE and throws again,
// so the activity's retry policy (fixed interval, unlimited attempts, scheduleToClose = the deadline)
// becomes a slow poller.
//
// Transient errors (429, 5xx, timeouts) are counted and polling continues; only a long run of consecutive
// errors ends the attempt (retryably). 404 means the job does not exist: non-retryable after a couple of
// confirmations.
import { activityInfo, Context, sleep } from '@temporalio/activity';
import { M3terError, M3terNotFoundError } from '../src/m3ter/errors';
import type { ExportJob } from '../src/m3ter/schemas';
import type { ActivityLogger, Clock } from './deps';
import type { ExportJobReader } from '../src/m3ter/export-job-batcher';
import { startKeepAlive } from './keep-alive';
import { errorMessage, failure, FailureType, toApplicationFailure } from './failures';

export interface WaitForExportJobInput {
  jobId: string;
  /** Time between the starts of two polls. Default 1 s. */
  fastPollMs?: number;
  /** How long polls stay `fastPollMs` apart before the interval grows. Default: the whole wait. */
  fastPhaseMs?: number;
  /** Cap of the growing interval after the fast phase. Default 20 s. */
  mediumMaxPollMs?: number;
  /**
   * How long one attempt polls before ending with ExportJobStillRunning, leaving the rest to the retry
   * policy (and later attempts poll once each). Default: unbounded; every attempt polls until the job ends.
   */
  inActivityPhaseMs?: number;
  /** Interval growth after the fast phase. Default 1.5. */
  growth?: number;
  /** Consecutive failed polls tolerated before failing the attempt. Default 10. */
  maxConsecutiveErrors?: number;
  /** Longest time without a heartbeat, also while a read is queued. Default 5 s (heartbeat timeout 20 s). */
  keepAliveMs?: number;
}

export interface WaitForExportJobResult {
  jobId: string;
  status: 'SUCCEEDED' | 'FAILED';
  /** Polls made across all attempts (as far as heartbeats carried the count). */
  polls: number;
  /** Polls that failed with a transient error. */
  errors: number;
  sourceType?: string;
  dateCreated?: string;
  startedAt?: string;
}

export interface WaitProgress {
  polls: number;
  errors: number;
  lastStatus?: string;
}

interface WaitDeps {
  /** Reads a job's status: `m3ter.getExportJob`, or the worker's shared batcher. */
  readExportJob: ExportJobReader;
  log: ActivityLogger;
  clock: Clock;
  /** Defaults to the activity's cancellation-aware sleep; tests inject one that advances a fake clock. */
  sleep?: (ms: number) => Promise<void>;
}

const NOT_FOUND_CONFIRMATIONS = 3;

function terminal(job: ExportJob, progress: WaitProgress): WaitForExportJobResult | undefined {
  if (job.status !== 'SUCCEEDED' && job.status !== 'FAILED') return undefined;
  return {
    jobId: job.id,
    status: job.status,
    polls: progress.polls,
    errors: progress.errors,
    sourceType: job.sourceType,
    dateCreated: job.dateCreated,
    startedAt: job.startedAt,
  };
}

export function createWaitActivity(deps: WaitDeps) {
  const pause = deps.sleep ?? ((ms: number) => sleep(ms));
  return async function waitForExportJob(input: WaitForExportJobInput): Promise<WaitForExportJobResult> {
    const fastPollMs = input.fastPollMs ?? 1_000;
    const fastPhaseMs = input.fastPhaseMs ?? Number.POSITIVE_INFINITY;
    const mediumMaxPollMs = input.mediumMaxPollMs ?? 20_000;
    const inActivityPhaseMs = input.inActivityPhaseMs ?? Number.POSITIVE_INFINITY;
    const growth = input.growth ?? 1.5;
    const maxConsecutiveErrors = input.maxConsecutiveErrors ?? 10;
    const keepAliveMs = input.keepAliveMs ?? 5_000;
    const context = Context.current();
    const info = activityInfo();
    const prior = (info.heartbeatDetails ?? {}) as Partial<WaitProgress>;
    const progress: WaitProgress = {
      polls: prior.polls ?? 0,
      errors: prior.errors ?? 0,
      lastStatus: prior.lastStatus,
    };
    // What every heartbeat carries: the count a later attempt continues from.
    const details = () => ({ ...progress });
    const beat = () => context.heartbeat(details());
    const { jobId } = input;
    let consecutiveErrors = 0;
    let notFound = 0;

    /** One poll; returns the job, or undefined after a tolerated transient error. */
    const poll = async (): Promise<ExportJob | undefined> => {
      progress.polls++;
      try {
        const job = await deps.readExportJob(jobId);
        consecutiveErrors = 0;
        notFound = 0;
        progress.lastStatus = job.status;
        return job;
      } catch (err) {
        progress.errors++;
        consecutiveErrors++;
        if (err instanceof M3terNotFoundError) {
          if (++notFound >= NOT_FOUND_CONFIRMATIONS) {
            throw failure(FailureType.ExportJobNotFound, `export job ${jobId} not found`, {
              details: { jobId },
            });
          }
          return undefined;
        }
        if (err instanceof M3terError && !err.retryable)
          throw toApplicationFailure(err, `polling export job ${jobId}`);
        deps.log.warn(
          { jobId, polls: progress.polls, consecutiveErrors, error: errorMessage(err) },
          'export job poll failed; will poll again',
        );
        if (consecutiveErrors >= maxConsecutiveErrors)
          throw toApplicationFailure(
            err,
            `polling export job ${jobId} failed ${consecutiveErrors} times in a row`,
          );
        return undefined;
      }
    };

    const stillRunning = () => {
      // Recorded as the attempt's last heartbeat so the next attempt continues the count.
      beat();
      return failure(
        FailureType.ExportJobStillRunning,
        `export job ${jobId} is still ${progress.lastStatus ?? 'not terminal'} after ${progress.polls} polls; polling again later`,
        {
          details: { jobId, polls: progress.polls, status: progress.lastStatus },
          // Expected, not an error: the SDK then logs the retry at DEBUG instead of a WARN with a stack
          // trace every minute per long job, and does not count it in activity failure metrics.
          benign: true,
        },
      );
    };

    if (info.attempt > 1 && Number.isFinite(inActivityPhaseMs)) {
      // Tiered strategy: the retry policy is the poller now, one poll per attempt (one quick second try
      // on a transient error).
      for (let i = 0; i < 2; i++) {
        const job = await poll();
        if (job) {
          const done = terminal(job, progress);
          if (done) return done;
          break;
        }
        await pause(Math.min(fastPollMs, 2_000));
      }
      throw stillRunning();
    }

    // Heartbeats while a read is queued behind other jobs' reads; the SDK throttles what it sends.
    const stopKeepAlive = startKeepAlive(details, keepAliveMs);
    try {
      const start = deps.clock.now();
      let interval = fastPollMs;
      for (;;) {
        const polledAt = deps.clock.now();
        const job = await poll();
        if (job) {
          const done = terminal(job, progress);
          if (done) {
            deps.log.info({ jobId, status: done.status, polls: progress.polls }, 'export job finished');
            return done;
          }
        }
        beat();
        const now = deps.clock.now();
        const elapsed = now - start;
        if (elapsed >= inActivityPhaseMs) throw stillRunning();
        if (elapsed >= fastPhaseMs) interval = Math.min(Math.round(interval * growth), mediumMaxPollMs);
        // Start to start: time spent queued for the read counts towards the interval.
        const untilNext = Math.max(0, interval - (now - polledAt));
        await pause(Math.min(untilNext, Math.max(0, inActivityPhaseMs - elapsed)));
      }
    } finally {
      stopKeepAlive();
    }
  };
}
