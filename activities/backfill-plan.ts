// Plans a backfill one page at a time: which windows of the range come next, and what each needs given its
// window id's latest run. The backfill workflow calls it as an activity (the window arithmetic uses Intl,
// which must not run in workflow code; the recorded result is what replay uses), and `backfill --dry-run`
// calls the same function directly, so the dry run shows exactly the plan the workflow would follow.
//
// State comes from Temporal visibility, one `WorkflowId IN (...)` query per page: the window ids are
// exact, so the query needs no search attribute that a run started by other means might lack. Visibility
// is eventually consistent, so the plan is advice: runWindow still lets Temporal's id reuse policy decide,
// and a window the plan thought missing but that just succeeded is reported as already exported, never
// exported twice.
import type { Client } from '@temporalio/client';
import { failure, FailureType } from '../src/contract/failures';
import {
  countWindowsInRange,
  windowsInRange,
  type ExportWindow,
  type WindowUnit,
} from '../src/windows/windows';
import { Reprocess, REPROCESS_VALUES } from '../src/contract/backfill';
import type { PollOptions } from '../src/contract/inputs';
import { planForWindow, type WindowedExportDefinition, type WindowRunPlan } from './window-plan';
import { RunState, runStateOf } from './window-runs';

/** What the backfill does with a window. */
export const BackfillAction = {
  /** No run yet: export it. */
  run: 'run',
  /** Left alone: already succeeded, or failed with `reprocess: none`. */
  skip: 'skip',
  /** A run is in progress under the window id: wait for it, start nothing. */
  await: 'await',
  /** Export again under the same id (failed with `failed`/`all`, succeeded with `all`). */
  rerun: 'rerun',
} as const;
export type BackfillAction = (typeof BackfillAction)[keyof typeof BackfillAction];

export function actionFor(state: RunState, reprocess: Reprocess): BackfillAction {
  switch (state) {
    case RunState.missing:
      return BackfillAction.run;
    case RunState.running:
      return BackfillAction.await;
    case RunState.succeeded:
      return reprocess === Reprocess.all ? BackfillAction.rerun : BackfillAction.skip;
    default:
      return reprocess === Reprocess.none ? BackfillAction.skip : BackfillAction.rerun;
  }
}

export interface PlannedWindow {
  workflowId: string;
  window: ExportWindow;
  /** The state of the window id's latest run when the page was planned. */
  state: RunState;
  action: BackfillAction;
  /** The run's plan; absent for skipped windows (it would only weigh on the backfill's history). */
  plan?: WindowRunPlan;
}

export interface PlanBackfillPageInput {
  /** A windowed definition (`window: none` has no range to backfill). */
  definition: WindowedExportDefinition;
  /** UTC ISO instants: windows whose start is in [from, to), `from` floored to the start of its window. */
  from: string;
  to: string;
  reprocess?: Reprocess;
  newestFirst?: boolean;
  /** The last window start of the previous page (in the page order); absent for the first page. */
  after?: string;
  /** At most this many windows. */
  limit: number;
  /** Passed through to every window's export (tests shorten the polling). */
  poll?: PollOptions;
}

export interface BackfillPage {
  windows: PlannedWindow[];
  /** The cursor of the next page (this page's last window start), absent when the range is exhausted. */
  next?: string;
  /** The number of windows in the whole range; on the first page only (it costs a walk of the range). */
  total?: number;
}

/** Windows per visibility query: keeps the query text a few kilobytes long. */
export const VISIBILITY_BATCH = 100;
/** The most windows one page may hold (a page is one activity result in the backfill's history). */
export const MAX_PAGE = 1000;

// Upper bounds of a window's length, used to guess how far back a newest-first page reaches; a guess that
// falls short (dates a zone skipped) is corrected by walking from the range start.
const MAX_WINDOW_MS: Record<WindowUnit, number> = {
  hour: 2 * 3_600_000,
  day: 26 * 3_600_000,
  week: 7 * 26 * 3_600_000,
  month: 32 * 26 * 3_600_000,
};

function invalid(message: string): never {
  throw failure(FailureType.InvalidExportRequest, message);
}

