// The incident contract: per export (and per m3ter schedule whose jobs no workflow owns), failures open ONE
// incident, further failures update it at most once per interval and in a daily digest, and the first
// success after them resolves it. Each incident is one long-lived workflow (workflows/export-incident.ts)
// whose id is the export's incident key; failures reach it by signal-with-start, successes by signal. Its
// state lives in that workflow only (carried across continue-as-new). Pure.
import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { AlertRouting } from './alert-routing';
import type { FailureSubject } from './failures';

export const EXPORT_INCIDENT_WORKFLOW = 'exportIncidentWorkflow';

/** The incident workflow of an export (its definition's name). */
export function exportIncidentWorkflowId(exportName: string): string {
  return `incident:export:${exportName}`;
}

/** The incident workflow of an m3ter export schedule whose jobs no workflow of ours owns. */
export function scheduleIncidentWorkflowId(scheduleId: string): string {
  return `incident:schedule:${scheduleId}`;
}

export interface IncidentSettings {
  /** Updates while open are sent at most this often (default 1 h; INCIDENT_UPDATE_INTERVAL). */
  updateIntervalMs: number;
  /** A digest is sent this long after the last one while open (default 24 h; INCIDENT_DIGEST_INTERVAL). */
  digestIntervalMs: number;
}

export const DEFAULT_INCIDENT_SETTINGS: IncidentSettings = {
  updateIntervalMs: 3_600_000,
  digestIntervalMs: 86_400_000,
};

/** One failure reported to an incident: what its alert said, without the routing. */
export interface IncidentFailure extends FailureSubject {
  /** The alert's ledger key: a failure reported twice (export and monitor) counts once. */
  key: string;
  kind: string;
  message: string;
  at: string;
  routing?: AlertRouting;
}

export interface IncidentSuccess {
  workflowId: string;
  at: string;
  window?: { start?: string; end?: string };
}

export const incidentFailureSignal = defineSignal<[IncidentFailure]>('incidentFailure');
export const incidentSuccessSignal = defineSignal<[IncidentSuccess]>('incidentSuccess');

/** A failed window (or job) of the incident; at most MAX_INCIDENT_FAILURES are listed, the rest counted. */
export interface IncidentWindow {
  workflowId?: string;
  jobId?: string;
  window?: { start?: string; end?: string };
  kind: string;
  at: string;
}

export const MAX_INCIDENT_FAILURES = 200;

/** A message a channel posted and can edit later: a Slack Web API message (its channel id and `ts`). */
export interface PostedMessage {
  channel: string;
  ts: string;
}
/** Keys of failures already counted, kept so a late duplicate is not counted again. */
export const MAX_INCIDENT_KEYS = 500;

export interface IncidentState {
  /** The key PagerDuty's dedup_key and the webhook's `incident.id` carry; new for each incident. */
  incidentId: string;
  subject: string;
  openedAt: string;
  failures: number;
  listed: IncidentWindow[];
  latest: IncidentFailure;
  /** When an open or update message was last sent, and how many failures it covered. */
  notifiedAt: string;
  notifiedFailures: number;
  digestAt: string;
  updatesSent: number;
  digestsSent: number;
  keys: string[];
  /** The incident's first message on each channel that can edit it, by channel name: later ones update it. */
  threads?: Record<string, PostedMessage>;
}

export interface IncidentInput {
  /** What the incident is about: `export <name>` or `m3ter schedule <id>`. */
  subject: string;
  settings: IncidentSettings;
  /**
   * Resolve when no failure came for this long: for an m3ter schedule's incident, whose successes nothing
   * reports (absent: only a success resolves).
   */
  resolveWhenQuietMs?: number;
  /** Carried across continue-as-new. */
  state?: IncidentState;
}

/** What a resolved incident reports; the workflow's result. */
export interface IncidentResolution {
  incidentId: string;
  subject: string;
  failures: number;
  openedAt: string;
  resolvedAt: string;
  updatesSent: number;
  digestsSent: number;
}

export const incidentStateQuery = defineQuery<IncidentState | undefined>('incidentState');

/** The event an incident message reports (webhook `incident.event`; PagerDuty trigger or resolve). */
export const IncidentEvent = {
  opened: 'opened',
  updated: 'updated',
  digest: 'digest',
  resolved: 'resolved',
} as const;
export type IncidentEvent = (typeof IncidentEvent)[keyof typeof IncidentEvent];

/** What an incident message says, beyond the failure alert it is built from. */
export interface IncidentNote {
  id: string;
  event: IncidentEvent;
  subject: string;
  openedAt: string;
  failures: number;
  /** Resolve: each failed window and whether it has been re-run successfully since. */
  windows?: Array<IncidentWindow & { rerun?: 'succeeded' | 'running' | 'not re-run' }>;
  /** Failed windows beyond those listed. */
  unlisted?: number;
  /** The incident's first message on channels that can edit it (see IncidentState.threads). */
  threads?: Record<string, PostedMessage>;
}
