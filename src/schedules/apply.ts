// `schedules apply`: makes Temporal's schedules match the definitions file. Creates what is missing,
// updates what changed (only those: a definition with the same hash is left alone), and with `prune`
// deletes schedules this tool owns whose export left the file (or lost its `schedule` block).
import { ScheduleNotFoundError, type Client, type ScheduleDescription } from '@temporalio/client';
import { definitionHash } from '../definitions/hash';
import type { ExportDefinition, ExportDefinitions } from '../definitions/types';
import {
  desiredSchedule,
  exportNameOfScheduleId,
  fieldDiff,
  isManaged,
  scheduleIdFor,
  type ScheduleContext,
} from './desired';

export const PlanAction = {
  create: 'create',
  update: 'update',
  unchanged: 'unchanged',
  delete: 'delete',
} as const;
export type PlanAction = (typeof PlanAction)[keyof typeof PlanAction];

export interface PlanItem {
  name: string;
  scheduleId: string;
  action: PlanAction;
  /** For updates: `field: old → new`. */
  changes?: string[];
}

/** The definition stored in a schedule's action input, when the schedule is ours. */
export function appliedDefinition(desc: ScheduleDescription): ExportDefinition | undefined {
  const action = desc.action as { args?: unknown[] } | undefined;
  const input = action?.args?.[0] as { definition?: ExportDefinition } | undefined;
  return input?.definition;
}

export function appliedHash(desc: ScheduleDescription): string | undefined {
  const action = desc.action as { args?: unknown[] } | undefined;
  return (action?.args?.[0] as { definitionHash?: string } | undefined)?.definitionHash;
}

async function describeOrUndefined(client: Client, scheduleId: string) {
  try {
    return await client.schedule.getHandle(scheduleId).describe();
  } catch (err) {
    if (err instanceof ScheduleNotFoundError) return undefined;
    throw err;
  }
}

/** Every schedule this tool owns, by export name. */
export async function managedSchedules(client: Client): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for await (const s of client.schedule.list()) {
    const name = exportNameOfScheduleId(s.scheduleId);
    if (name && isManaged(s)) out.set(name, s.scheduleId);
  }
  return out;
}

export async function planApply(
  client: Client,
  defs: ExportDefinitions,
  opts: { prune: boolean },
): Promise<PlanItem[]> {
  const plan: PlanItem[] = [];
  const scheduled = defs.exports.filter((d) => d.schedule);
  for (const def of scheduled) {
    const scheduleId = scheduleIdFor(def.name);
    const current = await describeOrUndefined(client, scheduleId);
    if (!current) {
      plan.push({ name: def.name, scheduleId, action: PlanAction.create });
      continue;
    }
    const applied = appliedDefinition(current);
    const hash = definitionHash(def);
    if (applied && definitionHash(applied) === hash) {
      plan.push({ name: def.name, scheduleId, action: PlanAction.unchanged });
    } else {
      const changes = applied ? fieldDiff(applied, def) : ['(schedule not created by this tool)'];
      plan.push({ name: def.name, scheduleId, action: PlanAction.update, changes });
    }
  }
  if (opts.prune) {
    const wanted = new Set(scheduled.map((d) => d.name));
    for (const [name, scheduleId] of await managedSchedules(client)) {
      if (!wanted.has(name)) plan.push({ name, scheduleId, action: PlanAction.delete });
    }
  }
  return plan;
}

export async function executePlan(
  client: Client,
  defs: ExportDefinitions,
  plan: PlanItem[],
  ctx: ScheduleContext,
): Promise<void> {
  const byName = new Map(defs.exports.map((d) => [d.name, d]));
  for (const item of plan) {
    const def = byName.get(item.name);
    if (item.action === PlanAction.create && def) {
      await client.schedule.create(desiredSchedule(def, ctx));
    } else if (item.action === PlanAction.update && def) {
      const desired = desiredSchedule(def, ctx);
      await client.schedule.getHandle(item.scheduleId).update((prev) => ({
        ...prev,
        spec: desired.spec,
        action: desired.action,
        policies: desired.policies,
        state: { ...prev.state, paused: desired.state?.paused ?? false, note: desired.state?.note },
      }));
    } else if (item.action === PlanAction.delete) {
      await client.schedule.getHandle(item.scheduleId).delete();
    }
  }
}

export function formatPlan(plan: PlanItem[]): string {
  if (plan.length === 0) return 'no scheduled exports in the file';
  const lines: string[] = [];
  for (const p of plan) {
    lines.push(`${p.action.padEnd(9)} ${p.name} (${p.scheduleId})`);
    for (const c of p.changes ?? []) lines.push(`            ${c}`);
  }
  const count = (a: PlanAction) => plan.filter((p) => p.action === a).length;
  lines.push(
    `${count('create')} to create, ${count('update')} to update, ${count('unchanged')} unchanged, ${count('delete')} to delete`,
  );
  return lines.join('\n');
}
