// Job claims: "which workflow run owns this m3ter ExportJob?", strongly consistent and atomic.
//
// A claim is a workflow execution with the id `m3ter-job-claim:<jobId>`, started with id reuse policy
// REJECT_DUPLICATE and conflict policy FAIL (src/temporal/start-once.ts): the Temporal server creates it at
// most once per job id, so of two runs claiming one job,
// exactly one wins and the other is told who did. The owner (workflow id and run id) is in the claim's memo
// and input. Reads describe the claim by id, which reads the server's persistence, not visibility, so a
// claim is seen by every reader the moment its start returned. The trigger activity writes the claim the
// moment it learns a job id (activities/trigger.ts); the export workflow's `M3terExportJobId` search
// attribute stays for operators and the failure monitor, but no decision reads it.
//
// The claim workflow (workflows/job-claim.ts) completes in its first workflow task. Weighed variants:
//  * completes at once (chosen): one workflow task per export on the main task queue (a few ms of worker
//    time, 5 history events); the claim shows in the Temporal UI and `temporal workflow list` as a
//    Completed `exportJobClaimWorkflow` whose memo and result name the owner.
//  * a type no worker runs, closed by a short execution timeout: no worker cost, but every claim would
//    close as TimedOut (noise next to real failures) and sit open until then.
//  * terminated right after its start: two calls per claim, and every claim reads as Terminated.
//  * kept open for the recovery window: no gain (REJECT_DUPLICATE also rejects closed runs) and open
//    workflows that "nothing left open" checks and operators would have to tell apart.
//
// Retention: a closed claim rejects duplicates for as long as the namespace keeps it (its retention, 1 day
// or more). Claims only matter while some trigger's recovery may still look at the job: the recovery
// window of a trigger activity, at most its retries (under an hour), so any retention of a day or more
// suffices.
import { jobClaimWorkflowId } from '../src/contract/ids';
import { startOnce } from '../src/temporal/start-once';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';

/** The workflow type of a claim (workflows/job-claim.ts). */
export const JOB_CLAIM_WORKFLOW = 'exportJobClaimWorkflow';
/** Claims described at once by one recovery round. */
const DESCRIBE_CONCURRENCY = 10;
/** The holder reported for a claim whose owner cannot be read: it still claims the job. */
const UNKNOWN_OWNER: ClaimOwner = { workflowId: '(unknown)' };

/** The workflow run that owns a job. */
export interface ClaimOwner {
  workflowId: string;
  runId?: string;
}

export interface ExportJobClaimInput {
  jobId: string;
  owner: ClaimOwner;
}

export interface ClaimResult {
  /** True: the claim now names `owner` (this call created it, or an earlier call by the same run did). */
  won: boolean;
  /** Who holds the claim. */
  holder: ClaimOwner;
}

/** The atomic claim store the trigger activity reads and writes (activities/deps.ts). */
export interface JobClaims {
  /** Claims `jobId` for `owner` unless another run holds it; never overwrites a claim. */
  claim(jobId: string, owner: ClaimOwner): Promise<ClaimResult>;
  /** The holder of each claimed id among `ids`; unclaimed ids are absent. */
  owners(ids: string[]): Promise<Map<string, ClaimOwner>>;
}

export { jobClaimWorkflowId };

/** Same run: same workflow id, and the same run id when both know it. */
export function sameOwner(a: ClaimOwner, b: ClaimOwner): boolean {
  return a.workflowId === b.workflowId && (!a.runId || !b.runId || a.runId === b.runId);
}

function ownerFromMemo(memo: Record<string, unknown> | undefined): ClaimOwner {
  const owner = memo?.owner as Partial<ClaimOwner> | undefined;
  // A claim without a readable owner still claims the job: never treat it as free.
  if (!owner || typeof owner.workflowId !== 'string') return UNKNOWN_OWNER;
  return { workflowId: owner.workflowId, ...(owner.runId ? { runId: owner.runId } : {}) };
}

/**
 * The worker's claim store. `taskQueue` is the worker's main queue, where the claim workflow runs (the
 * trigger activity itself runs on the m3ter queue, which has no workflow worker).
 */
export function createWorkflowJobClaims(opts: { client: Client; taskQueue: string }): JobClaims {
  const { client, taskQueue } = opts;

  async function holderOf(jobId: string): Promise<ClaimOwner | undefined> {
    try {
      const desc = await client.workflow.getHandle(jobClaimWorkflowId(jobId)).describe();
      return ownerFromMemo(desc.memo);
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return undefined;
      throw err;
    }
  }

  return {
    async claim(jobId, owner) {
      const input: ExportJobClaimInput = { jobId, owner };
      const created = await startOnce(client, {
        workflowType: JOB_CLAIM_WORKFLOW,
        workflowId: jobClaimWorkflowId(jobId),
        taskQueue,
        args: [input],
        memo: { owner },
      });
      if (created) return { won: true, holder: owner };
      // Someone holds it; possibly this run (an earlier attempt, or a retried start call).
      const holder = (await holderOf(jobId)) ?? UNKNOWN_OWNER;
      return { won: sameOwner(holder, owner), holder };
    },
    async owners(ids) {
      const out = new Map<string, ClaimOwner>();
      const unique = [...new Set(ids)];
      for (let i = 0; i < unique.length; i += DESCRIBE_CONCURRENCY) {
        const chunk = unique.slice(i, i + DESCRIBE_CONCURRENCY);
        const holders = await Promise.all(chunk.map((id) => holderOf(id)));
        chunk.forEach((id, k) => {
          const h = holders[k];
          if (h) out.set(id, h);
        });
      }
      return out;
    },
  };
}
