// Every workflow and schedule id scheme in one place. Ids are a contract: a window, a backfill, a claim or
// an alert is found again by computing its id, so two callers must never spell one differently. Window ids
// have their own module (./window-ids) because workflow code parses them.
import { windowStartForId } from './window-ids';
import type { ExportKind, Reprocess } from './vocabulary';

export { windowWorkflowId, parseWindowWorkflowId, windowIdPrefix } from './window-ids';
export { FAILURE_MONITOR_WORKFLOW_ID } from './monitor';

/** Schedules this tool owns: `m3ter-exports:<export name>`. */
export const SCHEDULE_ID_PREFIX = 'm3ter-exports:';

export function scheduleIdFor(exportName: string): string {
  return `${SCHEDULE_ID_PREFIX}${exportName}`;
}

export function exportNameOfScheduleId(scheduleId: string): string | undefined {
  return scheduleId.startsWith(SCHEDULE_ID_PREFIX) ? scheduleId.slice(SCHEDULE_ID_PREFIX.length) : undefined;
}

/** The id of a schedule's action; the server appends `-<nominal time>` to each start. */
export function scheduledActionWorkflowId(exportName: string): string {
  return `scheduled:${exportName}`;
}

/** `backfill:<name>:<from>:<to>:<reprocess>`: the same request attaches to the same backfill. */
export function backfillWorkflowId(name: string, from: string, to: string, reprocess: Reprocess): string {
  return `backfill:${name}:${windowStartForId(from)}:${windowStartForId(to)}:${reprocess}`;
}

/**
 * An ad-hoc export: `export:<kind>:<name|adhoc>:<startDate|all>:<hash12>`, where the hash is of the
 * canonical request (src/definitions/hash.ts computes it: hashing needs node:crypto, which workflow code
 * cannot load). Parts are reduced to `[A-Za-z0-9._-]` so the id is readable and shell-safe.
 */
export function adhocExportWorkflowId(
  kind: ExportKind,
  name: string | undefined,
  startDate: string | undefined,
  requestHash: string,
): string {
  return [
    'export',
    kind,
    name ? idPart(name) : 'adhoc',
    startDate ? idPart(startDate) : 'all',
    requestHash,
  ].join(':');
}

function idPart(s: string): string {
  return (
    s
      .replace(/[^A-Za-z0-9._-]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 80) || 'x'
  );
}

/** The claim that a run owns an ExportJob (activities/claims.ts). */
export function jobClaimWorkflowId(jobId: string): string {
  return `m3ter-job-claim:${jobId}`;
}

/** What an alert's ledger key is made of. */
export interface AlertKeyParts {
  kind: string;
  jobId?: string;
  eventId?: string;
  workflowId?: string;
  runId?: string;
}

/**
 * The alert ledger key: one per ExportJob whatever the failure; without a job id, one per monitor event, or
 * one per workflow run and failure type (a trigger that may or may not have created a job).
 */
export function alertLedgerId(alert: AlertKeyParts): string {
  // A job's landed event is claimed apart from its failure alerts.
  if (alert.kind === 'ExportLanded') return `alert:landed:${alert.jobId ?? alert.workflowId ?? 'unknown'}`;
  if (alert.jobId) return `alert:${alert.jobId}`;
  if (alert.eventId) return `alert:event:${alert.eventId}`;
  return `alert:run:${alert.workflowId ?? 'unknown'}:${alert.runId ?? 'unknown'}:${alert.kind}`;
}

/** Freshness alerts: one per export, state and newest window, so a repeated check sends nothing new. */
export function freshnessAlertId(
  state: 'stale' | 'recovered',
  exportName: string,
  newestWindowStart?: string,
) {
  return `alert:${state}:${exportName}:${newestWindowStart ?? 'none'}`;
}
