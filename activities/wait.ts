// waitForExportJob: waits for an ExportJob to reach SUCCEEDED or FAILED while keeping workflow history tiny.
//
// Attempt 1 polls inside the activity: every `fastPollMs` (1 s) for the first `fastPhaseMs` (30 s), so a
// short job is noticed within about a second, then with the interval growing x1.5 up to `mediumMaxPollMs`
// (20 s, under the 30 s heartbeat timeout) until `inActivityPhaseMs` (5 min). That is ~48 polls in the first
// five minutes and one a minute after, so jobs of ten minutes or more average under one poll per 10 s
// while jobs under a minute are still noticed within ~1-4 s (see `npm run bench`).
// It heartbeats `{ polls }` at each poll, and sleeps with the activity's cancellation-aware sleep. If the
// job is still not terminal it throws the retryable `ExportJobStillRunning`. From then on each retry polls
// ONCE and throws again, so the activity's retry policy (fixed interval, e.g. 60 s; unlimited attempts;
// scheduleToClose = the overall deadline) is the infrequent poller. Retries add no history events: whatever
// the job's duration the workflow records one ActivityTaskScheduled/Started/Completed triple for the wait.
//
// Transient errors (429, 5xx, timeouts) inside attempt 1 are counted and polling continues; only a long run
// of consecutive errors ends the attempt (retryably). 404 means the job does not exist: non-retryable
// after a couple of confirmations.
import { activityInfo, heartbeat, sleep } from '@temporalio/activity';
import { M3terError, M3terNotFoundError } from '../src/m3ter/errors';
import type { ExportJob } from '../src/m3ter/schemas';
import type { ActivityLogger, Clock } from './deps';
import type { ExportJobReader } from '../src/m3ter/export-job-batcher';
import { errorMessage, failure, FailureType, toApplicationFailure } from './failures';

export interface WaitForExportJobInput {
  jobId: string;
  fastPollMs?: number;
  fastPhaseMs?: number;
  mediumMaxPollMs?: number;
  inActivityPhaseMs?: number;
  /** Interval growth after the fast phase. */
  growth?: number;
  /** Consecutive failed polls tolerated in attempt 1 before failing the attempt. */
  maxConsecutiveErrors?: number;
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
    const fastPhaseMs = input.fastPhaseMs ?? 30_000;
    const mediumMaxPollMs = input.mediumMaxPollMs ?? 20_000;
    const inActivityPhaseMs = input.inActivityPhaseMs ?? 300_000;
    const growth = input.growth ?? 1.5;
    const maxConsecutiveErrors = input.maxConsecutiveErrors ?? 10;
    const info = activityInfo();
    const prior = (info.heartbeatDetails ?? {}) as Partial<WaitProgress>;
    const progress: WaitProgress = {
      polls: prior.polls ?? 0,
      errors: prior.errors ?? 0,
      lastStatus: prior.lastStatus,
    };
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
      heartbeat({ ...progress });
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

    if (info.attempt > 1) {
      // The retry policy is the poller now: one poll (one quick second try on a transient error).
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

    const start = deps.clock.now();
    let interval = fastPollMs;
    for (;;) {
      const job = await poll();
      if (job) {
        const done = terminal(job, progress);
        if (done) {
          deps.log.info({ jobId, status: done.status, polls: progress.polls }, 'export job finished');
          return done;
        }
      }
      heartbeat({ ...progress });
      const elapsed = deps.clock.now() - start;
      if (elapsed >= inActivityPhaseMs) throw stillRunning();
      if (elapsed >= fastPhaseMs) interval = Math.min(Math.round(interval * growth), mediumMaxPollMs);
      await pause(Math.min(interval, Math.max(0, inActivityPhaseMs - elapsed)));
    }
  };
}
