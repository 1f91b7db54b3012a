// The trigger's recovery: after an attempt that may have committed a job without returning it, find that
// job among the ones m3ter lists, using creation times and claims (docs/exactly-once.md, "Triggering
// exactly once"). A candidate was created in the window, is not a scheduled job, has the request's
// sourceType, and is not claimed by another run; an unclaimed one is only considered once its owner, if
// any, must have claimed it.
import { sleep } from '@temporalio/activity';
import type { AdhocExportRequest, ExportJob } from '../src/m3ter/schemas';
import { formatJobListDate } from '../src/m3ter/schemas';
import { M3terResponseValidationError } from '../src/m3ter/errors';
import { sameOwner, type ClaimOwner, type JobClaims } from './claims';
import type { ActivityLogger, Clock, M3terExportsApi, TriggerTuning } from './deps';
import { failure, FailureType } from './failures';
import type { TriggerAdhocExportInput, TriggerAdhocExportResult } from './trigger';

export type Recovery =
  { kind: 'adopted'; jobId: string } | { kind: 'none' } | { kind: 'ambiguous'; candidates: string[] };

const MAX_RECOVERY_PAGES = 10;

export interface TriggerRecoveryDeps {
  m3ter: Pick<M3terExportsApi, 'listExportJobs' | 'requestTimeoutMs'>;
  log: ActivityLogger;
  clock: Clock;
  jobClaims: JobClaims;
  tuning?: TriggerTuning;
}

function floorToSecond(ms: number): number {
  return Math.floor(ms / 1000) * 1000;
}

export function createTriggerRecovery(deps: TriggerRecoveryDeps) {
  const skewMs = deps.tuning?.clockSkewMs ?? 2_000;
  const claimWriteMarginMs = deps.tuning?.claimWriteMarginMs ?? 3_000;
  const claimPollMs = Math.max(1, deps.tuning?.claimPollMs ?? 1_000);
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
      // A job m3ter listed malformed may be the one an earlier POST created: not knowing is not "none".
      if (res.rejected)
        throw new M3terResponseValidationError('Invalid response from GET /dataexports/jobs', [
          {
            path: 'data',
            message: `${res.rejected} malformed export job(s) in the recovery window: cannot tell whether one is this run's`,
          },
        ]);
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

  return { recover, outcome };
}
