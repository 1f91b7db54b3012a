// triggerAdhocExport: POST /dataexports/adhoc exactly once per workflow, although the endpoint has no
// idempotency key. Every attempt after the first, and every failure that may have been committed, first
// looks for a job this workflow already created (./trigger-recovery.ts) and only POSTs when there is none;
// the job a POST returns is claimed for the run at once (./claims.ts). The design, its bounds and the races
// that remain are in docs/exactly-once.md.
import { activityInfo, sleep } from '@temporalio/activity';
import type { AdhocExportRequest } from '../src/m3ter/schemas';
import { M3terError, M3terRequestValidationError, M3terResponseValidationError } from '../src/m3ter/errors';
import { type ClaimOwner, type JobClaims } from './claims';
import type { ActivityLogger, Clock, M3terExportsApi, TriggerTuning } from './deps';
import { classifyHttpStatus, HttpOutcome } from '../src/contract/failures';
import { M3TER_QUEUE_HEARTBEAT } from '../src/contract/task-queues';
import { errorMessage, failure, FailureType, isTemporalFailure, toApplicationFailure } from './failures';
import { startKeepAlive } from './keep-alive';
import { createTriggerRecovery } from './trigger-recovery';

export interface TriggerAdhocExportInput {
  request: AdhocExportRequest;
  workflowId: string;
  /**
   * Lower bound (epoch ms) of when the first POST for this workflow could have been sent. Defaults to the
   * activity's first scheduling time; tests and callers that schedule the trigger more than once pass it.
   */
  firstAttemptAt?: number;
}

export interface TriggerAdhocExportResult {
  jobId: string;
  /** True when the job was found by recovery (its POST response had been lost) rather than returned by a POST. */
  recovered: boolean;
}

interface TriggerDeps {
  m3ter: M3terExportsApi;
  log: ActivityLogger;
  clock: Clock;
  jobClaims: JobClaims;
  tuning?: TriggerTuning;
}

/** How far we trust a failure: could the POST have been committed? */
type FailureClass = 'invalid' | 'rejected' | 'not-committed' | 'ambiguous';

export function classifyTriggerFailure(err: unknown): FailureClass {
  if (err instanceof M3terRequestValidationError) return 'invalid';
  // 2xx with a body we could not read: m3ter committed a job whose id we did not get.
  if (err instanceof M3terResponseValidationError) return 'ambiguous';
  if (err instanceof M3terError) {
    if (err.status !== undefined) {
      const { outcome } = classifyHttpStatus(err.status);
      if (outcome === HttpOutcome.Rejected || outcome === HttpOutcome.Denied) return 'rejected';
      // m3ter throttles before processing.
      if (outcome === HttpOutcome.Throttled) return 'not-committed';
    }
    // The client knows whether the request can have reached m3ter (5xx, timeouts, drops after sending).
    if (err.mayHaveBeenProcessed) return 'ambiguous';
    // Retryable and not processed: the connection was never established (ECONNREFUSED, ENOTFOUND).
    if (err.retryable) return 'not-committed';
  }
  // Anything we cannot classify might have been committed.
  return 'ambiguous';
}