function windowPage(
  input: PlanBackfillPageInput,
  unit: WindowUnit,
): { windows: ExportWindow[]; more: boolean } {
  const { from, to, limit, after } = input;
  const tz = input.definition.timezone;
  if (!input.newestFirst) {
    const ws = windowsInRange(from, to, unit, tz, { limit: limit + 1, ...(after ? { after } : {}) });
    return { windows: ws.slice(0, limit), more: ws.length > limit };
  }
  // Newest first: the `limit + 1` latest windows starting before the cursor (or before `to`).
  const fromMs = Date.parse(from);
  const endMs = after ? Date.parse(after) : Date.parse(to);
  const end = new Date(Math.min(endMs, Date.parse(to)));
  const guess = Math.max(fromMs, end.getTime() - (limit + 2) * MAX_WINDOW_MS[unit]);
  let ws = windowsInRange(new Date(guess), end, unit, tz);
  if (ws.length <= limit && guess > fromMs) ws = windowsInRange(from, end, unit, tz);
  // windowsInRange floors its start to a window start; never reach before the range's own first window.
  const first = windowsInRange(from, to, unit, tz, { limit: 1 })[0];
  if (first) ws = ws.filter((w) => w.start >= first.start);
  const picked = ws.slice(-(limit + 1)).reverse();
  return { windows: picked.slice(0, limit), more: picked.length > limit };
}

/** The latest run's state of each id (by start time; ids without a run are missing). */
export async function latestRunStates(client: Client, ids: string[]): Promise<Map<string, RunState>> {
  const latest = new Map<string, { start: number; state: RunState }>();
  for (let i = 0; i < ids.length; i += VISIBILITY_BATCH) {
    const chunk = ids.slice(i, i + VISIBILITY_BATCH);
    // Window ids are `export:<kind>:<name>:<instant>` with a validated name: no quote can occur in them.
    const query = `WorkflowId IN (${chunk.map((id) => `'${id}'`).join(', ')})`;
    for await (const run of client.workflow.list({ query })) {
      const start = run.startTime.getTime();
      const seen = latest.get(run.workflowId);
      if (!seen || start >= seen.start) {
        latest.set(run.workflowId, { start, state: runStateOf(run.status.name) });
      }
    }
  }
  return new Map(ids.map((id) => [id, latest.get(id)?.state ?? RunState.missing]));
}

/**
 * One page of the backfill's plan: up to `limit` windows after the cursor, each with its latest run's
 * state and the action the backfill takes, and the cursor of the next page.
 */
export async function planBackfillPage(client: Client, input: PlanBackfillPageInput): Promise<BackfillPage> {
  const { definition } = input;
  const reprocess = input.reprocess ?? Reprocess.failed;
  if (!(REPROCESS_VALUES as readonly string[]).includes(reprocess))
    invalid(`reprocess: must be one of ${REPROCESS_VALUES.join(', ')}`);
  if (!(Number.isInteger(input.limit) && input.limit >= 1 && input.limit <= MAX_PAGE)) {
    invalid(`limit: must be a whole number from 1 to ${MAX_PAGE}`);
  }
  if (definition.window === 'none') {
    invalid(
      `export ${definition.name}: window none is a snapshot; a backfill needs hour, day, week or month`,
    );
  }
  const unit = definition.window;
  let page: { windows: ExportWindow[]; more: boolean };
  let plans: WindowRunPlan[];
  let total: number | undefined;
  try {
    if (!(Date.parse(input.from) < Date.parse(input.to))) invalid('from: must be before to');
    page = windowPage(input, unit);
    plans = page.windows.map((w) => planForWindow(definition, w, w.start, input.poll));
    if (input.after === undefined)
      total = countWindowsInRange(input.from, input.to, unit, definition.timezone);
  } catch (err) {
    if (err instanceof RangeError) invalid(`backfill of ${definition.name}: ${err.message}`);
    throw err;
  }
  const states = await latestRunStates(
    client,
    plans.map((p) => p.workflowId),
  );
  const windows = plans.map((plan, i): PlannedWindow => {
    const state = states.get(plan.workflowId) ?? RunState.missing;
    const action = actionFor(state, reprocess);
    return {
      workflowId: plan.workflowId,
      window: page.windows[i],
      state,
      action,
      ...(action === BackfillAction.skip ? {} : { plan }),
    };
  });
  const last = page.windows[page.windows.length - 1];
  return {
    windows,
    ...(page.more && last ? { next: last.start } : {}),
    ...(total !== undefined ? { total } : {}),
  };
}

export function createBackfillPlanActivities(deps: { client: Client }) {
  return {
    async planBackfillPage(input: PlanBackfillPageInput): Promise<BackfillPage> {
      return planBackfillPage(deps.client, input);
    },
  };
}

export type BackfillPlanActivities = ReturnType<typeof createBackfillPlanActivities>;
export { Reprocess } from '../src/contract/backfill';
