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
//  * Claims. The moment the activity learns a job id (a POST's response, or adopting one) it claims the
//    job for its run in the claim store (activities/claims.ts): an atomic create-if-absent on the Temporal
//    server, read by id, so strongly consistent. If a POST's own job is already claimed by another run,
//    that run adopted our job: logged as an error with both workflow ids, and we keep the job (it holds
//    our request). The recovery below makes this near-impossible.
//  * Recovery. A job is a candidate when it was created in the window, is not a scheduled job, has the
//    request's sourceType, and is not claimed by another run (one claimed by this run, in an earlier
//    attempt, is adopted at once). An unclaimed candidate may belong to a run whose response is still in
//    flight, so it is only considered once that owner must have claimed it: the owner sent its POST before
//    the job was created and got its answer or timed out within the m3ter client's request timeout, then
//    claims within a margin. Recovery waits until creation (+ 1 s: m3ter may round it down) + clock skew
//    + the client's `requestTimeoutMs` + claim-write margin (1 + 2 + 30 + 3 = 36 s with the defaults),
//    re-reading the claims every second and stopping early once every candidate is claimed. Then: none
//    left: nothing of ours was committed, send again. One: claim it; if another recovering run claimed it
//    first, it was not ours, and nothing else is left: send again. Several: we cannot tell which one is ours (a job may hold another request's data), so fail non-retryably with
//    ExportTriggerAmbiguous and let an operator decide.
//
// Residual races (m3ter jobs carry nothing that identifies the request, so recovery relies on time and
// claims; only an idempotency key on m3ter's side closes them):
//  (a) An owner that does not claim in time: its worker died between the commit and the claim (its own
//      retry comes after the heartbeat timeout), or the claim write took longer than the margin (Temporal
//      unreachable). A run recovering from an ambiguous failure within seconds of that job's creation can
//      adopt it; the owner then finds it claimed and sends again (one export gets the other's data).
//  (b) Two runs recovering at the same time, only one of whose POSTs was committed: both see the same
//      single candidate. The claim lets exactly one adopt it, not necessarily its owner; the other sends
//      again.
//  (c) A POST that m3ter commits after our lookup (after the grace pause) is missed and a second job is
//      created.
import { activityInfo, sleep } from '@temporalio/activity';
import type { AdhocExportRequest, ExportJob } from '../src/m3ter/schemas';
import { formatJobListDate } from '../src/m3ter/schemas';
import { M3terError, M3terRequestValidationError, M3terResponseValidationError } from '../src/m3ter/errors';
import { sameOwner, type ClaimOwner, type JobClaims } from './claims';
import type { ActivityLogger, Clock, M3terExportsApi, TriggerTuning } from './deps';
import { classifyHttpStatus, HttpOutcome } from '../src/contract/failures';
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
  jobClaims: JobClaims;
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
  const claimWriteMarginMs = deps.tuning?.claimWriteMarginMs ?? 3_000;
  const claimPollMs = Math.max(1, deps.tuning?.claimPollMs ?? 1_000);
  const maxSends = Math.max(1, deps.tuning?.maxSendsPerAttempt ?? 2);
  const keepAliveMs = deps.tuning?.keepAliveMs ?? 10_000;
  // After a job's creation (m3ter's clock), the latest moment (ours) its owner can still be without a claim.
  const ownerClaimBoundMs = skewMs + deps.m3ter.requestTimeoutMs + claimWriteMarginMs;
  const claims = deps.jobClaims;

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
   * Looks for a job committed by an earlier POST of this run, created in [notBefore, notAfter] (plus
   * clock-skew margins); see the header for the rules.
   */
  async function recover(
    input: TriggerAdhocExportInput,
    self: ClaimOwner,
    notBefore: number,
    notAfter?: number,
  ): Promise<Recovery> {
    const since = floorToSecond(notBefore - skewMs);
    const until = notAfter === undefined ? undefined : notAfter + skewMs;
    const listedAt = deps.clock.now();
    let candidates = await listCandidates(input.request, since, until);
    // A job without a creation time was created before the listing; one with it may be rounded down to
    // the second.
    const settledAt = (job: ExportJob) => {
      const created = job.dateCreated ? Date.parse(job.dateCreated) : NaN;
      return (Number.isNaN(created) ? listedAt : created + 1_000) + ownerClaimBoundMs;
    };
    for (;;) {
      if (candidates.length === 0) return { kind: 'none' };
      const holders = await claims.owners(candidates.map((j) => j.id));
      const mine = candidates.find((j) => {
        const holder = holders.get(j.id);
        return holder !== undefined && sameOwner(holder, self);
      });
      // Claimed by this run in an earlier attempt that did not live to return it.
      if (mine) return { kind: 'adopted', jobId: mine.id };
      candidates = candidates.filter((j) => !holders.has(j.id));
      if (candidates.length === 0) return { kind: 'none' };
      const wait = Math.max(...candidates.map(settledAt)) - deps.clock.now();
      if (wait > 0) {
        await sleep(Math.min(wait, claimPollMs));
        continue;
      }
      if (candidates.length > 1) return { kind: 'ambiguous', candidates: candidates.map((j) => j.id) };
      const only = candidates[0].id;
      const { won, holder } = await claims.claim(only, self);
      if (won) return { kind: 'adopted', jobId: only };
      deps.log.info(
        { workflowId: self.workflowId, jobId: only, claimedBy: holder.workflowId },
        'another recovering workflow claimed the only candidate first: it was not ours',
      );
      return { kind: 'none' };
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
          const found = outcome(await recover(input, self, Math.min(notBefore, sentAt), answeredAt), input);
          if (found) return found;
          if (send >= maxSends) {
            throw failure(
              FailureType.ExportTriggerUnavailable,
              `export request failed ${send} times without creating a job: ${errorMessage(err)}`,
            );
          }
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
