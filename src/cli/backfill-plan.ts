// `backfill --dry-run`: each window of the range with its state and the action a backfill would take.
import { type Client } from '@temporalio/client';
import { planBackfillPage, type PlannedWindow } from '../../activities/backfill-plan';
import type { WindowedExportDefinition } from '../../activities/window-plan';

import type { PreparedBackfill } from './backfill-prepare';

export interface DryRunPlan {
  workflowId: string;
  windows: Array<{ workflowId: string; start: string; end: string; state: string; action: string }>;
  totals: Record<string, number>;
}

/** Every window's state and action, page by page, exactly as the workflow would plan them now. */
export async function planBackfill(client: Client, p: PreparedBackfill): Promise<DryRunPlan> {
  const windows: PlannedWindow[] = [];
  let after: string | undefined;
  for (;;) {
    const page = await planBackfillPage(client, {
      definition: p.input.definition as WindowedExportDefinition,
      from: p.input.from,
      to: p.input.to,
      reprocess: p.input.reprocess,
      newestFirst: p.input.newestFirst ?? false,
      ...(after ? { after } : {}),
      limit: 100,
    });
    windows.push(...page.windows);
    if (!page.next) break;
    after = page.next;
  }
  const totals: Record<string, number> = { windows: windows.length, run: 0, rerun: 0, await: 0, skip: 0 };
  for (const w of windows) totals[w.action]++;
  return {
    workflowId: p.workflowId,
    windows: windows.map((w) => ({
      workflowId: w.workflowId,
      start: w.window.start,
      end: w.window.end,
      state: w.state,
      action: w.action,
    })),
    totals,
  };
}

export function formatPlan(plan: DryRunPlan): string {
  const rows = [
    ['WINDOW START', 'WINDOW END', 'STATE', 'ACTION'],
    ...plan.windows.map((w) => [w.start, w.end, w.state, w.action]),
  ];
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  const table = rows
    .map((r) =>
      r
        .map((v, c) => v.padEnd(widths[c]))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
  const t = plan.totals;
  return (
    `${table}\n\n${t.windows} windows: ${t.run} run, ${t.rerun} rerun, ${t.await} await, ${t.skip} skip` +
    ` (dry run: nothing started; backfill id ${plan.workflowId})`
  );
}

// ---------------------------------------------------------------------------------------------------------
// Progress and summary
