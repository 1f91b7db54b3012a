// What a window run is and returns: shared by the scheduled-export and backfill workflows, the schedules
// the CLI applies and the backfill planner. Pure.
import type { FailureDescription } from './failures';
import type { PollOptions } from './inputs';
import type { ExportDefinition } from '../definitions/types';

export type WindowedExportDefinition = Pick<
  ExportDefinition,
  'name' | 'kind' | 'request' | 'window' | 'timezone' | 'storage' | 'alerting' | 'pauseAfter'
>;

export const WindowOutcome = {
  /** This call started the window's export and it succeeded. */
  exported: 'exported',
  /** The window had already been exported successfully: nothing was started. */
  alreadyExported: 'already-exported',
  /** Another parent's export of the window was running; this call waited for it and it succeeded. */
  awaited: 'awaited',
  failed: 'failed',
} as const;
export type WindowOutcome = (typeof WindowOutcome)[keyof typeof WindowOutcome];

export interface WindowRunResult {
  workflowId: string;
  windowStart: string;
  outcome: WindowOutcome;
  /** The export's result (its manifest, for stored exports) when this call saw it. */
  result?: unknown;
  failure?: FailureDescription;
}

export interface ScheduledExportInput {
  definition: WindowedExportDefinition;
  /** Hash of the whole definition (schedule included) when the schedule was applied; shown by `describe`. */
  definitionHash: string;
  /** Only when started without a schedule (tests, manual runs): the nominal time to export for. */
  nominalTime?: string;
  poll?: PollOptions;
}

export interface ScheduledExportResult extends WindowRunResult {
  nominalTime: string;
  window?: { start: string; end: string };
}
