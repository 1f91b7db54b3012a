// The failure monitor's contract: its one workflow id per namespace, its input and carried state, and the
// query and signals the CLI uses. Pure: workflows, activities and the CLI import it.
import { defineQuery, defineSignal } from '@temporalio/workflow';

export interface SeenEvent {
  id: string;
  /** Event time, epoch ms. */
  t: number;
}

export interface FreshnessEntry {
  stale: boolean;
  /** Start of the newest succeeded window when last checked. */
  newestWindowStart?: string;
}
export type FreshnessState = Record<string, FreshnessEntry>;

export const FAILURE_MONITOR_WORKFLOW_ID = 'm3ter-exports-failure-monitor';

export interface FailureMonitorState {
  highWaterMark?: string;
  recent: SeenEvent[];
  eventsSeen: number;
  alertsSent: number;
  alreadyAlerted: number;
  unowned: number;
  /** Events m3ter listed malformed (dropped, never alerted): a sign of a broken or hostile upstream. */
  eventsRejected?: number;
  /** Polls that stopped at the page cap with older events unread. */
  pollsTruncated?: number;
  polls: number;
  lastPoll?: string;
  lastError?: string;
  /** Runs of this workflow so far (1 + continue-as-new count). */
  runs: number;
  /** Per export with `freshness`: stale or not, and its newest succeeded window. */
  freshness?: FreshnessState;
  freshnessAlertsSent?: number;
  startedAt?: string;
}

export interface FailureMonitorInput {
  intervalMs: number;
  lookbackMs: number;
  /** Continue as new after this many polls (default 500, or earlier when the server suggests it). */
  pollsPerRun?: number;
  overlapMs?: number;
  pageSize?: number;
  state?: FailureMonitorState;
}

export interface FailureMonitorStatus extends Omit<FailureMonitorState, 'recent'> {
  recentIds: number;
  pollsThisRun: number;
  intervalMs: number;
  lookbackMs: number;
}

export const monitorStatusQuery = defineQuery<FailureMonitorStatus>('monitorStatus');
/** Poll now instead of at the end of the interval. */
export const pollNowSignal = defineSignal('pollNow');
/** Continue as new after the current poll (operators and tests). */
export const continueAsNewSignal = defineSignal('continueAsNew');
