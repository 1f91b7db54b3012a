// triggerAdhocExport: POST /dataexports/adhoc exactly once per workflow.
//
// The endpoint has no idempotency key, so "retry on failure" is not safe: a timeout, a dropped connection
// or a 5xx may arrive AFTER m3ter committed the job. The design:
//
//  * The activity is idempotent across its own retries. Every attempt after the first, and every ambiguous
//    failure within an attempt, first LOOKS for a job this workflow may already have created, and only
//    POSTs when there is none. The search starts at the activity's first scheduling time
//    (`scheduledTimestampMs`, which Temporal keeps across retries and which precedes every POST of every
//    attempt) minus a clock-skew margin. So the workflow can give this activity an ordinary retry policy:
//    a worker killed mid-POST, a lost response or a 5xx all end in "adopt the committed job" or "nothing
//    was committed, send again". No heartbeat is needed to carry state between attempts.
//  * A job is a candidate when it was created in the window, is not a scheduled job, has the request's
//    sourceType, and is not claimed by another workflow (its `M3terExportJobId` search attribute, which the
//    workflow upserts the moment it learns the id). One candidate: adopt it. None: nothing was committed,
//    send again. Several: we cannot tell which one is ours (a job may hold another request's data), so fail
//    non-retryably with ExportTriggerAmbiguous and let an operator decide.
//
// Residual race (documented, not solved): m3ter jobs carry nothing that identifies the request, so
// recovery relies on time + claims. Two workflows can still pick the same job when (a) another workflow's
// job is created inside our window and its claim is not yet visible (visibility is eventually consistent;
// we re-check claims for a few seconds before adopting anything, which covers the usual lag), or (b) two
// workflows are BOTH recovering at the same time and only one of their POSTs was committed: both see the
// same single unclaimed candidate. And a POST that m3ter commits later than our lookup (after the grace
// pause) is missed and a second job is created. These windows are small (an ambiguous failure AND a
// concurrent trigger within seconds); closing them needs an idempotency key on m3ter's side.
import { activityInfo, sleep } from '@temporalio/activity';
import type { AdhocExportRequest, ExportJob } from '../src/m3ter/schemas';
import { formatJobListDate } from '../src/m3ter/schemas';
import { M3terError, M3terRequestValidationError, M3terResponseValidationError } from '../src/m3ter/errors';
import type { ActivityLogger, ClaimedJobIds, Clock, M3terExportsApi, TriggerTuning } from './deps';
import { classifyHttpStatus, HttpOutcome } from '../src/failures';
import { errorMessage, failure, FailureType, isTemporalFailure, toApplicationFailure } from './failures';
import { startKeepAlive } from './keep-alive';

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
  claimedJobIds?: ClaimedJobIds;
  tuning?: TriggerTuning;
}

type Recovery =
  { kind: 'adopted'; jobId: string } | { kind: 'none' } | { kind: 'ambiguous'; candidates: string[] };

/** How far we trust a failure: could the POST have been committed? */
type FailureClass = 'invalid' | 'rejected' | 'not-committed' | 'ambiguous';

const MAX_RECOVERY_PAGES = 10;

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

function floorToSecond(ms: number): number {
  return Math.floor(ms / 1000) * 1000;
}

