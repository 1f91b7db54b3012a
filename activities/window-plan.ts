// Plans the export of one window: which window a nominal time stands for, its workflow id, and the child
// workflow's input. Runs as a LOCAL activity of the scheduled-export workflow (and inside the backfill's
// planning activity): the time-zone arithmetic uses Intl and the host's tz data, which may differ between
// the worker that first ran a workflow and one that replays it; an activity's result is recorded in history
// and never recomputed on replay, so the window a run exports is fixed once.
import { failure, FailureType } from '../src/contract/failures';
import { requestForWindow } from '../src/definitions/request';
import type { ExportDefinition } from '../src/definitions/types';
import { windowForNominalTime, type ExportWindow } from '../src/windows/windows';
import { windowWorkflowId } from '../src/contract/window-ids';
import type { PollOptions } from '../src/contract/inputs';
import type { WindowedExportDefinition } from '../src/contract/window-run';

export type { WindowedExportDefinition };

/** The part of an export definition a run needs (no schedule or alert settings). */
export interface WindowRunPlan {
  /** `export:<kind>:<name>:<windowStartUTC>`. */
  workflowId: string;
  kind: ExportDefinition['kind'];
  name: string;
  /** Undefined for snapshots (`window: none`). */
  window?: ExportWindow;
  /** The window start, or for snapshots the nominal time: what the id and M3terWindowStart carry. */
  windowStart: string;
  /** The ad-hoc request body (or the bill CSV request) for this window. */
  request: Record<string, unknown>;
  storage: ExportDefinition['storage'];
  poll?: PollOptions;
  /** The export's alert channels as written in its definitions file. */
  alerting?: ExportDefinition['alerting'];
}

export interface PlanWindowRunInput {
  definition: WindowedExportDefinition;
  /** The run's nominal time (UTC ISO); the window is the period ending at the start of its period. */
  nominalTime: string;
  poll?: PollOptions;
}

/** The plan for a window given by its start (backfills): the window is the period starting there. */
export function planForWindow(
  definition: WindowedExportDefinition,
  window: ExportWindow | undefined,
  windowStart: string,
  poll?: PollOptions,
): WindowRunPlan {
  return {
    workflowId: windowWorkflowId(definition.kind, definition.name, windowStart),
    kind: definition.kind,
    name: definition.name,
    ...(window ? { window } : {}),
    windowStart: new Date(windowStart).toISOString(),
    request: requestForWindow(definition as ExportDefinition, window),
    storage: definition.storage,
    ...(poll ? { poll } : {}),
    ...(definition.alerting ? { alerting: definition.alerting } : {}),
  };
}

export function planWindowRun(input: PlanWindowRunInput): WindowRunPlan {
  const { definition } = input;
  const nominal = Date.parse(input.nominalTime);
  if (Number.isNaN(nominal)) {
    throw failure(FailureType.InvalidExportRequest, 'nominalTime: must be an ISO 8601 instant');
  }
  try {
    if (definition.window === 'none') {
      // A snapshot has no window: the run is identified by its nominal time, floored to the second.
      const at = new Date(Math.floor(nominal / 1000) * 1000).toISOString();
      return planForWindow(definition, undefined, at, input.poll);
    }
    const window = windowForNominalTime(new Date(nominal), definition.window, definition.timezone);
    return planForWindow(definition, window, window.start, input.poll);
  } catch (err) {
    throw failure(FailureType.InvalidExportRequest, `export ${definition.name}: ${(err as Error).message}`);
  }
}

export function createWindowPlanActivities() {
  return {
    async planWindowRun(input: PlanWindowRunInput): Promise<WindowRunPlan> {
      return planWindowRun(input);
    },
  };
}

export type WindowPlanActivities = ReturnType<typeof createWindowPlanActivities>;
