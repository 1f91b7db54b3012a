// Incidents' side effects (src/contract/incidents.ts): reporting a claimed failure to its export's incident
// (signal-with-start), reporting an export's success (signal, only when an incident is open), rendering and
// sending an incident's messages through the alert router, and reading whether failed windows have been
// re-run since.
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { AlertRouter, ChannelResult } from '../src/alerts/router';
import type { Alert } from '../src/alerts/webhook';
import {
  EXPORT_INCIDENT_WORKFLOW,
  exportIncidentWorkflowId,
  incidentFailureSignal,
  incidentSuccessSignal,
  scheduleIncidentWorkflowId,
  type IncidentFailure,
  type IncidentInput,
  type IncidentNote,
  type IncidentSettings,
  type IncidentSuccess,
} from '../src/contract/incidents';
import { alertLedgerId } from '../src/contract/ids';
import { isFailureType } from '../src/contract/failures';
import { RunState, runStateOf } from './window-runs';
import type { ActivityLogger } from './deps';

/** Failed windows a resolve or digest message names; the rest are counted. */
const LISTED_IN_MESSAGE = 10;

/** The incident an alert belongs to: its export's, or its m3ter schedule's when no workflow owns the job. */
export function incidentOf(alert: Alert): { workflowId: string; subject: string } | undefined {
  if (!isFailureType(alert.kind)) return undefined;
  if (alert.exportName)
    return { workflowId: exportIncidentWorkflowId(alert.exportName), subject: `export ${alert.exportName}` };
  if (!alert.workflowId && alert.scheduleId)
    return {
      workflowId: scheduleIncidentWorkflowId(alert.scheduleId),
      subject: `m3ter schedule ${alert.scheduleId}`,
    };
  return undefined;
}

export interface IncidentActivityDeps {
  client: Client;
  taskQueue: string;
  router?: AlertRouter;
  /** Absent: incidents are off (INCIDENTS=off); successes are still reported to incidents left open. */
  settings?: IncidentSettings;
  log: ActivityLogger;
}

export interface DeliverIncidentMessageInput {
  failure: IncidentFailure;
  note: IncidentNote;
  /** The success that resolves the incident. */
  success?: IncidentSuccess;
}

export interface ReportExportSucceededInput {
  exportName: string;
  workflowId: string;
  window?: { start?: string; end?: string };
}

function windowText(w?: { start?: string; end?: string }): string {
  return w?.start ? (w.end ? `${w.start} → ${w.end}` : `from ${w.start}`) : 'no window';
}

function listed(note: IncidentNote): string {
  // In window order, whatever order the failures arrived in.
  const windows = [...(note.windows ?? [])].sort((a, b) =>
    (a.window?.start ?? a.at).localeCompare(b.window?.start ?? b.at),
  );
  const shown = windows.slice(0, LISTED_IN_MESSAGE).map((w) => {
    const what = w.window?.start ? windowText(w.window) : (w.jobId ?? w.workflowId ?? 'job');
    return w.rerun ? `${what} (${w.rerun === 'succeeded' ? 're-run, succeeded' : w.rerun})` : what;
  });
  const more = windows.length - shown.length + (note.unlisted ?? 0);
  return `${shown.join('; ')}${more > 0 ? `; and ${more} more` : ''}`;
}

/** The alert an incident message is rendered from (every channel renders alerts). */
export function incidentAlert(input: DeliverIncidentMessageInput): Alert {
  const { failure: f, note } = input;
  const base: Alert = {
    kind: f.kind as Alert['kind'],
    message: f.message,
    ...(f.exportName ? { exportName: f.exportName } : {}),
    ...(f.exportKind ? { exportKind: f.exportKind } : {}),
    ...(f.scheduleId ? { scheduleId: f.scheduleId } : {}),
    ...(f.routing ? { routing: f.routing } : {}),
    ...(f.noticedBy ? { noticedBy: f.noticedBy } : {}),
    incident: note,
  };
  const failed = `${note.failures} failure${note.failures === 1 ? '' : 's'} since ${note.openedAt}`;
  const latest = {
    ...(f.workflowId ? { workflowId: f.workflowId } : {}),
    ...(f.runId ? { runId: f.runId } : {}),
    ...(f.jobId ? { jobId: f.jobId } : {}),
    ...(f.window ? { window: f.window } : {}),
    ...(f.eventId ? { eventId: f.eventId } : {}),
  };
  switch (note.event) {
    case 'opened':
      return { ...base, ...latest };
    case 'updated':
      return { ...base, ...latest, message: `Latest failure (${windowText(f.window)}): ${f.message}` };
    case 'digest':
      return { ...base, ...latest, message: `Still failing: ${failed}. Failed: ${listed(note)}` };
    case 'resolved': {
      const s = input.success;
      const how = s
        ? `${s.window ? `window ${windowText(s.window)}` : 'an export'} succeeded`
        : `no failure since ${f.at}`;
      return {
        ...base,
        kind: 'IncidentResolved',
        ...(s?.window ? { window: s.window } : {}),
        message: `Recovered: ${how}, after ${failed}. Failed: ${listed(note)}`,
        details: { ...(s ? { succeeded: s.workflowId } : {}) },
      };
    }
  }
}

