// What a Temporal Schedule should look like for one export definition. Schedules this tool owns are marked
// twice: their id starts with `m3ter-exports:` and their memo says `managedBy: m3ter-exports`; `--prune`
// deletes only schedules carrying both, so a schedule someone created by hand is never touched.
//
// The definition itself (with its hash) travels in the action's input: `describe` reads it back, `apply`
// compares hashes to find what changed, and every run knows which definition started it.
import { ScheduleOverlapPolicy, type ScheduleOptions } from '@temporalio/client';
import { definitionHash } from '../definitions/hash';
import type { ExportDefinition, OverlapPolicyName } from '../definitions/types';
import type { ScheduledExportInput } from '../contract/window-run';
import { M3terExportKind, M3terExportName } from '../contract/search-attributes';
import {
  exportNameOfScheduleId,
  SCHEDULE_ID_PREFIX,
  scheduledActionWorkflowId,
  scheduleIdFor,
} from '../contract/ids';

export { exportNameOfScheduleId, SCHEDULE_ID_PREFIX, scheduleIdFor };
export const MANAGED_BY = 'm3ter-exports';

export function isManaged(s: { scheduleId: string; memo?: Record<string, unknown> }): boolean {
  return exportNameOfScheduleId(s.scheduleId) !== undefined && s.memo?.managedBy === MANAGED_BY;
}

const OVERLAP: Record<OverlapPolicyName, ScheduleOverlapPolicy> = {
  skip: ScheduleOverlapPolicy.SKIP,
  'buffer-one': ScheduleOverlapPolicy.BUFFER_ONE,
  'buffer-all': ScheduleOverlapPolicy.BUFFER_ALL,
  'allow-all': ScheduleOverlapPolicy.ALLOW_ALL,
};

export interface ScheduleContext {
  taskQueue: string;
}

/** The action's input: the definition (no secrets: alert channels are referenced by name) and its hash. */
export function scheduledInputFor(def: ExportDefinition): ScheduledExportInput & {
  definition: ExportDefinition;
} {
  return { definition: def, definitionHash: definitionHash(def) };
}

/** The full Schedule for a definition with a `schedule` block. */
export function desiredSchedule(def: ExportDefinition, ctx: ScheduleContext): ScheduleOptions {
  const schedule = def.schedule;
  if (!schedule) throw new Error(`export ${def.name} has no schedule`);
  const input = scheduledInputFor(def);
  return {
    scheduleId: scheduleIdFor(def.name),
    spec: {
      ...(schedule.cron
        ? { cronExpressions: [schedule.cron] }
        : { intervals: [{ every: schedule.everyMs! }] }),
      timezone: def.timezone,
    },
    action: {
      type: 'startWorkflow',
      workflowType: 'scheduledExportWorkflow',
      // The server appends the nominal time to this id for each run.
      workflowId: scheduledActionWorkflowId(def.name),
      taskQueue: ctx.taskQueue,
      args: [input],
      typedSearchAttributes: [
        { key: M3terExportName, value: def.name },
        { key: M3terExportKind, value: def.kind },
      ],
    },
    // Set explicitly: the server's own catch-up default is a year, whatever the SDK's comment says.
    policies: { catchupWindow: schedule.catchupWindowMs, overlap: OVERLAP[schedule.overlap] },
    state: {
      paused: schedule.paused,
      note: `applied by m3ter-exports; definition ${input.definitionHash}`,
    },
    // A schedule's memo cannot be updated, so it carries only the ownership mark; the definition and its
    // hash live in the action's input and the note, which updates rewrite.
    memo: { managedBy: MANAGED_BY },
  };
}

/** `field: old → new` for every leaf that differs (a stable, readable plan for `--dry-run`). */
export function fieldDiff(before: unknown, after: unknown, path = ''): string[] {
  const isObj = (v: unknown): v is Record<string, unknown> =>
    v !== null && typeof v === 'object' && !Array.isArray(v);
  if (isObj(before) && isObj(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
    return keys.flatMap((k) => fieldDiff(before[k], after[k], path ? `${path}.${k}` : k));
  }
  const a = JSON.stringify(before);
  const b = JSON.stringify(after);
  return a === b ? [] : [`${path}: ${a ?? '(unset)'} → ${b ?? '(unset)'}`];
}