export function createTriggerActivity(deps: TriggerDeps) {
  const graceMs = deps.tuning?.recoveryGraceMs ?? 2_000;
  const maxSends = Math.max(1, deps.tuning?.maxSendsPerAttempt ?? 2);
  const keepAliveMs = deps.tuning?.keepAliveMs ?? M3TER_QUEUE_HEARTBEAT.everyMs;
  const claims = deps.jobClaims;
  const { recover, outcome } = createTriggerRecovery(deps);

  /**
   * A POST failed. Refused or never sent: fail the attempt with the matching type. Maybe committed: give
   * m3ter a moment to finish committing, then look for the job; returns it when found, undefined when the
   * request may be sent again.
   */
  async function afterFailedSend(
    err: unknown,
    at: { input: TriggerAdhocExportInput; self: ClaimOwner; send: number; notBefore: number },
  ): Promise<TriggerAdhocExportResult | undefined> {
    const cls = classifyTriggerFailure(err);
    deps.log.warn(
      { workflowId: at.input.workflowId, send: at.send, class: cls, error: errorMessage(err) },
      'ad-hoc export trigger failed',
    );
    // Invalid (InvalidExportRequest), rejected (ExportRequestRejected, M3terAccessDenied).
    if (cls === 'invalid' || cls === 'rejected') throw toApplicationFailure(err, 'ad-hoc export trigger');
    if (cls === 'not-committed') {
      // Nothing reached m3ter; let the retry policy pace us (the next attempt still looks first).
      throw failure(
        FailureType.ExportTriggerUnavailable,
        `could not send the export request: ${errorMessage(err)}`,
        {
          nextRetryDelayMs: err instanceof M3terError ? err.retryAfterMs : undefined,
        },
      );
    }
    // When m3ter answered (a 5xx), our job, if any, was created before that answer: jobs created later
    // belong to someone else. After a timeout or a dropped connection m3ter may still be committing, so
    // there is no upper bound.
    const answeredAt = err instanceof M3terError && err.status !== undefined ? deps.clock.now() : undefined;
    await sleep(graceMs);
    const found = outcome(await recover(at.input, at.self, at.notBefore, answeredAt), at.input);
    if (found) return found;
    if (at.send >= maxSends) {
      throw failure(
        FailureType.ExportTriggerUnavailable,
        `export request failed ${at.send} times without creating a job: ${errorMessage(err)}`,
      );
    }
    return undefined;
  }

  /** Claims the job a POST of ours returned. */
  async function claimPosted(jobId: string, self: ClaimOwner): Promise<void> {
    let result;
    try {
      result = await claims.claim(jobId, self);
    } catch (err) {
      // Retryable: the next attempt finds the job by recovery and claims it then.
      throw toApplicationFailure(err, `claiming export job ${jobId}`);
    }
    if (!result.won) {
      // Another run's recovery adopted the job our POST created before we could claim it (see the header):
      // it now exports our request under its name. Ours it stays: this POST's response says so.
      deps.log.error(
        { workflowId: self.workflowId, jobId, claimedBy: result.holder.workflowId },
        `export job ${jobId} created by ${self.workflowId} was already claimed by ${result.holder.workflowId}`,
      );
    }
  }

  return async function triggerAdhocExport(
    input: TriggerAdhocExportInput,
  ): Promise<TriggerAdhocExportResult> {
    const info = activityInfo();
    const notBefore = input.firstAttemptAt ?? info.scheduledTimestampMs;
    const self: ClaimOwner = { workflowId: input.workflowId, runId: info.workflowExecution?.runId };
    const ctx = { workflowId: input.workflowId, attempt: info.attempt };
    // Alive attempts are never timed out, however slow; a lost one is retried after the heartbeat timeout.
    const stopKeepAlive = startKeepAlive(undefined, keepAliveMs);
    try {
      if (info.attempt > 1) {
        const found = outcome(await recover(input, self, notBefore), input);
        if (found) return found;
      }
      for (let send = 1; ; send++) {
        const sentAt = deps.clock.now();
        let jobId: string;
        try {
          deps.log.info({ ...ctx, send, sourceType: input.request.sourceType }, 'triggering ad-hoc export');
          ({ jobId } = await deps.m3ter.createAdhocExport(input.request));
        } catch (err) {
          const found = await afterFailedSend(err, {
            input,
            self,
            send,
            notBefore: Math.min(notBefore, sentAt),
          });
          if (found) return found;
          deps.log.info({ ...ctx }, 'no job was committed by the failed trigger; sending it again');
          continue;
        }
        await claimPosted(jobId, self);
        deps.log.info({ ...ctx, jobId, sentAt: new Date(sentAt).toISOString() }, 'ad-hoc export triggered');
        return { jobId, recovered: false };
      }
    } catch (err) {
      if (isTemporalFailure(err)) throw err;
      // Failures of the recovery lookups themselves (list jobs, claims): retryable, never "adopt blindly".
      throw toApplicationFailure(err, 'export trigger recovery');
    } finally {
      stopKeepAlive();
    }
  };
}