export function createTriggerActivity(deps: TriggerDeps) {
  const skewMs = deps.tuning?.clockSkewMs ?? 2_000;
  const graceMs = deps.tuning?.recoveryGraceMs ?? 2_000;
  const settleRounds = deps.tuning?.claimSettleRounds ?? 3;
  const settleMs = deps.tuning?.claimSettleMs ?? 1_500;
  const maxSends = Math.max(1, deps.tuning?.maxSendsPerAttempt ?? 2);
  const keepAliveMs = deps.tuning?.keepAliveMs ?? 10_000;
  const claimed: ClaimedJobIds = deps.claimedJobIds ?? (async () => new Set<string>());

  async function listCandidates(
    request: AdhocExportRequest,
    since: number,
    until: number | undefined,
  ): Promise<ExportJob[]> {
    const out: ExportJob[] = [];
    let nextToken: string | undefined;
    for (let page = 0; page < MAX_RECOVERY_PAGES; page++) {
      const res = await deps.m3ter.listExportJobs({
        dateCreatedStart: formatJobListDate(since),
        // Exclusive and whole seconds: round up past `until`.
        ...(until === undefined ? {} : { dateCreatedEnd: formatJobListDate(floorToSecond(until) + 1000) }),
        pageSize: 100,
        nextToken,
      });
      for (const job of res.data) {
        if (job.scheduleId) continue; // scheduled runs are never ours
        if (job.sourceType && job.sourceType !== request.sourceType) continue;
        const created = job.dateCreated ? Date.parse(job.dateCreated) : NaN;
        if (!Number.isNaN(created) && (created < since || (until !== undefined && created > until))) continue;
        out.push(job);
      }
      nextToken = res.nextToken || undefined;
      if (!nextToken) break;
    }
    return out;
  }

  /**
   * Looks for a job committed by an earlier POST of this workflow, created in [notBefore, notAfter] (plus
   * clock-skew margins). Even a single unclaimed candidate is only adopted after the claims had time to
   * settle: a job whose owner got its response a moment ago gets claimed within a second or two, and
   * adopting it would give two workflows the same job (the other request's data under our name).
   */
  async function recover(
    input: TriggerAdhocExportInput,
    notBefore: number,
    notAfter?: number,
  ): Promise<Recovery> {
    const since = floorToSecond(notBefore - skewMs);
    const until = notAfter === undefined ? undefined : notAfter + skewMs;
    let candidates = (await listCandidates(input.request, since, until)).map((j) => j.id);
    for (let round = 0; ; round++) {
      if (candidates.length === 0) return { kind: 'none' };
      const owned = await claimed(candidates);
      candidates = candidates.filter((id) => !owned.has(id));
      if (candidates.length === 0) return { kind: 'none' };
      if (round >= settleRounds) {
        return candidates.length === 1
          ? { kind: 'adopted', jobId: candidates[0] }
          : { kind: 'ambiguous', candidates };
      }
      await sleep(settleMs);
    }
  }

  function outcome(r: Recovery, input: TriggerAdhocExportInput): TriggerAdhocExportResult | undefined {
    if (r.kind === 'adopted') {
      deps.log.warn(
        { workflowId: input.workflowId, jobId: r.jobId },
        'adopted an export job whose trigger response was lost',
      );
      return { jobId: r.jobId, recovered: true };
    }
    if (r.kind === 'ambiguous') {
      throw failure(
        FailureType.ExportTriggerAmbiguous,
        `the ad-hoc export request may have been committed, and ${r.candidates.length} unclaimed export jobs ` +
          `(${r.candidates.join(', ')}) were created in the same period; refusing to guess which one is ours. ` +
          'Inspect them and rerun the export if needed.',
        { details: { candidates: r.candidates } },
      );
    }
    return undefined;
  }

  return async function triggerAdhocExport(
    input: TriggerAdhocExportInput,
  ): Promise<TriggerAdhocExportResult> {
    const info = activityInfo();
    const notBefore = input.firstAttemptAt ?? info.scheduledTimestampMs;
    const ctx = { workflowId: input.workflowId, attempt: info.attempt };
    // Alive attempts are never timed out, however slow; a lost one is retried after the heartbeat timeout.
    const stopKeepAlive = startKeepAlive(undefined, keepAliveMs);
    try {
      if (info.attempt > 1) {
        const found = outcome(await recover(input, notBefore), input);
        if (found) return found;
      }
      for (let send = 1; ; send++) {
        const sentAt = deps.clock.now();
        try {
          deps.log.info({ ...ctx, send, sourceType: input.request.sourceType }, 'triggering ad-hoc export');
          const { jobId } = await deps.m3ter.createAdhocExport(input.request);
          deps.log.info({ ...ctx, jobId, sentAt: new Date(sentAt).toISOString() }, 'ad-hoc export triggered');
          return { jobId, recovered: false };
        } catch (err) {
          const cls = classifyTriggerFailure(err);
          deps.log.warn(
            { ...ctx, send, class: cls, error: errorMessage(err) },
            'ad-hoc export trigger failed',
          );
          // Invalid (InvalidExportRequest), rejected (ExportRequestRejected, M3terAccessDenied).
          if (cls === 'invalid' || cls === 'rejected')
            throw toApplicationFailure(err, 'ad-hoc export trigger');
          if (cls === 'not-committed') {
            // Nothing reached m3ter; let the retry policy pace us (the next attempt still looks first).
            throw failure(
              FailureType.ExportTriggerUnavailable,
              `could not send the export request: ${errorMessage(err)}`,
              { nextRetryDelayMs: err instanceof M3terError ? err.retryAfterMs : undefined },
            );
          }
          // Ambiguous: the job may exist. Give m3ter a moment to finish committing, then look for it. When
          // m3ter answered (a 5xx), our job, if any, was created before that answer: jobs created later
          // belong to someone else. After a timeout or a dropped connection m3ter may still be committing,
          // so there is no upper bound.
          const answeredAt =
            err instanceof M3terError && err.status !== undefined ? deps.clock.now() : undefined;
          await sleep(graceMs);
          const found = outcome(await recover(input, Math.min(notBefore, sentAt), answeredAt), input);
          if (found) return found;
          if (send >= maxSends) {
            throw failure(
              FailureType.ExportTriggerUnavailable,
              `export request failed ${send} times without creating a job: ${errorMessage(err)}`,
            );
          }
          deps.log.info({ ...ctx }, 'no job was committed by the failed trigger; sending it again');
        }
      }
    } catch (err) {
      if (isTemporalFailure(err)) throw err;
      // Failures of the recovery lookups themselves (list jobs, visibility): retryable, never "adopt blindly".
      throw toApplicationFailure(err, 'export trigger recovery');
    } finally {
      stopKeepAlive();
    }
  };
}
