// Alert delivery and the failure monitor's poll, as activities: they hold what workflows must never see
// (channel URLs and secrets, the m3ter client) and talk to the network.
import { Context } from '@temporalio/activity';
import type { AlertRouter, ChannelResult } from '../src/alerts/router';
import type { AlertDeliveryInput } from '../src/alerts/ledger';
import type { ActivityLogger } from './deps';
import type { M3terClient } from '../src/m3ter';
import type { Alert } from '../src/alerts/webhook';
import { applyRules, type Evaluate } from '../src/alerts/rules';
import { failureEventJobId } from './failure-events';

export interface AlertDeliveryResult {
  channels: ChannelResult[];
  delivered: string[];
  failed: string[];
}

export interface AlertActivityDeps {
  router: AlertRouter;
  log: ActivityLogger;
  /** Called once per channel that did not accept an alert after its retries (tests count here too). */
  onChannelFailure?: (channel: string) => void;
  /**
   * Incidents on: a failure that belongs to an incident is reported to it (which sends the messages)
   * instead of being posted on its own. Returns false for an alert of no incident.
   */
  reportToIncident?: (alert: AlertDeliveryInput['alert'], at: Date) => Promise<boolean>;
  /** m3ter, for routing rules (`when:`): the failure's event and the rule's evaluation. */
  m3ter?: Pick<M3terClient, 'listEvents' | 'evaluateNotification'>;
}

export function createAlertActivities(deps: AlertActivityDeps) {
  /** The DataExportJobFailure event of a job, among the newest events (the failure just happened). */
  async function failureEventId(jobId: string | undefined): Promise<string | undefined> {
    if (!jobId || !deps.m3ter) return undefined;
    const page = await deps.m3ter.listEvents({ eventType: 'DataExportJobFailure', pageSize: 100 });
    return page.data.find((e) => failureEventJobId(e) === jobId)?.id;
  }

  /** The alert with its routing narrowed by its channels' rules, and a note when they could not be used. */
  async function withRules(alert: Alert): Promise<Alert> {
    if (!alert.routing?.channels.some((c) => c.when)) return alert;
    const m3ter = deps.m3ter;
    const evaluate: Evaluate = m3ter
      ? (req) => m3ter.evaluateNotification(req)
      : () => Promise.reject(new Error('no m3ter client in this worker'));
    let eventId = alert.eventId;
    try {
      eventId ??= await failureEventId(alert.jobId);
    } catch {
      /* m3ter unreachable: applyRules falls back below */
    }
    const r = await applyRules(alert.routing, eventId, evaluate);
    if (r.note)
      deps.log.warn({ kind: alert.kind, jobId: alert.jobId, note: r.note }, 'routing rules not evaluated');
    return {
      ...alert,
      routing: r.routing,
      ...(r.note
        ? { message: `${alert.message}\n${r.note}`, details: { ...alert.details, routingNote: r.note } }
        : {}),
    };
  }

  async function deliverAlert(input: AlertDeliveryInput): Promise<AlertDeliveryResult> {
    const alert = await withRules(input.alert);
    // Claims without channels (a digest's members) are reported elsewhere; the rest may join an incident.
    if (
      input.channels === undefined &&
      deps.reportToIncident &&
      (await deps.reportToIncident(alert, new Date()))
    )
      return { channels: [], delivered: [], failed: [] };
    const channels = await deps.router.deliver(alert, input.channels);
    const failed = channels.filter((c) => !c.ok);
    for (const c of failed) {
      deps.log.warn(
        {
          channel: c.channel,
          type: c.type,
          attempts: c.attempts,
          error: c.error,
          kind: alert.kind,
          jobId: alert.jobId,
        },
        c.attempts === 0
          ? 'alert channel could not be used (its definition or a variable it needs)'
          : 'alert channel did not accept the alert after retries',
      );
      deps.onChannelFailure?.(c.channel);
      try {
        Context.current()
          .metricMeter.createCounter(
            'm3ter_exports_alert_delivery_failures',
            'deliveries',
            'alerts a channel did not accept after retries',
          )
          .add(1, { channel: c.channel, type: c.type });
      } catch {
        /* no activity context (direct calls in tests) */
      }
    }
    if (channels.length === 0)
      deps.log.warn({ kind: alert.kind, jobId: alert.jobId }, 'alert has no channel');
    deps.log.info(
      {
        kind: alert.kind,
        jobId: alert.jobId,
        workflowId: alert.workflowId,
        delivered: channels.filter((c) => c.ok).map((c) => c.channel),
      },
      'alert delivered',
    );
    return {
      channels,
      delivered: channels.filter((c) => c.ok).map((c) => c.channel),
      failed: failed.map((c) => c.channel),
    };
  }
  return { deliverAlert };
}

export type AlertActivities = ReturnType<typeof createAlertActivities>;
