// What an alert is, and the plain JSON payload the default webhook channel receives (the router delivers it).
//
// The payload is built from an allow-list of fields and every string in it is redacted, so neither an API
// secret, a bearer token nor a presigned URL can leave through an alert.
import type { AlertRouting } from '../contract/alert-routing';
import type { IncidentNote } from '../contract/incidents';
import type { LandedFile } from './landed';
import type { FailureSubject, FailureType } from '../contract/failures';
import { redact } from '../log/redact';

/**
 * An alert reports one failure of the taxonomy, or a freshness change of a scheduled export: its newest
 * succeeded window got older than its `freshness` (ExportStale), or a newer window succeeded since
 * (ExportRecovered).
 */
export type AlertKind =
  | FailureType
  | 'ExportStale'
  | 'ExportRecovered'
  | 'IncidentResolved'
  /** A window's file is stored: the `onSuccess` channels get a landed event (./landed.ts). */
  | 'ExportLanded'
  /** A schedule was paused by its `pauseAfter` rule. */
  | 'ExportAutoPaused'
  /** m3ter rejected rows of an ingested file (`ingest --alert`). */
  | 'IngestRejected';

export interface Alert extends FailureSubject {
  kind: AlertKind;
  message: string;
  details?: Record<string, unknown>;
  /**
   * The export's channels as its definitions file wrote them (`${VAR}` unresolved), resolved by the worker
   * when it sends; absent: the worker's own routing. Never part of a payload.
   */
  routing?: AlertRouting;
  /** Set on the messages of an incident (src/contract/incidents.ts): opened, updated, digest, resolved. */
  incident?: IncidentNote;
  /** ExportLanded: the stored file, as its manifest describes it. */
  landed?: LandedFile;
}

export interface AlertPayload extends Omit<Alert, 'routing' | 'landed'> {
  source: 'm3ter-export-worker';
  at: string;
}

export interface Alerter {
  /** True when alerts leave the process (a webhook is configured). */
  readonly enabled: boolean;
  /** Delivers one alert; throws when every attempt failed. */
  send(alert: Alert): Promise<void>;
}

export interface AlertLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

function redactValue(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return redact(value);
  if (value === null || typeof value !== 'object') return value;
  if (depth > 5) return undefined;
  if (Array.isArray(value)) return value.slice(0, 50).map((v) => redactValue(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (/authorization|secret|token|password|url/i.test(k)) continue;
    out[k] = redactValue(v, depth + 1);
  }
  return out;
}

/** The exact JSON body that is POSTed (exported for tests and for the log line). */
export function alertPayload(alert: Alert, at: Date): AlertPayload {
  return {
    source: 'm3ter-export-worker',
    kind: alert.kind,
    ...(alert.workflowId ? { workflowId: alert.workflowId } : {}),
    ...(alert.runId ? { runId: alert.runId } : {}),
    ...(alert.jobId ? { jobId: alert.jobId } : {}),
    message: redact(alert.message),
    ...(alert.exportName ? { exportName: alert.exportName } : {}),
    ...(alert.exportKind ? { exportKind: alert.exportKind } : {}),
    ...(alert.window ? { window: redactValue(alert.window) as Alert['window'] } : {}),
    ...(alert.scheduleId ? { scheduleId: redact(alert.scheduleId) } : {}),
    ...(alert.eventId ? { eventId: alert.eventId } : {}),
    ...(alert.noticedBy ? { noticedBy: alert.noticedBy } : {}),
    ...(alert.details ? { details: redactValue(alert.details) as Record<string, unknown> } : {}),
    ...(alert.incident ? { incident: redactValue(withoutThreads(alert.incident)) as IncidentNote } : {}),
    at: at.toISOString(),
  };
}

/** Which Slack messages an incident edits is the Slack channel's business, not a webhook receiver's. */
function withoutThreads(note: IncidentNote): IncidentNote {
  const { threads: _threads, ...rest } = note;
  return rest;
}
