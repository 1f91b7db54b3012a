// Alert delivery and the failure monitor's poll, as activities: they hold what workflows must never see
// (channel URLs and secrets, the m3ter client) and talk to the network.
import { Context } from '@temporalio/activity';
import type { AlertRouter, ChannelResult } from '../src/alerts/router';
import type { AlertDeliveryInput } from '../src/alerts/ledger';
import type { ActivityLogger } from './deps';

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
}

export function createAlertActivities(deps: AlertActivityDeps) {
  async function deliverAlert(input: AlertDeliveryInput): Promise<AlertDeliveryResult> {
    const { alert } = input;
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
