// Auto-pause (src/contract/auto-pause.ts): after a failed window of a scheduled export whose definition
// sets `pauseAfter`, read the export's latest windows and, when the rule is met, pause its schedule with a
// note naming the rule and alert the export's channels with the command that resumes it. A schedule that
// is already paused (by hand, or by an earlier check) is left as it is.
import { ScheduleNotFoundError, type Client } from '@temporalio/client';
import { claimAlert } from '../src/alerts/ledger';
import type { AlertRouting } from '../src/contract/alert-routing';
import {
  AUTO_PAUSE_NOTE_PREFIX,
  pauseRuleMet,
  pauseRuleText,
  type PauseRule,
} from '../src/contract/auto-pause';
import { scheduleIdFor } from '../src/contract/ids';
import { M3terExportName, M3terWindowStart } from '../src/contract/search-attributes';
import { RunState, runStateOf } from './window-runs';
import type { ActivityLogger } from './deps';

export interface CheckAutoPauseInput {
  exportName: string;
  rule: PauseRule;
  /** The window that just failed (visibility may not show its failure yet). */
  failedWorkflowId: string;
  failedWindowStart: string;
  routing?: AlertRouting;
}

export interface CheckAutoPauseResult {
  /** True when this check paused the schedule. */
  paused: boolean;
  failed: number;
  considered: number;
  /** Why nothing was done, when the rule was met. */
  skipped?: 'already-paused' | 'no-schedule';
}

export interface AutoPauseActivityDeps {
  client: Client;
  taskQueue: string;
  log: ActivityLogger;
  cliName?: string;
}

const EXPORT_TYPES = "('adhocExportWorkflow', 'billsCsvExportWorkflow')";

export function createAutoPauseActivities(deps: AutoPauseActivityDeps) {
  /** The latest finished run of each window of the export, newest window first: true = failed. */
  async function latestOutcomes(input: CheckAutoPauseInput, needed: number): Promise<boolean[]> {
    const query = `WorkflowType IN ${EXPORT_TYPES} AND ${M3terExportName.name} = '${input.exportName}'`;
    const latest = new Map<string, { start: string; at: number; state: RunState }>();
    for await (const wf of deps.client.workflow.list({ query })) {
      const start = wf.typedSearchAttributes.get(M3terWindowStart)?.toISOString();
      if (!start) continue;
      const prev = latest.get(wf.workflowId);
      if (!prev || wf.startTime.getTime() > prev.at)
        latest.set(wf.workflowId, { start, at: wf.startTime.getTime(), state: runStateOf(wf.status.name) });
    }
    latest.set(input.failedWorkflowId, {
      start: input.failedWindowStart,
      at: Date.now(),
      state: RunState.failed,
    });
    return [...latest.values()]
      .filter((r) => r.state !== RunState.running)
      .sort((a, b) => b.start.localeCompare(a.start))
      .slice(0, needed)
      .map((r) => r.state === RunState.failed);
  }

  async function checkAutoPause(input: CheckAutoPauseInput): Promise<CheckAutoPauseResult> {
    const needed = 'consecutive' in input.rule ? input.rule.consecutive : input.rule.of;
    const outcomes = await latestOutcomes(input, needed);
    const counted = { failed: outcomes.filter(Boolean).length, considered: outcomes.length };
    if (!pauseRuleMet(input.rule, outcomes)) return { paused: false, ...counted };

    const scheduleId = scheduleIdFor(input.exportName);
    const handle = deps.client.schedule.getHandle(scheduleId);
    try {
      if ((await handle.describe()).state.paused)
        return { paused: false, ...counted, skipped: 'already-paused' };
    } catch (err) {
      if (err instanceof ScheduleNotFoundError) return { paused: false, ...counted, skipped: 'no-schedule' };
      throw err;
    }
    const rule = pauseRuleText(input.rule);
    const unpause = `${deps.cliName ?? 'm3ter-exports'} schedules unpause ${input.exportName}`;
    await handle.pause(
      `${AUTO_PAUSE_NOTE_PREFIX}: ${rule} (latest ${input.failedWorkflowId}); resume: ${unpause}`,
    );
    deps.log.warn({ exportName: input.exportName, rule, ...counted }, 'schedule auto-paused');
    await claimAlert(
      deps.client,
      deps.taskQueue,
      {
        kind: 'ExportAutoPaused',
        exportName: input.exportName,
        message:
          `Schedule ${scheduleId} paused: ${counted.failed} of its last ${counted.considered} windows failed ` +
          `(${rule}). It triggers no ExportJob until resumed: ${unpause}`,
        noticedBy: 'workflow',
        details: { rule, failed: counted.failed, considered: counted.considered, unpause },
        ...(input.routing ? { routing: input.routing } : {}),
      },
      `alert:auto-paused:${input.exportName}:${input.failedWorkflowId}`,
    );
    return { paused: true, ...counted };
  }

  return { checkAutoPause };
}

export type AutoPauseActivities = ReturnType<typeof createAutoPauseActivities>;