export function createIncidentActivities(deps: IncidentActivityDeps) {
  /** Reports a claimed failure alert to its incident; false when it belongs to none. */
  async function reportFailure(alert: Alert, at: Date): Promise<boolean> {
    const incident = incidentOf(alert);
    if (!incident || !deps.settings) return false;
    const failure: IncidentFailure = {
      key: alertLedgerId(alert),
      kind: alert.kind,
      message: alert.message,
      at: at.toISOString(),
      ...(alert.workflowId ? { workflowId: alert.workflowId } : {}),
      ...(alert.runId ? { runId: alert.runId } : {}),
      ...(alert.jobId ? { jobId: alert.jobId } : {}),
      ...(alert.exportName ? { exportName: alert.exportName } : {}),
      ...(alert.exportKind ? { exportKind: alert.exportKind } : {}),
      ...(alert.window ? { window: alert.window } : {}),
      ...(alert.scheduleId ? { scheduleId: alert.scheduleId } : {}),
      ...(alert.eventId ? { eventId: alert.eventId } : {}),
      ...(alert.noticedBy ? { noticedBy: alert.noticedBy } : {}),
      ...(alert.routing ? { routing: alert.routing } : {}),
    };
    const input: IncidentInput = {
      subject: incident.subject,
      settings: deps.settings,
      // Nothing reports an m3ter schedule's successes: its incident ends after a quiet digest interval.
      ...(alert.exportName ? {} : { resolveWhenQuietMs: deps.settings.digestIntervalMs }),
    };
    await deps.client.workflow.signalWithStart(EXPORT_INCIDENT_WORKFLOW, {
      workflowId: incident.workflowId,
      taskQueue: deps.taskQueue,
      args: [input],
      signal: incidentFailureSignal,
      signalArgs: [failure],
    });
    deps.log.info({ incident: incident.workflowId, key: failure.key }, 'failure reported to its incident');
    return true;
  }

  /** Tells the export's incident, if one is open, that a window succeeded. */
  async function reportExportSucceeded(input: ReportExportSucceededInput): Promise<{ open: boolean }> {
    const success: IncidentSuccess = {
      workflowId: input.workflowId,
      at: new Date().toISOString(),
      ...(input.window ? { window: input.window } : {}),
    };
    try {
      await deps.client.workflow
        .getHandle(exportIncidentWorkflowId(input.exportName))
        .signal(incidentSuccessSignal, success);
      return { open: true };
    } catch (err) {
      // No incident open (none ever, or resolved and completed): nothing to resolve.
      if (err instanceof WorkflowNotFoundError) return { open: false };
      throw err;
    }
  }

  async function deliverIncidentMessage(input: DeliverIncidentMessageInput): Promise<ChannelResult[]> {
    if (!deps.router) return [];
    const alert = incidentAlert(input);
    const results = await deps.router.deliver(alert);
    for (const c of results.filter((r) => !r.ok))
      deps.log.warn(
        {
          channel: c.channel,
          type: c.type,
          error: c.error,
          incident: input.note.id,
          event: input.note.event,
        },
        'alert channel did not accept an incident message',
      );
    return results;
  }

  /** Whether each failed window's id has since run again: its latest run succeeded, runs, or not. */
  async function rerunStates(input: {
    workflowIds: string[];
  }): Promise<Record<string, 'succeeded' | 'running' | 'not re-run'>> {
    const out: Record<string, 'succeeded' | 'running' | 'not re-run'> = {};
    for (const id of [...new Set(input.workflowIds)].slice(0, 200)) {
      let state: RunState = RunState.missing;
      try {
        state = runStateOf((await deps.client.workflow.getHandle(id).describe()).status.name);
      } catch (err) {
        if (!(err instanceof WorkflowNotFoundError)) throw err;
      }
      out[id] =
        state === RunState.succeeded ? 'succeeded' : state === RunState.running ? 'running' : 'not re-run';
    }
    return out;
  }

  return { reportFailure, activities: { reportExportSucceeded, deliverIncidentMessage, rerunStates } };
}

export type IncidentActivities = ReturnType<typeof createIncidentActivities>['activities'];
