// exportFailureMonitorWorkflow: one per namespace (id `m3ter-exports-failure-monitor`), forever. Every
// interval one activity pages DataExportJobFailure events newest first down to what it has seen, joins
// each new one to the workflow owning its job and claims its alert in the ledger, so an ExportJob is
// alerted once whether its export workflow or this monitor notices first (src/alerts/ledger.ts).
//
// State that must survive continue-as-new is small and carried in the input: the newest event time, the
// ids of events near it, and the counters `monitor status` shows.
import {
  condition,
  continueAsNew,
  log,
  proxyActivities,
  setHandler,
  setWorkflowOptions,
  workflowInfo,
} from '@temporalio/workflow';
import { KEPT_ALIVE_HEARTBEAT_TIMEOUT } from './common';
import { versioned } from './versioning';
import type { FailureMonitorActivities } from '../activities/failure-monitor';
import type { FreshnessActivities } from '../activities/freshness';
import {
  continueAsNewSignal,
  monitorStatusQuery,
  pollNowSignal,
  type FailureMonitorInput,
  type FailureMonitorState,
} from '../src/contract/monitor';

const { pollFailureEvents } = proxyActivities<FailureMonitorActivities>({
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '2 minutes',
  // A poll that keeps failing is recorded in lastError and tried again at the next interval.
  retry: { initialInterval: '5 seconds', maximumInterval: '1 minute', maximumAttempts: 3 },
});

const { checkFreshness } = proxyActivities<FreshnessActivities>({
  startToCloseTimeout: '5 minutes',
  heartbeatTimeout: KEPT_ALIVE_HEARTBEAT_TIMEOUT,
  retry: { initialInterval: '5 seconds', maximumInterval: '1 minute', maximumAttempts: 3 },
});

// Auto-upgrade: the monitor runs forever; pinned, it would never leave the build that first started it. Its
// code moves to the current build at its next task, so a change to it must replay its recorded histories or
// be guarded by patched() (docs/deploying.md#versioning-behaviours).
setWorkflowOptions(versioned('AUTO_UPGRADE'), exportFailureMonitorWorkflow);

export async function exportFailureMonitorWorkflow(input: FailureMonitorInput): Promise<never> {
  const state: FailureMonitorState = input.state ?? {
    recent: [],
    eventsSeen: 0,
    alertsSent: 0,
    alreadyAlerted: 0,
    unowned: 0,
    polls: 0,
    runs: 0,
    startedAt: new Date().toISOString(),
  };
  state.runs += 1;
  let pollsThisRun = 0;
  let wake = false;
  let rollOver = false;
  setHandler(monitorStatusQuery, () => {
    const { recent, held, ...rest } = state;
    return {
      ...rest,
      recentIds: recent.length,
      heldEvents: held?.length ?? 0,
      pollsThisRun,
      intervalMs: input.intervalMs,
      lookbackMs: input.lookbackMs,
    };
  });
  setHandler(pollNowSignal, () => {
    wake = true;
  });
  setHandler(continueAsNewSignal, () => {
    rollOver = true;
    wake = true;
  });

  for (;;) {
    try {
      const r = await pollFailureEvents({
        highWaterMark: state.highWaterMark,
        recent: state.recent,
        lookbackMs: input.lookbackMs,
        ...(input.overlapMs !== undefined ? { overlapMs: input.overlapMs } : {}),
        ...(input.pageSize !== undefined ? { pageSize: input.pageSize } : {}),
        ...(state.held?.length ? { held: state.held } : {}),
        ...(input.ownerWaitMs !== undefined ? { ownerWaitMs: input.ownerWaitMs } : {}),
      });
      if (r.highWaterMark) state.highWaterMark = r.highWaterMark;
      state.recent = r.recent;
      // Absent from a result of a build that did not hold failures.
      if (r.held?.length) state.held = r.held;
      else delete state.held;
      state.eventsSeen += r.newEvents;
      state.alertsSent += r.alertsSent;
      state.alreadyAlerted += r.alreadyAlerted;
      state.unowned += r.unowned;
      if (r.rejected > 0) state.eventsRejected = (state.eventsRejected ?? 0) + r.rejected;
      if (r.truncated) state.pollsTruncated = (state.pollsTruncated ?? 0) + 1;
      state.lastPoll = r.polledAt;
      delete state.lastError;
    } catch (err) {
      state.lastError = (err as Error).message;
      log.warn('failure monitor poll failed; trying again next interval', { error: state.lastError });
    }
    try {
      const f = await checkFreshness({ state: state.freshness ?? {} });
      state.freshness = f.state;
      state.freshnessAlertsSent = (state.freshnessAlertsSent ?? 0) + f.alertsSent;
    } catch (err) {
      log.warn('freshness check failed; trying again next interval', { error: (err as Error).message });
    }
    state.polls += 1;
    pollsThisRun += 1;
    if (rollOver || pollsThisRun >= (input.pollsPerRun ?? 500) || workflowInfo().continueAsNewSuggested) {
      await continueAsNew<typeof exportFailureMonitorWorkflow>({ ...input, state });
    }
    wake = false;
    await condition(() => wake, input.intervalMs);
  }
}
