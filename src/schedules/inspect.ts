// `schedules list | describe`: what the schedules this tool owns are doing, in terms of exports and
// windows: each nominal time is shown with the window it will export (computed here, on the client, with
// the same function the workflow's planning activity uses).
import type { Client, ScheduleDescription } from '@temporalio/client';
import type { ExportDefinition } from '../definitions/types';
import { windowForNominalTime, type ExportWindow } from '../windows/windows';
import { appliedDefinition, appliedHash, managedSchedules } from './apply';

export interface NominalRun {
  nominalTime: string;
  window?: ExportWindow;
}

export interface RecentRun extends NominalRun {
  workflowId: string;
  takenAt: string;
  /** RUNNING, COMPLETED, FAILED, ...; unknown once the run left retention. */
  status?: string;
}

export interface ScheduleView {
  name: string;
  scheduleId: string;
  kind?: string;
  spec: string;
  timezone?: string;
  paused: boolean;
  note?: string;
  catchupWindowMs?: number;
  overlap?: string;
  definitionHash?: string;
  definition?: ExportDefinition;
  lastRun?: RecentRun;
  recentRuns: RecentRun[];
  nextRuns: NominalRun[];
}

function windowFor(def: ExportDefinition | undefined, at: Date): ExportWindow | undefined {
  if (!def || def.window === 'none') return undefined;
  return windowForNominalTime(at, def.window, def.timezone);
}

function specText(def: ExportDefinition | undefined): string {
  const s = def?.schedule;
  if (!s) return '?';
  return s.cron ? `cron "${s.cron}"` : `every ${s.every}`;
}

async function statusOf(client: Client, workflowId: string, runId: string): Promise<string | undefined> {
  try {
    return (await client.workflow.getHandle(workflowId, runId).describe()).status.name;
  } catch {
    return undefined;
  }
}

export async function viewSchedule(
  client: Client,
  name: string,
  scheduleId: string,
  desc: ScheduleDescription,
  nextCount: number,
): Promise<ScheduleView> {
  const def = appliedDefinition(desc);
  const recentRuns: RecentRun[] = [];
  for (const r of desc.info.recentActions) {
    const { workflowId, firstExecutionRunId } = r.action.workflow;
    recentRuns.push({
      workflowId,
      nominalTime: r.scheduledAt.toISOString(),
      takenAt: r.takenAt.toISOString(),
      window: windowFor(def, r.scheduledAt),
      status: await statusOf(client, workflowId, firstExecutionRunId),
    });
  }
  return {
    name,
    scheduleId,
    kind: def?.kind,
    spec: specText(def),
    timezone: def?.timezone,
    paused: desc.state.paused,
    note: desc.state.note,
    catchupWindowMs: desc.policies.catchupWindow,
    overlap: desc.policies.overlap,
    definitionHash: appliedHash(desc),
    definition: def,
    lastRun: recentRuns[recentRuns.length - 1],
    recentRuns,
    nextRuns: desc.info.nextActionTimes.slice(0, nextCount).map((t) => ({
      nominalTime: t.toISOString(),
      window: windowFor(def, t),
    })),
  };
}

export async function listScheduleViews(client: Client): Promise<ScheduleView[]> {
  const out: ScheduleView[] = [];
  for (const [name, scheduleId] of await managedSchedules(client)) {
    const desc = await client.schedule.getHandle(scheduleId).describe();
    out.push(await viewSchedule(client, name, scheduleId, desc, 3));
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

const w = (win?: ExportWindow) => (win ? `[${win.start}, ${win.end})` : '(snapshot)');

export function formatScheduleList(views: ScheduleView[]): string {
  if (!views.length) return 'no schedules managed by m3ter-exports';
  return views
    .map((v) => {
      const last = v.lastRun
        ? `last ${v.lastRun.nominalTime} ${w(v.lastRun.window)} ${v.lastRun.status ?? '?'}`
        : 'no runs yet';
      const next = v.nextRuns[0] ? `next ${v.nextRuns[0].nominalTime}` : 'no next run';
      return `${v.name.padEnd(24)} ${String(v.kind).padEnd(11)} ${v.spec} ${v.timezone ?? ''}${v.paused ? ` PAUSED${v.note ? ` (${v.note})` : ''}` : ''}\n    ${last}; ${next}`;
    })
    .join('\n');
}

export function formatScheduleDescription(v: ScheduleView): string {
  const lines = [
    `schedule     ${v.scheduleId}`,
    `export       ${v.name} (${v.kind ?? '?'}), window ${v.definition?.window ?? '?'}, storage ${v.definition?.storage ?? '?'}`,
    `spec         ${v.spec} in ${v.timezone ?? '?'}`,
    `policies     catchupWindow ${v.catchupWindowMs === undefined ? '?' : `${v.catchupWindowMs / 1000} s`}, overlap ${v.overlap ?? '?'}`,
    `state        ${v.paused ? 'PAUSED' : 'active'}${v.note ? ` (${v.note})` : ''}`,
    `definition   ${v.definitionHash ?? '?'}`,
    `request      ${JSON.stringify(v.definition?.request ?? {})}`,
    'recent runs:',
    ...(v.recentRuns.length
      ? v.recentRuns.map((r) => `  ${r.nominalTime}  ${w(r.window)}  ${r.status ?? '?'}  ${r.workflowId}`)
      : ['  (none)']),
    'next runs (nominal time -> window exported):',
    ...v.nextRuns.map((r) => `  ${r.nominalTime}  ${w(r.window)}`),
  ];
  return lines.join('\n');
}
