// exportJobClaimWorkflow: the claim on one m3ter ExportJob (activities/claims.ts). Its workflow id is the
// claim (`m3ter-job-claim:<jobId>`, started once per job id); it completes in its first workflow task and
// returns its input, so the owner shows in its result as well as its memo.
import { setWorkflowOptions } from '@temporalio/workflow';
import { versioned } from './versioning';
import type { ExportJobClaimInput } from '../activities/claims';

// Pinned: it completes in its first workflow task (docs/deploying.md#versioning-behaviours).
setWorkflowOptions(versioned('PINNED'), exportJobClaimWorkflow);

export async function exportJobClaimWorkflow(input: ExportJobClaimInput): Promise<ExportJobClaimInput> {
  return input;
}
