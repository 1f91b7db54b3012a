// The `pagerduty` channel: an Events API v2 "trigger" event. dedup_key is the job id, so PagerDuty itself
// folds any repeat of the same job's alert into one incident.
import { redact } from '../log/redact';
import type { AlertMessage } from './message';

export const PAGERDUTY_EVENTS_URL = 'https://events.pagerduty.com/v2/enqueue';

/** A resolve names only the incident: PagerDuty closes the incident its dedup_key opened. */
export interface PagerDutyResolve {
  routing_key: string;
  event_action: 'resolve';
  dedup_key: string;
}

export interface PagerDutyEvent {
  routing_key: string;
  event_action: 'trigger';
  dedup_key: string;
  payload: {
    summary: string;
    source: string;
    severity: 'critical' | 'error' | 'warning' | 'info';
    timestamp: string;
    component?: string;
    group?: string;
    class: string;
    custom_details: Record<string, unknown>;
  };
  links?: Array<{ href: string; text: string }>;
}

export function pagerDutyEvent(
  m: AlertMessage,
  routingKey: string,
  at: Date,
): PagerDutyEvent | PagerDutyResolve {
  const a = m.alert;
  // An incident's messages share its id: trigger opens (and updates) one PagerDuty incident, resolve closes it.
  const dedup = a.incident?.id ?? a.jobId ?? a.eventId ?? `${a.workflowId ?? 'unknown'}:${a.kind}`;
  if (a.incident?.event === 'resolved')
    return { routing_key: routingKey, event_action: 'resolve', dedup_key: dedup };
  return {
    routing_key: routingKey,
    event_action: 'trigger',
    dedup_key: dedup,
    payload: {
      // PagerDuty truncates summaries at 1024 characters.
      summary: `${m.title}: ${redact(a.message)}`.slice(0, 1024),
      source: 'm3ter-exports',
      severity: 'error',
      timestamp: at.toISOString(),
      ...(a.exportName ? { component: a.exportName } : {}),
      ...(a.exportKind ? { group: a.exportKind } : {}),
      class: a.kind,
      custom_details: {
        ...(a.workflowId ? { workflowId: a.workflowId } : {}),
        ...(a.jobId ? { jobId: a.jobId } : {}),
        ...(m.windowText ? { window: m.windowText } : {}),
        ...(a.scheduleId ? { scheduleId: a.scheduleId } : {}),
        ...(m.rerunCommand ? { rerun: m.rerunCommand } : {}),
        ...(a.incident ? { incident: a.incident.event, failures: a.incident.failures } : {}),
      },
    },
    ...(m.temporalUiLink ? { links: [{ href: m.temporalUiLink, text: 'Temporal UI' }] } : {}),
  };
}
