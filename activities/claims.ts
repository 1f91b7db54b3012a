// "Is this ExportJob already owned by a workflow?" answered from Temporal visibility: every export
// workflow upserts its job id into the `M3terExportJobId` search attribute the moment it learns it.
// Visibility is eventually consistent (usually well under a second on the dev server and Cloud), which is
// why the trigger's recovery re-checks before declaring a conflict; see activities/trigger.ts.
import type { Client } from '@temporalio/client';
import { M3terExportJobId, SEARCH_ATTRIBUTE_JOB_ID } from '../workflows/search-attributes';
import type { ClaimedJobIds } from './deps';

const MAX_IDS_PER_QUERY = 50;

function quote(id: string): string {
  return `'${id.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

export function createVisibilityClaimChecker(client: Client): ClaimedJobIds {
  return async (ids: string[]): Promise<Set<string>> => {
    const wanted = new Set(ids);
    const claimed = new Set<string>();
    const unique = [...wanted];
    for (let i = 0; i < unique.length; i += MAX_IDS_PER_QUERY) {
      const chunk = unique.slice(i, i + MAX_IDS_PER_QUERY);
      const query = `${SEARCH_ATTRIBUTE_JOB_ID} IN (${chunk.map(quote).join(', ')})`;
      for await (const wf of client.workflow.list({ query })) {
        const value = wf.typedSearchAttributes.get(M3terExportJobId);
        if (value !== undefined && wanted.has(value)) claimed.add(value);
      }
    }
    return claimed;
  };
}
