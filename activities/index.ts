// The worker's activities: one object merging every group, built from the same dependencies.
import type { Client } from '@temporalio/client';
import { createBackfillPlanActivities } from './backfill-plan';
import { createBillsActivities } from './bills-activities';
import type { AlertRouter } from '../src/alerts/router';
import type { M3terClient } from '../src/m3ter';
import { createAlertActivities } from './alert-activities';
import { createIncidentActivities } from './incident-activities';
import { createAutoPauseActivities } from './auto-pause';
import type { IncidentSettings } from '../src/contract/incidents';
import type { ExportActivityDeps } from './deps';
import { createFailureMonitorActivities } from './failure-monitor';
import { createFreshnessActivities } from './freshness';
import { createExportActivities } from './export-activities';
import { createWindowPlanActivities } from './window-plan';
import { createWindowRunActivities } from './window-runs';
import { createIngestActivities, type IngestActivityDeps } from './ingest-activities';
import { createIngestTraceActivities } from './ingest-trace';
import { systemClock } from './deps';
import { keptAlive } from './keep-alive';
import { M3TER_QUEUE_HEARTBEAT } from '../src/contract/task-queues';
import type { ExportActivities } from './export-activities';

export interface ActivityDeps extends ExportActivityDeps {
  /**
   * Temporal client for the activities that read other workflow runs (window exports, backfills). The
   * worker always passes it; tests of the ad-hoc path may leave it out.
   */
  workflowClient?: Client;
  /** Alert channels: the alert delivery workflow's activity. */
  alertRouter?: AlertRouter;
  /** The worker's task queue, where alert delivery workflows are started (the failure monitor's poll). */
  taskQueue?: string;
  /** The events API for the failure monitor's poll (the worker passes its m3ter client). */
  events?: Pick<M3terClient, 'listEvents' | 'evaluateNotification'>;
  /** The ingest activities' m3ter client and S3 client (for s3:// files); absent: no ingest activities. */
  ingest?: Omit<IngestActivityDeps, 'log' | 'm3ter'> & {
    m3ter: Pick<M3terClient, 'submitMeasurements' | 'iterateEvents'>;
  };
  /** Failures as incidents (src/contract/incidents.ts); absent: one message per failure. */
  incidents?: IncidentSettings;
}

/**
 * The export activities, the alert and the download URL kept alive (the others heartbeat progress of their
 * own); the URL runs on the m3ter queue, whose heartbeat timeout is short (M3TER_QUEUE_HEARTBEAT).
 */
function withKeepAlives<A extends Pick<ExportActivities, 'sendAlert' | 'resolveDownloadUrl'>>(
  activities: A,
): A {
  return {
    ...activities,
    ...keptAlive({ sendAlert: activities.sendAlert }),
    ...keptAlive({ resolveDownloadUrl: activities.resolveDownloadUrl }, M3TER_QUEUE_HEARTBEAT.everyMs),
  };
}

// Activities without progress of their own are kept alive (activities/keep-alive.ts): each proxy that calls
// them sets the matching heartbeat timeout (workflows/common.ts KEPT_ALIVE_HEARTBEAT_TIMEOUT).
export function createActivities(deps: ActivityDeps) {
  const incidents =
    deps.workflowClient && deps.taskQueue
      ? createIncidentActivities({
          client: deps.workflowClient,
          taskQueue: deps.taskQueue,
          router: deps.alertRouter,
          ...(deps.incidents ? { settings: deps.incidents } : {}),
          log: deps.log,
        })
      : undefined;
  return {
    ...withKeepAlives(createExportActivities(deps)),
    ...createBillsActivities(deps),
    ...createWindowPlanActivities(),
    ...(deps.workflowClient ? createWindowRunActivities({ client: deps.workflowClient }) : {}),
    ...(deps.workflowClient ? keptAlive(createBackfillPlanActivities({ client: deps.workflowClient })) : {}),
    ...(deps.alertRouter
      ? keptAlive(
          createAlertActivities({
            router: deps.alertRouter,
            log: deps.log,
            ...(incidents && deps.incidents ? { reportToIncident: incidents.reportFailure } : {}),
            ...(deps.events ? { m3ter: deps.events } : {}),
          }),
        )
      : {}),
    ...(incidents ? keptAlive(incidents.activities) : {}),
    ...(deps.workflowClient && deps.taskQueue
      ? keptAlive(
          createAutoPauseActivities({
            client: deps.workflowClient,
            taskQueue: deps.taskQueue,
            log: deps.log,
          }),
        )
      : {}),
    ...(deps.workflowClient && deps.taskQueue && deps.events
      ? createFailureMonitorActivities({
          m3ter: deps.events,
          client: deps.workflowClient,
          taskQueue: deps.taskQueue,
          log: deps.log,
          clock: deps.clock,
        })
      : {}),
    ...(deps.workflowClient && deps.taskQueue && deps.alertRouter
      ? keptAlive(
          createFreshnessActivities({
            client: deps.workflowClient,
            taskQueue: deps.taskQueue,
            exports: deps.alertRouter.freshness,
            log: deps.log,
            clock: deps.clock,
          }),
        )
      : {}),
    ...(deps.ingest
      ? {
          ...createIngestActivities({ ...deps.ingest, log: deps.log }),
          ...createIngestTraceActivities({ ...deps.ingest, log: deps.log, clock: deps.clock ?? systemClock }),
        }
      : {}),
  };
}

export type Activities = ReturnType<typeof createActivities>;

export { createExportActivities, type ExportActivities } from './export-activities';
export { createBillsActivities, type BillsActivities } from './bills-activities';
export { createWorkflowJobClaims, type ClaimOwner, type JobClaims } from './claims';
export { FailureType } from '../src/contract/failures';
export { systemClock } from './deps';
export type { ActivityLogger, Clock, ExportActivityDeps, M3terExportsApi, TriggerTuning } from './deps';
export type * from './export-activities';
export type { ExportBillsCsvInput } from './bills-activities';
