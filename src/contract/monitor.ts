// The failure monitor's contract: its one workflow id per namespace, its input and carried state, and the
// query and signals the CLI uses. Pure: workflows, activities and the CLI import it.
import { defineQuery, defineSignal } from '@temporalio/workflow';

export interface SeenEvent {
  id: string;
  /** Event time, epoch ms. */
  t: number;
}

/**
 * A failure event of a job no workflow had claimed when the monitor read it, young enough that its owner's
 * trigger may still be recovering it (a lost POST response): held, not alerted, until the owner has claimed
 * the job or could no longer.
 */
export interface HeldFailure {
  eventId: string;
  /** Event time, epoch ms. */
  t: number;
  jobId: string;
  scheduleId?: string;
  reason?: string;
  sourceType?: string;
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
  /** Failure events waiting for their owner to claim the job (see HeldFailure). */
  held?: HeldFailure[];
}

export interface FailureMonitorInput {
  intervalMs: number;
  lookbackMs: number;
  /** Continue as new after this many polls (default 500, or earlier when the server suggests it). */
  pollsPerRun?: number;
  overlapMs?: number;
  pageSize?: number;
  /**
   * How long after its event time an unowned failure is held for its owner to claim the job (default
   * 3 minutes; MONITOR_OWNER_WAIT): at least the trigger's recovery bound, so a job whose POST response was
   * lost and that failed within seconds is alerted by its owner, on its export's channels.
   */
  ownerWaitMs?: number;
  state?: FailureMonitorState;
}

export interface FailureMonitorStatus extends Omit<FailureMonitorState, 'recent' | 'held'> {
  recentIds: number;
  /** Failure events held for their owner right now. */
  heldEvents?: number;
  pollsThisRun: number;
  intervalMs: number;
  lookbackMs: number;
}

export const monitorStatusQuery = defineQuery<FailureMonitorStatus>('monitorStatus');
/** Poll now instead of at the end of the interval. */
export const pollNowSignal = defineSignal('pollNow');
/** Continue as new after the current poll (operators and tests). */
export const continueAsNewSignal = defineSignal('continueAsNew');
